"""The bench's scenarios: the people and codes they draw on (Context), the request list each
builds for wrk, the housekeeping that lets a run start from the same city, and the log-ins made
once per build."""

import datetime as dt
import random
import time
import urllib.parse

from bench import city
from bench.city import log, open_db
from bench.client import Client, SessionStore

# The report's day one (MISSION.md): e-licences, transfers, truck passes, evidence reviews,
# and licence checks for the rest of the 2.9 million transactions.
DAY_ONE = {"apply": 2_720_000, "transfer": 35_000, "truckpass": 15_000, "evidence": 12_000}
DAY_ONE_TOTAL = 2_900_000
DAY_ONE["check"] = DAY_ONE_TOTAL - sum(DAY_ONE.values())


# Sessions made once per build: holders for the code page, applicants for applying.
HOLDER_SESSIONS = 6_000


def reset_applicants(meta: dict) -> int:
    """Take back the e-licences issued to the applicants in earlier runs, so each run applies
    for fresh ones (bench housekeeping, straight in the database; their sessions stay good)."""
    from models import ELicence

    first = meta["applicants"]["first_user_id"]
    last = first + meta["applicants"]["count"]
    with open_db().connection_context():
        return (
            ELicence.delete().where((ELicence.holder >= first) & (ELicence.holder < last)).execute()
        )


class Context:
    """What the scenarios draw on: the city's description, sessions, unused codes."""

    def __init__(self, meta: dict, sessions: SessionStore, port: int):
        """Load the e-licences' handles and secrets once."""
        from models import ELicence

        self.meta, self.sessions, self.port = meta, sessions, port
        self.rng = random.Random()
        first = meta["holders"]["first_user_id"]
        last = first + meta["holders"]["count"]
        with open_db().connection_context():
            rows = (
                ELicence.select(ELicence.handle, ELicence.secret)
                .where((ELicence.holder >= first) & (ELicence.holder < last))
                .tuples()
            )
            self.elicences = list(rows)
        self.rng.shuffle(self.elicences)
        self.next_elicence = 0  # each e-licence's code is used once per step in a whole run
        self.integrator_pid = None  # the integrator beside the servers (its CPU is counted)
        self.last_step = 0
        self.first_step = None

    def cookie(self, user_id: int) -> str:
        """The Cookie header of a logged-in user."""
        return "jg_session=" + self.sessions.get(user_id)["cookie"]

    def fresh_codes(self, n: int, seconds_needed: float) -> list[str]:
        """`n` verifier paths of different e-licences with codes valid for `seconds_needed`.

        A code is accepted in its own step (CODE_STEP_SECONDS) and the next one, once: codes of
        the current step are made when enough of that window remains, else after the next step
        begins.
        """
        from rules import licencecode
        from rules.licencecode import CODE_STEP_SECONDS

        now = time.time()
        step = int(now // CODE_STEP_SECONDS)
        if self.first_step is None and step <= last_code_step():
            # An earlier run used codes of this step: its e-licences must not come again.
            step = last_code_step() + 1
            wait = step * CODE_STEP_SECONDS - now + 0.05
            log(f"  waiting {wait:.0f} s for a code step no earlier run used")
            time.sleep(wait)
            now = time.time()
        if (step + 2) * CODE_STEP_SECONDS - now < seconds_needed:
            wait = (step + 1) * CODE_STEP_SECONDS - now + 0.05
            log(f"  waiting {wait:.0f} s for a fresh code step")
            time.sleep(wait)
            step += 1
        if self.next_elicence + n > len(self.elicences):
            # Every e-licence may be used again, with a code of a step after the last one used
            # (a smaller city, or several configurations in one run, go round the list).
            if step <= self.last_step:
                wait = (self.last_step + 1) * CODE_STEP_SECONDS - time.time() + 0.05
                log(f"  waiting {wait:.0f} s for a code step this run has not used")
                time.sleep(max(0.0, wait))
                step = self.last_step + 1
            self.next_elicence = 0
        self.last_step = max(self.last_step, step)
        chosen = self.elicences[self.next_elicence : self.next_elicence + n]
        self.next_elicence += n
        if self.first_step is None:
            self.first_step = step
        # A code is accepted as its own step: a later run must use a later one.
        record_code_step(step)
        return [f"/v/{handle}/{licencecode.qr_code(secret, step)}" for handle, secret in chosen]

    def applicants(self, n: int) -> list[int]:
        """`n` applicants' user ids (all without an e-licence after reset_applicants)."""
        first = self.meta["applicants"]["first_user_id"]
        ids = list(range(first, first + min(n, self.meta["applicants"]["count"])))
        return [uid for uid in ids if self.sessions.get(uid)]

    def apply_line(self, uid: int) -> str:
        """POST /licence/apply as the applicant, with their session's CSRF token."""
        s = self.sessions.get(uid)
        return f"POST\t/licence/apply\tjg_session={s['cookie']}\tcsrf_token={s['csrf']}"


def last_code_step() -> int:
    """The latest code step an earlier run may have used (0 when none)."""
    try:
        with open(city.STEP_FILE) as fh:
            return int(fh.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def record_code_step(step: int) -> None:
    """Remember that codes of steps up to `step` may have been used."""
    if step > last_code_step():
        with open(city.STEP_FILE, "w") as fh:
            fh.write(str(step))


def line(path: str, cookie: str = "") -> str:
    """A GET line of a request list."""
    return f"GET\t{path}\t{cookie}\t"


def sc_ceiling(ctx: Context, n: int) -> dict:
    """The ceiling: /healthz, which opens and closes a database connection like every page."""
    return {"lines": [line("/healthz")] * 100, "expect": '"ok"', "wrap": True}


def sc_verify(ctx: Context, n: int) -> dict:
    """An inspector's phone checks the QR of a different e-licence each time: valid codes."""
    paths = ctx.fresh_codes(n, ctx.duration + 5)
    return {"lines": [line(p) for p in paths], "expect": 'content="valid"', "wrap": False}


def sc_code_page(ctx: Context, n: int) -> dict:
    """Holders show their code (亮码): the page with the QR, many different holders."""
    holders = ctx.holder_ids[:]
    ctx.rng.shuffle(holders)
    lines = [line("/licence/code", ctx.cookie(uid)) for uid in holders[:n]]
    return {"lines": lines, "expect": "<svg", "wrap": True}


def sc_apply(ctx: Context, n: int) -> dict:
    """Citizens with a licence record apply for the e-licence and get it at once (303)."""
    reset_applicants(ctx.meta)
    uids = ctx.applicants(n)
    return {"lines": [ctx.apply_line(uid) for uid in uids], "expect": "-", "wrap": False}


def reset_truck_passes(meta: dict) -> int:
    """Remove the passes earlier runs gave the bench trucks (bench housekeeping, like
    reset_applicants), so every run starts from the same city."""
    from models import TruckPass, TruckPassZone

    ids = [t["id"] for t in meta["trucks"]]
    with open_db().connection_context(), open_db().atomic():
        passes = TruckPass.select(TruckPass.id).where(TruckPass.vehicle.in_(ids))
        TruckPassZone.delete().where(TruckPassZone.truck_pass.in_(passes)).execute()
        return TruckPass.delete().where(TruckPass.vehicle.in_(ids)).execute()


def truck_pass_outcomes(meta: dict) -> dict[str, int]:
    """How the bench trucks' applications were decided: {status: count}."""
    from peewee import fn

    from models import TruckPass

    ids = [t["id"] for t in meta["trucks"]]
    with open_db().connection_context():
        rows = (
            TruckPass.select(TruckPass.status, fn.COUNT(TruckPass.id))
            .where(TruckPass.vehicle.in_(ids))
            .group_by(TruckPass.status)
            .tuples()
        )
        return dict(rows)


def truckpass_lines(ctx: Context, n: int) -> list[str]:
    """`n` applications of the bench trucks by their owners, each the whole form at its last
    step (what the plain-form path posts), for the bench zone; the week moves on by one each
    time the trucks come round again, so no two applications cover the same days (one truck
    gets one pass for each hour of a zone: eight rounds of 3,000 trucks before they would)."""
    from rules.clock import beijing_today

    trucks = ctx.meta["trucks"]
    today = beijing_today()
    lines = []
    for i in range(n):
        t = trucks[i % len(trucks)]
        s = ctx.sessions.get(t["owner"])
        start = today + dt.timedelta(weeks=(i // len(trucks)) % 8)
        body = urllib.parse.urlencode(
            {
                "csrf_token": s["csrf"],
                "step": 5,
                "plate": t["plate"],
                "truck_class": "heavy",
                "emission": "china6",
                "zones": ctx.meta["truck_zone"],
                "start_date": start.isoformat(),
                "end_date": (start + dt.timedelta(days=6)).isoformat(),
                "windows": "07:00-09:00, 17:00-19:00",
                "purpose": "集装箱运输 前湾港至黄岛物流园",
            }
        )
        lines.append(f"POST\t/trucks/apply\tjg_session={s['cookie']}\t{body}")
    return lines


def sc_truckpass(ctx: Context, n: int) -> dict:
    """Truck owners apply for a pass that the city's rules approve at once (303 to the pass).
    Afterwards every application of the run must have been approved automatically: any that
    was refused or queued for a clerk counts as an error."""
    reset_truck_passes(ctx.meta)
    return {"lines": truckpass_lines(ctx, n), "expect": "-", "wrap": False, "after": not_approved}


def not_approved(ctx: Context) -> int:
    """Bench truck applications that were not approved automatically (they should all be)."""
    outcomes = truck_pass_outcomes(ctx.meta)
    wrong = sum(v for k, v in outcomes.items() if k != "approved")
    if wrong:
        log(f"  truck passes not approved at once: {outcomes}")
    return wrong


def sc_evidence(ctx: Context, n: int) -> dict:
    """The evidence list of an accident case: parties (4 in 5) and the brigade's officers."""
    lines = []
    for c in ctx.meta["accident_cases"][: ctx.evidence_cases]:
        for uid in c["parties"]:
            lines.append(line(f"/evidence/cases/{c['case']}", ctx.cookie(uid)))
        officer = ctx.rng.choice(ctx.officer_ids)
        if ctx.rng.random() < 0.5:
            lines.append(line(f"/evidence/cases/{c['case']}", ctx.cookie(officer)))
    ctx.rng.shuffle(lines)
    return {"lines": lines, "expect": 'id="items"', "wrap": True}


def mix_counts(n: int, weights: dict, applicants: int) -> dict:
    """How many requests of each kind a mixed list of about `n` holds, in the proportions of
    `weights`: fewer in all when the city has too few applicants for its share of
    applications (each applies once), so that the mix stays the day's and the list is only
    shorter (the runner then reports the rate over the time it lasted)."""
    total = sum(weights.values())
    if applicants < n * weights["apply"] / total:
        n = int(applicants * total / weights["apply"])
    counts = {k: max(1, round(n * v / total)) for k, v in weights.items()}
    counts["apply"] = min(counts["apply"], applicants)
    return counts


def sc_mixed(ctx: Context, n: int) -> dict:
    """A day-one mix in the report's proportions."""
    weights = dict(DAY_ONE)
    reset_applicants(ctx.meta)
    reset_truck_passes(ctx.meta)
    counts = mix_counts(n, weights, len(ctx.applicants(ctx.meta["applicants"]["count"])))
    lines = [ctx.apply_line(uid) for uid in ctx.applicants(counts["apply"])]
    lines += truckpass_lines(ctx, counts["truckpass"])
    lines += [line(p) for p in ctx.fresh_codes(counts["check"], ctx.duration + 5)]
    transfers = ctx.meta["open_transfers"][: ctx.transfer_cases]
    for i in range(counts["transfer"]):
        t = transfers[i % len(transfers)]
        lines.append(line(f"/transfer/cases/{t['case']}", ctx.cookie(t["buyer"])))
    cases = ctx.meta["accident_cases"][: ctx.evidence_cases]
    for i in range(counts["evidence"]):
        c = cases[i % len(cases)]
        lines.append(line(f"/evidence/cases/{c['case']}", ctx.cookie(c["parties"][i % 2])))
    ctx.rng.shuffle(lines)
    return {"lines": lines, "expect": "-", "wrap": False, "weights": weights, "after": not_approved}


# name, label, builder, connections, one-shot (every request must be distinct)
SCENARIOS = [
    ("ceiling", "ceiling: /healthz", sc_ceiling, 32),
    ("verify", "verifier: valid codes", sc_verify, 32),
    ("code", "code page (QR)", sc_code_page, 32),
    ("apply", "apply for e-licence", sc_apply, 64),
    ("truckpass", "truck pass, auto-approved", sc_truckpass, 64),
    ("evidence", "evidence list of a case", sc_evidence, 32),
    ("mixed", "mixed day one", sc_mixed, 64),
]


def prepare_sessions(meta: dict, port: int) -> SessionStore:
    """Log in (once per build) the holders, applicants and officers the scenarios use."""
    client = Client(port)
    store = SessionStore(city.SESSIONS_PATH, meta["build_id"])
    first = meta["holders"]["first_user_id"]
    holder_ids = set(range(first, first + min(HOLDER_SESSIONS, meta["holders"]["count"])))
    for c in meta["accident_cases"]:
        holder_ids.update(c["parties"])
    holder_ids.update(t["buyer"] for t in meta["open_transfers"])
    mobiles = mobiles_of(sorted(holder_ids))
    store.ensure_citizens(client, mobiles, meta["password"], log)
    afirst = meta["applicants"]["first_user_id"]
    reset_applicants(meta)
    store.ensure_citizens(
        client,
        mobiles_of(range(afirst, afirst + meta["applicants"]["count"])),
        meta["password"],
        log,
    )
    for s in meta["staff"]:
        if s["role"] == "accident_officer" and not store.get(s["id"]):
            log(f"  logging in {s['username']}")
            session = client.login_staff(s["username"], meta["password"], s["totp"])
            store.sessions[str(s["id"])] = session
            store.save()
    return store


def mobiles_of(user_ids) -> list[tuple[int, str]]:
    """(user id, mobile) of citizens."""
    from models import User

    ids = list(user_ids)
    with open_db().connection_context():
        rows = User.select(User.id, User.mobile).where(User.id.in_(ids)).tuples()
        return list(rows)
