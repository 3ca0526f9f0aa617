"""Checking a licence code, the verifier's heart: the verdict, the locks that stop guessing
and enumeration (each one a stranger cannot turn against the holder), and the holder's check
log, which reads the check's own audit entry.

A verdict (CheckResult) is an answer, not a refusal: every verdict, "invalid" included, is the
check doing its job. Each check is one write transaction (core.steps' convention).
"""

import datetime as dt
import math
import time
from dataclasses import dataclass

from core.audit import audit
from models import (
    AuditEvent,
    ELicence,
    LicenceCheck,
    LicenceRecord,
    Peer,
    RefusedCheck,
    Throttle,
    User,
    utcnow,
    write_tx,
)
from rules import licencecode, totp

from .origin import Origin, key_prefix, local_origin

# Wrong typed codes are counted per (typing key, client network) with a progressive delay
# (rules.licencecode.typed_delay), and per key across all addresses: this many in the window
# pause typed checks of the key (QR checks go on). One client gets about a dozen tries in a
# window, so it takes many networks to reach the ceiling.
TYPED_KEY_CEILING = 100
TYPED_WINDOW = 600
# Failed look-ups per client address (unknown keys or share codes): stops enumeration.
CLIENT_FAILURES = 30
CLIENT_WINDOW = 600
# Unknown licences looked up through one relaying deployment, over every address it reports, in
# CLIENT_WINDOW: a peer that reported a new address each time would otherwise never be stopped
# (and would write a row here per guess). Past it, its look-ups of unknown keys are refused;
# its checks of known licences are not, so a flood through a peer's verifier never stops its
# inspectors' checks of real licences.
RELAY_FAILURES = 20 * CLIENT_FAILURES
# A code this many steps old is reported as expired rather than invalid.
EXPIRED_LOOKBACK_STEPS = 20

# The verdicts of the verifier contract (docs/DESIGN.md#verdicts), from the record's standing.
STANDING_VERDICTS = {
    "valid": "valid",
    "points_full": "points-full",
    "suspended": "suspended",
    "revoked": "revoked",
    "cancelled": "cancelled",
    "overdue_review": "overdue-review",
    "expired": "expired-licence",
}
GENUINE = set(STANDING_VERDICTS.values())  # a genuine, current code: the licence may be shown
# What the log says of a used code asked again by the inspector who used it (shown_again): the
# verifier answers with the licence's standing, never with this.
SHOWN_AGAIN = "shown-again"
# A code of this licence refused as used or, a reload minutes later, as expired: asked again
# by the staff member who used it, it is shown again (shown_again), not refused.
AGAIN_VERDICTS = frozenset({"used-code", "expired-code"})


@dataclass
class CheckResult:
    """A verdict and what the verifier may show with it."""

    verdict: str
    elicence: ELicence | None = None
    record: LicenceRecord | None = None
    checked_at: dt.datetime | None = None
    locked_until: dt.datetime | None = None
    # Which lock refused a "throttled" check (labels.LOCK_HINTS): "client" (this address made
    # too many failed look-ups), "network" (wrong typed codes of this licence from this
    # network), "licence" (typed checks of this licence paused for everyone).
    lock: str | None = None
    # A code this inspector used a moment ago, asked again (a reload, Back): when that first
    # check was (the verdict is the licence's standing now, as a first check would say).
    shown_again_at: dt.datetime | None = None
    # Why an "undetermined" verdict (labels.UNDETERMINED_HINTS): "unclaimed", a typed key
    # of no city this deployment knows.
    reason: str = ""

    @property
    def genuine(self) -> bool:
        """The code was genuine and current: the licence's own data may be shown."""
        return self.verdict in GENUINE

    @property
    def retry_after(self) -> int:
        """Whole seconds until this checker may try again (0: at once)."""
        if self.locked_until is None:
            return 0
        return max(0, math.ceil((self.locked_until - utcnow()).total_seconds()))


def client_locked(origin: Origin | None = None) -> dt.datetime | None:
    """The lock on this client address after too many failed look-ups, if any."""
    return Throttle.locked_until_for(client_key(origin))


def client_key(origin: Origin | None = None) -> str:
    """The throttle key of this client address (within its relaying deployment, if relayed)."""
    return f"verify-client:{(origin or local_origin()).client}"


def count_failed_lookup(origin: Origin | None = None) -> bool:
    """Count a failed look-up of this client (an unknown truck-pass address, say) in its own
    transaction, with the row read locked first so the limit holds across nodes; False when
    the client is locked already (the look-up is refused, not judged)."""
    with write_tx():
        if Throttle.locked_until_for(client_key(origin), lock=True):
            return False
        count_client_failure(origin)
    return True


def count_client_failure(origin: Origin | None = None) -> None:
    """One more failed look-up from this client (and from its relaying deployment, if any)."""
    Throttle.register_failure(client_key(origin), limit=CLIENT_FAILURES, window=CLIENT_WINDOW)
    if origin is not None and origin.relay:
        Throttle.register_failure(relay_key(origin), limit=RELAY_FAILURES, window=CLIENT_WINDOW)


def failed_lookups_locked(origin: Origin) -> dt.datetime | None:
    """Inside the counting transaction: the lock on this client's failed look-ups (its row read
    locked, exact across nodes), or on its relaying deployment's."""
    lock = Throttle.locked_until_for(client_key(origin), lock=True)
    if lock is None and origin.relay:
        lock = Throttle.locked_until_for(relay_key(origin))
    return lock


def relay_key(origin: Origin) -> str:
    """The throttle key of unknown look-ups relayed by one deployment, whatever the address."""
    return f"verify-relay:{origin.relay_tag}"


def checker_kind(checker: User | None) -> str:
    """Who checked: an anonymous phone, a police inspector, or other staff."""
    if checker is None:
        return "anonymous"
    return "inspector" if checker.has_role("police_inspector") else "staff"


def find_elicence(handle: str | None = None, typing_key: str | None = None) -> ELicence | None:
    """The e-licence behind a QR handle or a typed key (case and spaces forgiven), with its
    licence record and the record's office code read in the same query (`elicence.record`
    costs no second one, nor the check's statistics a third)."""
    if handle:
        return ELicence.for_check("handle", handle)
    value = licencecode.normalise(typing_key)
    if len(value) != 8:
        return None
    return ELicence.for_check("typing_key", value)


def unknown_key_verdict(typing_key: str | None) -> str:
    """The verdict on a key no e-licence here has: "invalid" when it is ours to know (it begins
    with our prefix, or a QR's handle), "undetermined" when it is a typed key without our
    prefix and this deployment is one of a network: another city's (one not peered, or keys it
    made before its prefix was set), which must not be called invalid. A peer that claims its
    prefix was asked before this (relay.issuer_of_key)."""
    if not typing_key:
        return "invalid"
    own = key_prefix()
    if not own or licencecode.normalise(typing_key).startswith(own):
        return "invalid"
    return "undetermined" if Peer.select().exists() else "invalid"


def check_code(
    *,
    code: str,
    via: str,
    handle: str | None = None,
    typing_key: str | None = None,
    checker: User | None = None,
    now: float | None = None,
    origin: Origin | None = None,
) -> CheckResult:
    """Check a licence code: the heart of the verifier.

    By handle (a QR's URL) the code is the long QR code; by typing key it is the 6-digit typed
    code. Either is good for its own step (CODE_STEP_SECONDS) and the one before, once (the two
    share the e-licence's last-used step). Every check of a known e-licence is logged for its
    holder and in the audit log, in the same transaction that uses the code, so two
    simultaneous checks of one code give exactly one "valid"; a check a lock refuses is
    counted instead (RefusedCheck: one upsert, only a window's first refusal logged), so a
    flood adds no row per attempt. A check relayed by another city
    gives its `origin` (and no local `checker`): the same rules, counted here.
    """
    origin = origin or local_origin()
    now = time.time() if now is None else now
    checked_at = utcnow()
    # Read what can be read first (the e-licence with its record, the client's lock), so the
    # write transaction that follows is short.
    elicence = find_elicence(handle, typing_key)
    client_lock = client_locked(origin)
    if client_lock:
        if elicence is not None:
            with write_tx():
                log_refusal(elicence, via, checker, origin)
        return CheckResult(
            "throttled", checked_at=checked_at, locked_until=client_lock, lock="client"
        )
    if elicence is None:
        with write_tx():
            # Read again with the row locked, in the transaction that counts: parallel
            # look-ups from one address (on any node) queue here, so no more than
            # CLIENT_FAILURES of them are judged.
            Throttle.ensure(client_key(origin))  # a missing row could not be locked
            client_lock = failed_lookups_locked(origin)
            if client_lock:
                return CheckResult(
                    "throttled", checked_at=checked_at, locked_until=client_lock, lock="client"
                )
            count_client_failure(origin)
            verdict = unknown_key_verdict(typing_key)
            audit(
                "licence.check",
                None,
                result=verdict,
                actor=checker,
                detail={"via": via, "unknown": True, **_relay_detail(origin)},
            )
        if verdict == "undetermined":
            return CheckResult(verdict, checked_at=checked_at, reason="unclaimed")
        return CheckResult(verdict, checked_at=checked_at)

    with write_tx():
        if handle:
            (verdict, step), locked, lock = _qr_verdict(elicence, code, now), None, None
        else:
            verdict, locked, lock, step = _typed_verdict(elicence, code, now, origin)
        earlier = None
        if (
            verdict in AGAIN_VERDICTS
            and step is not None
            and via != "json"
            and (checker is not None or origin.ref)
        ):
            earlier = shown_again(elicence, step, checker, origin)
        if verdict == "throttled":
            log_refusal(elicence, via, checker, origin)
        else:
            # The same inspector's reload is logged as such: the holder's log does not say that
            # someone tried a used code.
            logged = SHOWN_AGAIN if earlier is not None else verdict
            log_check(elicence, via, logged, checker, origin=origin, step=step)
    result = CheckResult(
        verdict, elicence=elicence, checked_at=checked_at, locked_until=locked, lock=lock
    )
    if earlier is not None:
        # The licence as it stands now (a revocation meanwhile shows).
        result.verdict = STANDING_VERDICTS[elicence.record.standing()]
        result.shown_again_at = earlier.at
    if result.genuine:
        result.record = elicence.record
    return result


def shown_again(elicence: ELicence, step: int, checker: User | None, origin: Origin):
    """The earlier check by this same staff member that used this code's `step`: an inspector
    who reloads the result (or goes Back to it, or finds the tab again minutes later) sees the
    licence again, not "already used" or "expired".
    Logged in here, they are the checker; through another city's verifier, they are the
    relaying deployment's opaque reference to them (relay.checker_ref). Only a known staff
    member is the same person; a phone with nobody logged in (an address and a browser are
    shared by many) reads "already used"."""
    # As far back as a code is still told expired rather than invalid (a tab restored later).
    since = utcnow() - dt.timedelta(seconds=EXPIRED_LOOKBACK_STEPS * licencecode.CODE_STEP_SECONDS)
    rows = AuditEvent.select(AuditEvent.at, AuditEvent.detail).where(
        (AuditEvent.action == "licence.check")
        & (AuditEvent.object_type == "ELicence")
        & (AuditEvent.object_id == str(elicence.id))
        & (AuditEvent.at >= since)
        & AuditEvent.result.in_(GENUINE)
    )
    if origin.relay:
        rows = rows.where(AuditEvent.actor_id.is_null())
    else:
        rows = rows.where(AuditEvent.actor_id == checker.id)

    def same(detail: dict) -> bool:
        if detail.get("step") != step:
            return False
        return not origin.relay or (
            detail.get("relay") == origin.relay and detail.get("ref") == origin.ref
        )

    recent = rows.order_by(AuditEvent.id.desc()).limit(8)
    return next((row for row in recent if same(row.detail_dict)), None)


def _qr_verdict(elicence: ELicence, code: str, now: float) -> tuple[str, int | None]:
    """The QR path: the long code cannot be guessed, so a wrong one is only noise. It is logged
    but counted nowhere, and no lock refuses it: no stranger can stop a QR check. Returns the
    verdict and the code's step (None when the code is none of the licence's)."""
    if licencecode.is_old_format(code):
        return "old-code-format", None
    now_step = totp.step_at(now, step=licencecode.CODE_STEP_SECONDS)
    # One pass back over the recent steps: the own step and the one before are good, older
    # ones are reported as expired rather than invalid.
    step = licencecode.matching_qr_step(
        elicence.secret, code, now_step, back=EXPIRED_LOOKBACK_STEPS
    )
    if step is None:
        return "invalid", None
    return (_use_step(elicence, step) if step >= now_step - 1 else "expired-code"), step


def typed_pair_key(elicence: ELicence, origin: Origin | None = None) -> str:
    """The throttle key of typed checks of this licence from this client's network (within
    the relaying deployment, for a check relayed from another city)."""
    return f"typed:{elicence.typing_key}:{(origin or local_origin()).network}"


def _typed_verdict(elicence: ELicence, code: str, now: float, origin: Origin):
    """The typed path (6 digits, guessable): each client network that types wrong codes waits
    longer and longer (its own delay, nobody else's), and a ceiling across all addresses stops
    a guessing botnet without letting one stranger lock the holder out.

    Runs inside the check's write transaction; the throttle rows are read locked so that a
    burst of guesses cannot slip past the count. Returns (verdict, wait until, which lock
    refused it: "licence" for the ceiling, "network" for this network's delay, else None,
    and the code's step when it was one of the licence's).
    """
    pair = typed_pair_key(elicence, origin)
    # The licence's row first (a lock on a missing row holds nothing back: a first burst of
    # guesses would all be judged before any was counted). Locked, it queues every typed check
    # of this licence, so the pair's row needs no such care (and no row per network is made
    # for checks that are right).
    Throttle.ensure(elicence.throttle_key)
    locked = Throttle.locked_until_for(elicence.throttle_key, lock=True)
    if locked:
        return "throttled", locked, "licence", None
    locked = Throttle.locked_until_for(pair, lock=True)
    if locked:
        return "throttled", locked, "network", None
    step = totp.matching_step(
        elicence.secret, code, now, step=licencecode.CODE_STEP_SECONDS, back=1
    )
    if step is not None:
        return _use_step(elicence, step), None, None, step
    older = totp.matching_step(
        elicence.secret, code, now, step=licencecode.CODE_STEP_SECONDS, back=EXPIRED_LOOKBACK_STEPS
    )
    if older is not None:
        return "expired-code", None, None, older
    wait = Throttle.register_delayed_failure(
        pair, window=TYPED_WINDOW, delay=licencecode.typed_delay
    )
    ceiling = Throttle.register_failure(
        elicence.throttle_key, limit=TYPED_KEY_CEILING, window=TYPED_WINDOW
    )
    return "invalid", max(filter(None, (wait, ceiling)), default=None), None, None


def _use_step(elicence: ELicence, step: int) -> str:
    """Use a genuine code's step (once) and say what the check shows."""
    if elicence.accept_step(step):
        # The record as read just before: a status change racing this check is shown by the
        # next check, as it would be a moment later anyway.
        return STANDING_VERDICTS[elicence.record.standing()]
    last = ELicence.get_by_id(elicence.id).last_used_step
    return "used-code" if last == step else "expired-code"


def typed_check_standing(elicence: ELicence):
    """(end of the pause of typed checks or None, wrong typed codes in the current window,
    since when) of this licence, from one read: the code page shows the pause, else the
    guesses."""
    return Throttle.standing(elicence.throttle_key, TYPED_WINDOW)


def _relay_detail(origin: Origin) -> dict:
    """What the audit row adds about a relayed check: who relayed it, for whom."""
    if not origin.relay:
        return {}
    detail = {"relay": origin.relay, "city": origin.city, "office": origin.office}
    return {**detail, "ref": origin.ref} if origin.ref else detail


def log_refusal(elicence, via, checker, origin=None, label: str = "") -> None:
    """Record a check refused by a lock: counted in the window's RefusedCheck row (one
    upsert), and only the window's first refusal written as a check of its own, so the holder
    and the audit log see that refusals started, and a flood adds no row per attempt."""
    if RefusedCheck.count_one("licence", elicence.id) == 1:
        log_check(elicence, via, "throttled", checker, label, origin)


@dataclass
class RefusedEntry:
    """A line of the holder's check log for a window of refused checks: after the first
    refusal (logged as a check of its own), `more` attempts were refused until `last_at`."""

    first_at: dt.datetime
    last_at: dt.datetime
    more: int

    @property
    def at(self) -> dt.datetime:
        """Where the line sorts among the checks: at the window's last refusal."""
        return self.last_at


def check_log(elicence: ELicence, limit: int) -> list:
    """The holder's check log, newest first: the checks (LicenceCheck rows) and, among them,
    one line per window of refused checks with how many more were refused in it."""
    checks = list(
        LicenceCheck.select()
        .where(LicenceCheck.elicence == elicence)
        .order_by(LicenceCheck.at.desc())
        .limit(limit)
    )
    since = checks[-1].at if len(checks) == limit else None
    refused = [
        RefusedEntry(row.first_at, row.last_at, row.count - 1)
        for row in RefusedCheck.of("licence", elicence.id, since)
        if row.count > 1
    ]
    return sorted(checks + refused, key=lambda entry: entry.at, reverse=True)


def log_check(
    elicence, via, verdict, checker, label: str = "", origin=None, step: int | None = None
) -> None:
    """Record one check: a single audit entry, which the holder's check log reads (the
    LicenceCheck view: the label, city and office come from its detail) and the statistics
    count, in the check's own transaction. A relayed check carries the address the relaying
    deployment reports, not that deployment's own."""
    origin = origin or local_origin()
    kind = "firm" if via == "share" else (origin.kind or checker_kind(checker))
    label = label or origin.name
    office = origin.office
    if not office and checker is not None and kind == "inspector" and checker.office_id:
        office = checker.office.code
    audit(
        "licence.check",
        elicence,
        result=verdict,
        actor=checker,
        client_addr=origin.client_addr[:64],
        detail={
            "via": via,
            "checker": kind,
            **({"firm": label[:100]} if label else {}),
            **({"office": office[:20]} if office and not origin.relay else {}),
            **_relay_detail(origin),
            # The code's step it accepted: the same inspector's reload is told apart from
            # another's check of a copy (shown_again).
            **({"step": step} if step is not None and verdict in GENUINE else {}),
        },
        # The record's office, when the check read it with the e-licence (ELicence.for_check).
        count_office=elicence.record_office_code,
    )
