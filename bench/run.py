"""`make bench`: the application under gunicorn on loopback, a city-sized database, wrk.

    .venv/bin/python -m bench.run [--duration 10] [--workers N] [--only verify,apply]
                                   [--rebuild] [--profile]
    .venv/bin/python -m bench.run --pg postgresql://... [--configs 1,1d,2d]   (make bench-pg)

Builds (once, cached in bench/out/) the bench city of bench/dataset.py, starts gunicorn on
127.0.0.1:5800 with it, logs in the people the scenarios need (once per database build), then
drives each scenario with wrk and prints one table: requests per second, p50 and p99 latency,
errors, and the ratio to the ceiling, a minimal endpoint of the same stack (/healthz) measured
right before each scenario (the first row is the median of those). Then the benchmark's targets
(docs/PERFORMANCE.md), met or not, and the nation's day one on this machine. --repeat N runs
every scenario N times and reports the median round.
The audit integrator (`flask audit integrate`) runs beside the server, as deploy/ runs it, and
every scenario that writes audit entries reports its audited writes per second and the
integration delay (an entry's insert time to the time of the first checkpoint that covers it),
p50 and p99. With --pg the city is built into that PostgreSQL database and each of --configs
runs in turn: `1` one node, `2` two nodes (two gunicorns on two ports, the load split between
them, one wrk each), a `d` suffix puts bench/delayproxy.py between the application and the
database (1 ms each way). Results also go to bench/out/latest.json. --profile samples the
workers with py-spy during each scenario into bench/out/profile-<scenario>.txt (collapsed
stacks) and a summary.
"""

import argparse
import collections
import contextlib
import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import dataset  # noqa: E402
from bench.client import Client, SessionStore  # noqa: E402
from core.db import gunicorn_workers  # noqa: E402

OUT = os.path.join(ROOT, "bench", "out")
# The full-size bench city (bench/dataset.py) lives in bench/out/; smaller ones (--scale) beside it.
CITY = OUT
DB_PATH = os.path.join(CITY, "bench.db")
META_PATH = os.path.join(CITY, "dataset.json")
SESSIONS_PATH = os.path.join(CITY, "sessions.json")
STEP_FILE = os.path.join(CITY, "last-code-step")
DB_URL = f"sqlite:///{DB_PATH}"  # the runner's own connection (never through the delay)
LUA = os.path.join(ROOT, "bench", "requests.lua")
VENV_BIN = os.path.dirname(sys.executable)

# The report's day one (MISSION.md): e-licences, transfers, truck passes, evidence reviews,
# and licence checks for the rest of the 2.9 million transactions.
DAY_ONE = {"apply": 2_720_000, "transfer": 35_000, "truckpass": 15_000, "evidence": 12_000}
DAY_ONE_TOTAL = 2_900_000
DAY_ONE["check"] = DAY_ONE_TOTAL - sum(DAY_ONE.values())

# Sessions made once per build: holders for the code page, applicants for applying.
HOLDER_SESSIONS = 6_000
TARGET_HOURS = 2.0


def log(msg: str) -> None:
    """Progress on stderr, so stdout keeps the table."""
    print(msg, file=sys.stderr, flush=True)


# --- the database -----------------------------------------------------------------------


def use_city(scale: float, pg_url: str = "") -> None:
    """Keep a city of another scale in a folder of its own (so it never replaces the big one);
    a PostgreSQL city keeps its description and sessions in a folder of its own too."""
    global CITY, DB_PATH, META_PATH, SESSIONS_PATH, STEP_FILE, DB_URL
    if pg_url:
        CITY = os.path.join(OUT, f"pg-city-x{scale:g}")
    else:
        CITY = OUT if scale == 1 else os.path.join(OUT, f"city-x{scale:g}")
    DB_PATH = os.path.join(CITY, "bench.db")
    DB_URL = pg_url or f"sqlite:///{DB_PATH}"
    META_PATH = os.path.join(CITY, "dataset.json")
    SESSIONS_PATH = os.path.join(CITY, "sessions.json")
    STEP_FILE = os.path.join(CITY, "last-code-step")


def ensure_dataset(rebuild: bool, scale: float = 1.0, pg_url: str = "") -> dict:
    """The bench city's description, building the database first when needed."""
    use_city(scale, pg_url)
    os.makedirs(CITY, exist_ok=True)
    there = os.path.exists(DB_PATH) if not pg_url else bool(built_here())
    if not rebuild and there and os.path.exists(META_PATH):
        with open(META_PATH) as fh:
            meta = json.load(fh)
        same = meta.get("version") == dataset.DATASET_VERSION and meta.get("scale", 1.0) == scale
        if pg_url and built_here() != meta.get("build_id"):
            same = False  # the database holds a city of another scale now
        if same and meta.get("database", DB_URL) == DB_URL:
            if dataset.bring_up_to_date(DB_URL, meta, log, work_dir=CITY):
                with open(META_PATH, "w") as fh:
                    json.dump(meta, fh)
            return meta
    log("building the bench city (once; cached in bench/out/) ...")
    sizes = {
        k: max(dataset.MINIMUM_SIZES.get(k, 10), int(v * scale)) for k, v in dataset.SIZES.items()
    }
    meta = dataset.build(DB_URL, sizes, progress=log, work_dir=CITY)
    meta["scale"] = scale
    meta["database"] = DB_URL
    if pg_url:  # one PostgreSQL database serves every scale: it says which city it holds
        from models import Setting

        with open_db().connection_context():
            Setting.set_value(BUILD_SETTING, meta["build_id"])
    meta["secret_key"] = os.urandom(24).hex()
    with open(META_PATH, "w") as fh:
        json.dump(meta, fh)
    return meta


BUILD_SETTING = "bench.build_id"


def built_here() -> str | None:
    """The build id of the city in the PostgreSQL database (None when it holds none)."""
    import peewee

    from models import Setting

    try:
        with open_db().connection_context():
            return Setting.get_value(BUILD_SETTING)
    except peewee.DatabaseError:
        return None


def open_db():
    """Bind the models to the bench database for the runner's own reads and housekeeping."""
    from core.db import make_database
    from models import db

    if db.obj is None:
        db.initialize(make_database(DB_URL))
    return db


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


# --- the server -------------------------------------------------------------------------


class Server:
    """gunicorn with the real app factory on loopback, as deploy/jiaoguan.service runs it."""

    def __init__(self, port: int, workers: int, meta: dict, app_dir: str = ROOT, db_url: str = ""):
        """Settings as environment variables, like a deployment's /etc/jiaoguan/env."""
        self.port, self.workers, self.app_dir = port, workers, app_dir
        self.log_path = os.path.join(OUT, "server.log" if port == 5800 else f"server-{port}.log")
        self.env = {
            **os.environ,
            "DATABASE_URL": db_url or DB_URL,
            # The set-up logs thousands of citizens in from one address (127.0.0.1); the
            # address counter counts every login attempt and is never reset by a right
            # password (core/throttle.py), so it is lifted for the bench.
            "LOGIN_ADDRESS_MAX_FAILURES": "100000000",
            # The cached sessions (sessions.json) are reused by runs hours or days apart; a
            # session idle for SESSION_IDLE_MINUTES (2 h) is refused, and every applicant's
            # request would then fail on its CSRF token. Their signatures still decide.
            "SESSION_IDLE_MINUTES": str(60 * 24 * 365),
            # Every node and the integrator sign with the same deployment key.
            "NETWORK_KEY_FOLDER": os.path.join(CITY, "network"),
            "SECRET_KEY": meta["secret_key"],
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "PASSWORD_HASH_METHOD": dataset.PASSWORD_HASH_METHOD,
            "UPLOAD_FOLDER": os.path.join(OUT, "uploads"),
        }
        self.proc = None

    def __enter__(self):
        """Start it and wait until /healthz answers."""
        self.log_file = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [
                os.path.join(VENV_BIN, "gunicorn"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--backlog",
                "2048",
                "app:create_app()",
            ],
            cwd=self.app_dir,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"gunicorn exited; see {self.log_path}") from None
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer in 30 s")

    def __exit__(self, *exc):
        """Stop gunicorn (the master stops its workers)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log_file.close()

    def log_offset(self) -> int:
        """Where the server log ends now (to count what a scenario logged)."""
        self.log_file.flush()
        return os.path.getsize(self.log_path)

    def locked_since(self, offset: int) -> int:
        """'database is locked' errors the server logged since `offset`."""
        with open(self.log_path, "rb") as fh:
            fh.seek(offset)
            return fh.read().count(b"database is locked")


class Integrator:
    """`flask audit integrate` beside the server(s), as deploy/jiaoguan-audit.service runs it
    (the same settings, one batch every half second)."""

    def __init__(self, env: dict, app_dir: str = ROOT):
        """The integrator of the deployment whose environment is `env`."""
        self.env, self.app_dir, self.proc = env, app_dir, None
        self.log_path = os.path.join(OUT, "integrator.log")

    def catch_up(self) -> None:
        """Number what waits (a new city's month of entries) before anything is measured."""
        started = time.time()
        subprocess.run(
            [os.path.join(VENV_BIN, "flask"), "audit", "integrate", "--once"],
            cwd=self.app_dir,
            env={**self.env, "FLASK_APP": "app:create_app"},
            check=True,
            capture_output=True,
        )
        log(f"  audit entries waiting integrated in {time.time() - started:.0f} s")

    def __enter__(self):
        """Start it."""
        self.log_file = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [os.path.join(VENV_BIN, "flask"), "audit", "integrate"],
            cwd=self.app_dir,
            env={**self.env, "FLASK_APP": "app:create_app"},
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        return self

    def __exit__(self, *exc):
        """SIGTERM: it stops after the batch in hand."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log_file.close()


class DelayProxy:
    """bench/delayproxy.py between the application and PostgreSQL (1 ms each way)."""

    def __init__(self, pg_url: str, port: int, delay_ms: float):
        """A proxy on `port` in front of the database of `pg_url`."""
        parts = urllib.parse.urlsplit(pg_url)
        self.target = f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
        self.url = parts._replace(netloc=parts.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{port}")
        self.url = urllib.parse.urlunsplit(self.url)
        self.port, self.delay_ms, self.proc = port, delay_ms, None

    def __enter__(self):
        """Start it and wait until it accepts."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.delayproxy", "--listen", f"127.0.0.1:{self.port}"]
            + ["--target", self.target, "--delay-ms", str(self.delay_ms)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        import socket

        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the delaying proxy did not start")

    def __exit__(self, *exc):
        """Stop it."""
        self.proc.terminate()
        self.proc.wait(timeout=10)


# --- the audit log ----------------------------------------------------------------------


def audit_mark() -> int:
    """The id of the newest audit entry (entries after it are the scenario's)."""
    from peewee import fn

    from models import AuditEvent

    with open_db().connection_context():
        return AuditEvent.select(fn.MAX(AuditEvent.id)).scalar() or 0


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (proc(5) fields 3 on), or None
    when the process has ended."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (a gunicorn master's workers), from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = proc_stat(int(entry))
            if fields and int(fields[1]) == pid:
                found.append(int(entry))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time (user + system) the processes `pids` have used so far, from /proc: what a
    scenario cost the machine, whatever else shared it (unlike requests a second, which the
    load of others and wrk's own share of the cores move)."""
    ticks = 0
    for pid in pids:
        fields = proc_stat(pid)
        if fields:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (proc(5) fields 14, 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))]


def integration_delays(mark: int, wait: float = 60.0) -> dict:
    """The audit entries written after `mark`: how many, and how long each waited from its
    insert to the first signed checkpoint whose tree holds it (p50, p99, max in ms). Waits up
    to `wait` seconds for the integrator to number them all (a backlog left counts as
    `unintegrated`)."""
    import bisect

    from models import AuditCheckpoint, AuditEvent

    db = open_db()
    deadline = time.time() + wait
    with db.connection_context():
        scenario = AuditEvent.id > mark
        while True:
            waiting = AuditEvent.select().where(scenario & AuditEvent.seq.is_null()).count()
            if not waiting or time.time() >= deadline:
                break
            time.sleep(0.5)
        events = list(
            AuditEvent.select(AuditEvent.seq, AuditEvent.at)
            .where(scenario & AuditEvent.seq.is_null(False))
            .tuples()
        )
        if not events:
            return {"entries": 0, "unintegrated": waiting}
        first = min(seq for seq, _ in events)
        checkpoints = list(
            AuditCheckpoint.select(AuditCheckpoint.tree_size, AuditCheckpoint.at)
            .where(AuditCheckpoint.tree_size >= first)
            .order_by(AuditCheckpoint.tree_size)
            .tuples()
        )
    sizes = [size for size, _ in checkpoints]
    delays = []
    for seq, at in events:
        i = bisect.bisect_left(sizes, seq)
        if i < len(checkpoints):
            delays.append((checkpoints[i][1] - at).total_seconds() * 1000)
    if not delays:
        return {"entries": len(events), "unintegrated": len(events)}
    return {
        "entries": len(events),
        "unintegrated": waiting + len(events) - len(delays),
        "p50_ms": percentile(delays, 50),
        "p99_ms": percentile(delays, 99),
        "max_ms": max(delays),
    }


# --- the scenarios ----------------------------------------------------------------------


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
        with open(STEP_FILE) as fh:
            return int(fh.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def record_code_step(step: int) -> None:
    """Remember that codes of steps up to `step` may have been used."""
    if step > last_code_step():
        with open(STEP_FILE, "w") as fh:
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
    step (what the plain-form path posts), for the bench zone; the first day moves on by one
    each time the trucks come round again, so no two applications are the same."""
    from rules.clock import beijing_today

    trucks = ctx.meta["trucks"]
    today = beijing_today()
    lines = []
    for i in range(n):
        t = trucks[i % len(trucks)]
        s = ctx.sessions.get(t["owner"])
        start = today + dt.timedelta(days=(i // len(trucks)) % 60)
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


# --- running wrk ------------------------------------------------------------------------


def run_wrk(
    servers: list,
    name: str,
    spec: dict,
    connections: int,
    duration: int,
    threads: int,
    profile: bool,
    integrator_pid: int | None = None,
) -> dict:
    """Drive one scenario; returns wrk's figures plus the servers' 'locked' count.

    With several servers (nodes) the request list is dealt out between them and one wrk per
    node runs at the same time, each with its share of the connections: requests, errors and
    requests per second are summed, p50 is the nodes' mean and p99 the worst node's (wrk
    reports percentiles, not its samples).

    It also takes the CPU time the nodes' workers (and the integrator) used meanwhile: CPU
    milliseconds a request, the cost of a request with the machine's other load taken out."""
    offsets = [server.log_offset() for server in servers]
    workers = [pid for server in servers for pid in children_of(server.proc.pid)]
    integrator = [integrator_pid] if integrator_pid else []
    cpu_before = cpu_seconds(workers), cpu_seconds(integrator)
    profiler = None
    if profile:
        profiler = subprocess.Popen(
            [
                os.path.join(VENV_BIN, "py-spy"),
                "record",
                "--pid",
                str(servers[0].proc.pid),
                "--subprocesses",
                "--format",
                "raw",
                "--rate",
                "200",
                "--nonblocking",
                "--duration",
                str(duration),
                "-o",
                os.path.join(OUT, f"profile-{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    procs = []
    for i, server in enumerate(servers):
        list_path = os.path.join(OUT, f"requests-{name}-{i}.tsv")
        with open(list_path, "w") as fh:
            fh.write("\n".join(spec["lines"][i :: len(servers)]) + "\n")
        cmd = [
            "wrk",
            "--threads",
            str(threads),
            "--connections",
            str(max(threads, connections // len(servers))),
            "--duration",
            f"{duration}s",
            "--timeout",
            "10s",
            "--script",
            LUA,
            f"http://127.0.0.1:{server.port}",
            "--",
            list_path,
            spec["expect"],
            "wrap" if spec["wrap"] else "once",
            str(threads),
        ]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
    parts = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"wrk failed ({proc.returncode})")
        parts.append(json.loads(out.split("WRKJSON ", 1)[1].splitlines()[0]))
    worker_cpu = cpu_seconds(workers) - cpu_before[0]
    integrator_cpu = cpu_seconds(integrator) - cpu_before[1]
    if profiler:
        profiler.wait()
    figures = {
        key: sum(p[key] for p in parts)
        for key in (
            "requests",
            "connect",
            "read",
            "write",
            "timeout",
            "bad_status",
            "wrong_body",
            "status_503",
            "status_5xx",
        )
    }
    figures["wrong_seen"] = " ".join(p.get("wrong_seen", "") for p in parts).strip()[:200]
    figures["duration_us"] = max(busy_us(p, spec["wrap"]) for p in parts)
    figures["p50_us"] = sum(p["p50_us"] for p in parts) / len(parts)
    figures["p99_us"] = max(p["p99_us"] for p in parts)
    figures["exhausted"] = any(p.get("exhausted") for p in parts)
    figures["locked"] = sum(s.locked_since(o) for s, o in zip(servers, offsets, strict=True))
    figures["listed"] = len(spec["lines"])
    figures["rps"] = sum(p["requests"] / (busy_us(p, spec["wrap"]) / 1e6) for p in parts)
    figures["errors"] = (
        figures["connect"]
        + figures["read"]
        + figures["write"]
        + figures["timeout"]
        + figures["bad_status"]
        + figures["wrong_body"]
    )
    figures["connections"] = connections
    figures["cpu_ms"] = worker_cpu * 1000 / max(1, figures["requests"])
    figures["integrator_cpu_ms"] = integrator_cpu * 1000 / max(1, figures["requests"])
    return figures


def busy_us(part: dict, wrap: bool) -> int:
    """The time one wrk's requests were sent in, microseconds: its whole run, or, when its
    one-shot list ran out before the end, from its first request until the last of its
    threads had no request left (requests.lua's `list_us`). wrk itself divides by the whole
    run, which would count the idle rest of it as slowness."""
    if not wrap and part.get("exhausted") and part.get("list_us"):
        return min(part["list_us"], part["duration_us"])
    return part["duration_us"]


def measure(servers, ctx, args, name, builder, conns, ceiling_rps) -> dict:
    """Build a scenario's request list and drive it once; its figures, with the audit entries
    it wrote per second and their integration delay."""
    label = next(lab for n, lab, *_ in SCENARIOS if n == name)
    n = int((ceiling_rps or 2000) * args.duration * 1.1)
    spec = builder(ctx, n)
    log(f"{label}: {len(spec['lines']):,} requests listed, {conns} connections, {args.duration} s")
    mark = audit_mark()
    figures = run_wrk(
        servers, name, spec, conns, args.duration, args.threads, args.profile, ctx.integrator_pid
    )
    if "after" in spec:  # what the responses cannot show: checked in the database
        figures["wrong_outcome"] = spec["after"](ctx)
        figures["errors"] += figures["wrong_outcome"]
    figures.update(label=label, wrap=spec["wrap"])
    if "weights" in spec:
        figures["weights"] = spec["weights"]
    audit = integration_delays(mark) if name != "ceiling" else {"entries": 0}
    figures["audit"] = audit
    figures["audited_per_s"] = audit["entries"] / (figures["duration_us"] / 1e6)
    delay = ""
    if audit.get("p99_ms") is not None:
        delay = (
            f", {figures['audited_per_s']:,.0f} audited/s, integration delay p50 "
            f"{audit['p50_ms']:.0f} ms p99 {audit['p99_ms']:.0f} ms"
        )
    log(
        f"  {figures['rps']:,.0f} req/s, p99 {figures['p99_us'] / 1000:.1f} ms, "
        f"{figures['errors']} errors, {figures['locked']} locked{delay}, "
        f"CPU a request: workers {figures['cpu_ms']:.2f} ms, "
        f"integrator {figures['integrator_cpu_ms']:.2f} ms"
    )
    time.sleep(1)
    return figures


def median_run(name_runs: list[dict]) -> dict:
    """The run with the median ratio (the median requests/s for the ceiling)."""
    key = "ratio" if "ratio" in name_runs[0] else "rps"
    ordered = sorted(name_runs, key=lambda r: r[key])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["runs"] = len(name_runs)
    return chosen


# --- the report -------------------------------------------------------------------------


def table(rows: list[dict]) -> str:
    """The results as a Markdown table (pasted as is into docs/PERFORMANCE.md): requests,
    latency, errors, and for scenarios that write audit entries, how many a second and their
    integration delay (insert to covering checkpoint); and what a request cost the workers in
    CPU, with the ratio to the ceiling by that measure (the machine's other load taken out)."""
    head = (
        "| scenario | conns | req/s | p50 ms | p99 ms | errors | locked | × ceiling "
        "| audited/s | integration p50 / p99 ms | CPU ms a request | × ceiling by CPU |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        note = ""
        if r["exhausted"] and not r["wrap"]:
            note = f" (list ran out after {r['duration_us'] / 1e6:.1f} s: not a steady state)"
        audit = r.get("audit") or {}
        if audit.get("p99_ms") is not None:
            audited = f"{r['audited_per_s']:,.0f}"
            delay = f"{audit['p50_ms']:,.0f} / {audit['p99_ms']:,.0f}"
        else:
            audited, delay = "–", "–"
        lines.append(
            f"| {r['label']}{note} | {r['connections']} | {r['rps']:,.0f} | "
            f"{r['p50_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | {r['errors']} | "
            f"{r['locked']} | {r['ratio']:.2f} | {audited} | {delay} | "
            f"{r['cpu_ms']:.2f} | {r['cpu_ratio']:.2f} |"
        )
    return "\n".join(lines)


def targets(results: dict) -> list[tuple[str, str, bool]]:
    """The benchmark's targets, one line per condition: (what, measured, met)."""
    out = []

    def check(what, measured, met):
        out.append((what, measured, met))

    v = results.get("verify")
    if v:
        check("verifier ≥ 0.50 × ceiling", f"{v['ratio']:.2f} ×", v["ratio"] >= 0.5)
        check(
            "verifier p99 < 50 ms at 32 connections",
            f"{v['p99_us'] / 1000:.1f} ms",
            v["p99_us"] < 50_000,
        )
        check(
            "verifier without errors (every answer 'valid')",
            f"{v['errors']} errors",
            v["errors"] == 0,
        )
    for key, what in (("apply", "e-licence application"), ("truckpass", "automatic truck pass")):
        r = results.get(key)
        if not r:
            continue
        check(f"{what} ≥ 0.25 × ceiling", f"{r['ratio']:.2f} ×", r["ratio"] >= 0.25)
        check(
            f"{what}: no 'database is locked' at 64 connections (nor other errors)",
            f"{r['locked']} locked, {r['errors']} errors",
            r["locked"] == 0 and r["errors"] == 0,
        )
    m = results.get("mixed")
    if m and m.get("audit", {}).get("p99_ms") is not None:
        a = m["audit"]
        check(
            "the integrator keeps up with the mixed day: integration delay p99 < 2 s",
            f"p99 {a['p99_ms']:,.0f} ms, {a['unintegrated']} left waiting",
            a["p99_ms"] < 2000 and not a["unintegrated"],
        )
    for key in ("code", "mixed"):
        r = results.get(key)
        if r and r.get("ratio") is not None and key == "code":
            check("code page ≥ 0.25 × ceiling", f"{r['ratio']:.2f} ×", r["ratio"] >= 0.25)
        elif r and r.get("ratio") is not None:
            check("mixed day ≥ 0.40 × ceiling", f"{r['ratio']:.2f} ×", r["ratio"] >= 0.4)
    if m and m["rps"]:
        hours = DAY_ONE_TOTAL / m["rps"] / 3600
        check(
            f"the nation's day one ({DAY_ONE_TOTAL / 1e6:.1f} M transactions) in under "
            f"{TARGET_HOURS:.0f} h",
            f"{hours:.2f} h at {m['rps']:,.0f} req/s",
            hours < TARGET_HOURS and m["errors"] == 0,
        )
    return out


def scaling_targets(by_config: dict) -> list[tuple[str, str, bool]]:
    """The PostgreSQL targets across configurations: with the delay, two nodes give at least
    1.6 times the audited writes a second of one node, with p99 under 100 ms."""
    out = []
    one, two = by_config.get("1d"), by_config.get("2d")
    if not (one and two):
        return out
    for key in ("verify", "apply"):
        a, b = one.get(key), two.get(key)
        if not (a and b and a["audited_per_s"]):
            continue
        gain = b["audited_per_s"] / a["audited_per_s"]
        out.append(
            (
                f"{a['label']}, 2 ms round trip: two nodes ≥ 1.6 × one node's audited writes/s",
                f"{a['audited_per_s']:,.0f} → {b['audited_per_s']:,.0f} /s, {gain:.2f} ×",
                gain >= 1.6,
            )
        )
        out.append(
            (
                f"{a['label']}, 2 ms round trip, two nodes: p99 < 100 ms",
                f"{b['p99_us'] / 1000:.1f} ms",
                b["p99_us"] < 100_000,
            )
        )
    return out


def prepare_sessions(meta: dict, port: int) -> SessionStore:
    """Log in (once per build) the holders, applicants and officers the scenarios use."""
    client = Client(port)
    store = SessionStore(SESSIONS_PATH, meta["build_id"])
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


CONFIG_LABELS = {
    "1": "one node",
    "2": "two nodes",
    "1d": "one node, 2 ms round trip to the database",
    "2d": "two nodes, 2 ms round trip to the database",
}


# Workers of each node in the configurations with the delay (run_config).
DELAYED_NODE_WORKERS = 2


def run_config(config: str, args, meta: dict, proxy_url: str) -> dict:
    """Every chosen scenario on one configuration (1 or 2 nodes, with or without the delay);
    {scenario: median figures}."""
    nodes = int(config[0])
    url = proxy_url if config.endswith("d") else DB_URL
    only = {s for s in args.only.split(",") if s} or {name for name, *_ in SCENARIOS}
    if config.endswith("d"):
        only &= set(args.delay_only.split(","))
    app_dir = os.path.abspath(args.app_dir)
    # A node beside the database runs as deploy/ runs it on this machine (gunicorn.conf.py).
    # With the delay, one node is compared with two: both share this machine's cores, so each
    # node is a small one of DELAYED_NODE_WORKERS workers, which the round trips keep mostly
    # waiting, with one connection each: neither configuration is bound by the shared CPU, and
    # what the second node adds is what the database lets it add (a node sized for the whole
    # machine would saturate the cores alone, and two would measure the CPU, not the database).
    delayed = config.endswith("d")
    if args.workers:
        workers = args.workers
    elif delayed:
        workers = DELAYED_NODE_WORKERS
    else:
        workers = gunicorn_workers(url, os.cpu_count() or 2)
    servers = [Server(args.port + i, workers, meta, app_dir, url) for i in range(nodes)]
    log(f"== {CONFIG_LABELS.get(config, config)}: {nodes} × gunicorn --workers {workers}")
    runs: dict[str, list] = collections.defaultdict(list)
    with contextlib.ExitStack() as stack:
        for server in servers:
            stack.enter_context(server)
        integrator = Integrator(servers[0].env, app_dir)
        integrator.catch_up()
        stack.enter_context(integrator)
        log("preparing sessions ...")
        store = prepare_sessions(meta, args.port)
        ctx = Context(meta, store, args.port)
        ctx.integrator_pid = integrator.proc.pid
        ctx.duration = args.duration
        first = meta["holders"]["first_user_id"]
        ctx.holder_ids = list(range(first, first + min(HOLDER_SESSIONS, meta["holders"]["count"])))
        ctx.officer_ids = [s["id"] for s in meta["staff"] if s["role"] == "accident_officer"]
        ctx.evidence_cases = len(meta["accident_cases"])
        ctx.transfer_cases = len(meta["open_transfers"])
        if args.context is not None:  # one run, several configurations: codes used stay used
            ctx.next_elicence, ctx.last_step = args.context
        for round_no in range(args.repeat):
            for name, _label, builder, conns in SCENARIOS:
                if name not in only or name == "ceiling":
                    continue
                if delayed:
                    # One connection per worker by default: each worker busy with one request
                    # at a time, none queued in front of it (--delay-connections to queue).
                    conns = (args.delay_connections or workers) * nodes
                # The ceiling is measured right before each scenario and the scenario's ratio
                # taken to that one: on a shared machine the load of others comes and goes.
                ceiling = measure(servers, ctx, args, "ceiling", sc_ceiling, conns, None)
                runs["ceiling"].append(ceiling)
                # One-shot lists get as many requests as the ceiling can serve (no scenario
                # is faster than the ceiling), capped by what the city has.
                figures = measure(servers, ctx, args, name, builder, conns, ceiling["rps"])
                figures["ceiling_rps"] = ceiling["rps"]
                figures["ratio"] = figures["rps"] / ceiling["rps"]
                # The same ratio by CPU: how many /healthz one request of it costs, inverted.
                figures["cpu_ratio"] = ceiling["cpu_ms"] / figures["cpu_ms"]
                runs[name].append(figures)
            if args.repeat > 1:
                log(f"round {round_no + 1} of {args.repeat} done")
        args.context = (ctx.next_elicence, ctx.last_step)
    results = {name: median_run(name_runs) for name, name_runs in runs.items()}
    if "ceiling" in results:
        results["ceiling"]["ratio"] = results["ceiling"]["cpu_ratio"] = 1.0
    return results


def main(argv=None) -> int:
    """Run the bench; the exit status is 0 even when targets are missed (it reports them)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_SECONDS", 10)))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("BENCH_WORKERS", 0)),
        help="gunicorn workers per node (default as deploy/ on this machine: one per core on "
        "SQLite, 2 x cores + 1 on PostgreSQL; with the delay, DELAYED_NODE_WORKERS)",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (per node)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 5800)))
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--profile", action="store_true", help="py-spy the workers")
    parser.add_argument(
        "--repeat",
        type=int,
        default=int(os.environ.get("BENCH_REPEAT", 1)),
        help="rounds; each row is the median round",
    )
    parser.add_argument(
        "--app-dir",
        default=ROOT,
        help="serve the application from this copy (e.g. an older commit's "
        "`git archive`, to measure before and after)",
    )
    parser.add_argument("--scale", type=float, default=1.0, help="city size (1 = full size)")
    parser.add_argument("--pg", default="", help="a PostgreSQL URL: the city is built there")
    parser.add_argument(
        "--configs",
        default="",
        help="with --pg: comma-separated 1, 2 (nodes), 1d, 2d (with the 2 ms round trip)",
    )
    parser.add_argument(
        "--delay-only",
        default="verify,apply",
        help="the scenarios of the configurations with the delay",
    )
    parser.add_argument("--delay-ms", type=float, default=1.0, help="each way")
    parser.add_argument(
        "--delay-connections",
        type=int,
        default=0,
        help="connections per node in the configurations with the delay (default: one per worker)",
    )
    args = parser.parse_args(argv)
    args.context = None
    if not shutil.which("wrk"):
        log("wrk is missing: `make bench` installs it (apt-get install wrk)")
        return 2
    meta = ensure_dataset(args.rebuild, args.scale, args.pg)
    configs = [c for c in (args.configs or "1").split(",") if c]
    if not args.pg and configs != ["1"]:
        log("two nodes and the delay need PostgreSQL (--pg URL)")
        return 2
    by_config = {}
    with contextlib.ExitStack() as stack:
        proxy_url = ""
        if any(c.endswith("d") for c in configs):
            proxy_url = stack.enter_context(DelayProxy(args.pg, args.port + 10, args.delay_ms)).url
        for config in configs:
            by_config[config] = run_config(config, args, meta, proxy_url)
    print()
    backend = "PostgreSQL 15 on the same machine" if args.pg else "SQLite"
    print(
        f"jiaoguan bench, {dt.datetime.now().isoformat(timespec='seconds')}, {backend}, "
        f"{os.cpu_count()} cores, gunicorn --workers {args.workers or 'as deploy/'} per node, "
        f"wrk {args.threads} "
        f"threads per node, {args.duration} s per scenario, median of {args.repeat}, each "
        f"against the ceiling measured just before it, city scale {args.scale:g}"
    )
    for config, results in by_config.items():
        if "ceiling" not in results:
            continue
        rows = [results[name] for name, *_ in SCENARIOS if name in results]
        print()
        if len(by_config) > 1 or args.pg:
            print(f"### {CONFIG_LABELS.get(config, config)}")
            print()
        print(table(rows))
        print()
        # The single-node targets are set for the database beside the application; with the
        # delay the targets are the scaling ones below.
        for what, measured, met in [] if config.endswith("d") else targets(results):
            mark = "met" if met else "NOT MET"
            print(f"- {what}: {measured} — {mark}")
        if "mixed" in results and results["mixed"]["rps"]:
            m = results["mixed"]
            hours = DAY_ONE_TOTAL / m["rps"] / 3600
            print(
                f"- the nation's day one, {DAY_ONE_TOTAL:,} transactions in the mix "
                f"{dict(m['weights'])}: {hours:.2f} h on this machine"
            )
    scaling = scaling_targets(by_config)
    if scaling:
        print()
    for what, measured, met in scaling:
        print(f"- {what}: {measured} — {'met' if met else 'NOT MET'}")
    with open(os.path.join(OUT, "latest-pg.json" if args.pg else "latest.json"), "w") as fh:
        args.context = None
        json.dump({"args": vars(args), "results": by_config}, fh, indent=1, default=str)
    if args.profile:
        for name in by_config.get(configs[0], {}):
            summarise_profile(name)
    return 0


def summarise_profile(name: str, top: int = 25) -> None:
    """The functions most often on the workers' stacks in a scenario (self and total)."""
    path = os.path.join(OUT, f"profile-{name}.txt")
    if not os.path.exists(path):
        return
    own, total, samples = collections.Counter(), collections.Counter(), 0
    with open(path) as fh:
        for raw in fh:
            stack, _, count = raw.rstrip().rpartition(" ")
            if not count.isdigit():
                continue
            frames = stack.split(";")
            n = int(count)
            samples += n
            own[frames[-1]] += n
            for f in set(frames):
                total[f] += n
    with open(os.path.join(OUT, f"profile-{name}-summary.txt"), "w") as fh:
        fh.write(f"{samples} samples\n\nmost time inside (incl. callees):\n")
        for f, n in total.most_common(top * 3):
            if ROOT in f or "/blueprints/" in f or "/core/" in f or "/models/" in f:
                fh.write(f"{100 * n / samples:5.1f}%  {f}\n")
        fh.write("\nmost time in the function itself:\n")
        for f, n in own.most_common(top):
            fh.write(f"{100 * n / samples:5.1f}%  {f}\n")


if __name__ == "__main__":
    sys.exit(main())
