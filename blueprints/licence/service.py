"""The e-licence's logic as plain functions: issuing it, checking its codes, share codes.

Steps follow the service convention (core.steps): an explicit actor, one write transaction,
refusals as StepError. A check's verdict (CheckResult, ShareResult) is an answer, not a
refusal: every verdict, "invalid" included, is the check doing its job.
"""

import datetime as dt
import itertools
import math
import time
from dataclasses import dataclass

import pyotp
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

from core.audit import audit
from core.filelimits import PHOTO
from core.identity import identity_proven
from core.states import InvalidTransition, StateMachine
from core.steps import StepError
from core.uploads import remove_stored, store_upload
from models import (
    ELicence,
    LicenceCheck,
    LicenceRecord,
    RefusedCheck,
    ShareCode,
    Throttle,
    User,
    utcnow,
    write_tx,
)
from models.licence import new_handle, new_secret, new_typing_key
from rules import licencecode, totp
from rules.clock import beijing_today
from rules.validators import ValidationError

from .labels import ISSUE_REASONS, NEXT_STEPS
from .notices import tell_issued, tell_status
from .origin import Origin, key_prefix, local_origin

# Wrong typed codes are counted per (typing key, client network) with a progressive delay
# (rules.licencecode.typed_delay), and per key across all addresses: this many in the window
# pause typed checks of the key (QR checks go on). One client gets about a dozen tries in a
# window, so it takes many networks to reach the ceiling.
TYPED_KEY_CEILING = 100
TYPED_WINDOW = 600
# Wrong last-6 characters given with a live share code, from every client: this many in the
# window pause that share code (its licence number is being guessed).
SHARE_FAILURES = 10
# Failed look-ups per client address (unknown keys or share codes): stops enumeration.
CLIENT_FAILURES = 30
CLIENT_WINDOW = 600
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

# The clerk's actions on a record's status (restore brings it back to good standing).
RECORD_STATUS = StateMachine(
    "licence_record",
    "status",
    {
        "valid": {"suspended", "revoked", "cancelled"},
        "suspended": {"valid", "revoked", "cancelled"},
        "revoked": {"valid", "cancelled"},
        "points_full": {"valid", "suspended", "revoked", "cancelled"},
        "overdue_review": {"valid", "suspended", "revoked", "cancelled"},
        "expired": {"valid", "cancelled"},
        "cancelled": set(),
    },
)
PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg", "image/png"}


def issue_refusal(reason: str):
    """The words of a refused application, for its reason: what is wrong and what to do next
    (a record's standing has its own next step, labels.NEXT_STEPS)."""
    return (
        ISSUE_REASONS.get(reason)
        or NEXT_STEPS.get(reason)
        or _l("Your licence record is not in good standing, so no e-licence can be issued.")
    )


class IssueRefused(StepError):
    """The e-licence cannot be issued; `reason` is identity-unproven, no-record, name-mismatch
    or the standing."""

    def __init__(self, reason: str):
        """Keep the reason code (audited and counted) beside the words for the applicant."""
        super().__init__(issue_refusal(reason))
        self.reason = reason


# How many times an application draws new random keys after a clash with another licence's.
KEY_ATTEMPTS = 3


def refusal_reason(user: User, record: LicenceRecord | None) -> str | None:
    """Why `record` (the one kept under the user's ID number, or None) gets the user no
    e-licence: a key of ISSUE_REASONS when it is not theirs to have, else its standing when
    that is not good; None when it may be issued."""
    if not identity_proven(user):
        return "identity-unproven"
    if record is None:
        return "no-record"
    if record.name != user.real_name:
        return "name-mismatch"
    return None if record.in_good_standing() else record.standing()


def held_record(user: User) -> LicenceRecord | None:
    """The user's own licence record (proven, kept under their ID number, in their name), in
    good standing or not; None when they hold none."""
    record = LicenceRecord.by_licence_no_with_office(user.resident_id or "")
    return None if refusal_reason(user, record) in ISSUE_REASONS else record


def apply_for_elicence(user: User) -> ELicence:
    """Issue the e-licence at once when the user's name and ID number match a record in good
    standing; otherwise the refusal is audited and raised (IssueRefused, a StepError). Issuing
    twice returns the existing e-licence.

    Only an account that proved its ID number gets the licence kept under it (core.identity).
    """
    # The record and the code of its office (the counters' office) in one statement.
    record = LicenceRecord.by_licence_no_with_office(user.resident_id or "")
    office = record.office_code if record is not None else ""
    reason = refusal_reason(user, record)
    if reason is not None:
        with write_tx():
            audit("licence.apply_refused", user, actor=user, result=reason, count_office=office)
        raise IssueRefused(reason)
    # No lookup first: the record's e-licence is unique, so a second application (a double
    # tap, or one after the first was issued) fails this insert and gets the one issued, its
    # audit row and notice rolled back with it. A clash on a random key instead (another
    # licence's typing key: one in many thousands) is tried again with new keys.
    for attempt in itertools.count(1):
        try:
            return _issue(user, record, office)
        except IntegrityError:
            issued = ELicence.get_or_none(ELicence.record == record.id)
            if issued is not None:
                return issued
            if attempt == KEY_ATTEMPTS:
                raise


def _issue(user: User, record: LicenceRecord, office: str) -> ELicence:
    """Insert the e-licence with new random keys, its audit row and the holder's notice, in
    one transaction (IntegrityError when the record has one already, or a key clashed)."""
    with write_tx():
        elicence = ELicence(
            holder=user.id,
            record=record.id,
            secret=new_secret(),
            typing_key=new_typing_key(key_prefix()),
        )
        elicence.insert_new()
        audit(
            "licence.issue",
            elicence,
            actor=user,
            detail={"record": record.id},
            count_office=office,
        )
        tell_issued(user, record)
    return elicence


def reveal_number(elicence: ELicence, actor: User) -> LicenceRecord:
    """The holder asks to see their full licence number: shown once, and audited."""
    with write_tx():
        audit("licence.reveal", elicence.record, actor=actor, detail={"by": "holder"})
    return elicence.record


def reset_codes(elicence: ELicence, actor: User) -> ELicence:
    """Revoke every outstanding code: new secret, new handle, new typing key."""
    with write_tx():
        ELicence.update(
            secret=new_secret(),
            handle=new_handle(),
            typing_key=new_typing_key(key_prefix()),
            last_used_step=None,
            codes_reset_at=utcnow(),
        ).where(ELicence.id == elicence.id).execute()
        audit("licence.codes_reset", elicence, actor=actor)
    return ELicence.get_by_id(elicence.id)


def current_code(elicence: ELicence, now: float | None = None) -> tuple[str, int]:
    """The code to type now (6 digits), and the seconds it stays current."""
    now = time.time() if now is None else now
    step = totp.step_at(now, step=licencecode.CODE_STEP_SECONDS)
    remaining = totp.seconds_left(now, step=licencecode.CODE_STEP_SECONDS)
    return code_generator(elicence).generate_otp(step), remaining


def code_generator(elicence: ELicence) -> pyotp.TOTP:
    """The generator of this e-licence's codes, with the licence code's step."""
    return totp.totp(elicence.secret, step=licencecode.CODE_STEP_SECONDS)


def current_qr_code(elicence: ELicence, now: float | None = None) -> str:
    """The long code the QR carries now (same step as the typed code; never typed)."""
    now = time.time() if now is None else now
    return licencecode.qr_code(
        elicence.secret, totp.step_at(now, step=licencecode.CODE_STEP_SECONDS)
    )


def verify_url(base_url: str, elicence: ELicence, qr_code: str) -> str:
    """What the QR encodes: <PUBLIC_BASE_URL>/v/<handle>/<QR code>."""
    return f"{base_url}/v/{elicence.handle}/{qr_code}"


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
        _client_failure(origin)
    return True


def _client_failure(origin: Origin | None = None) -> None:
    """One more failed look-up from this client."""
    Throttle.register_failure(client_key(origin), limit=CLIENT_FAILURES, window=CLIENT_WINDOW)


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
    key = "".join((typing_key or "").split()).replace("-", "").upper()
    value = key.replace("O", "0").replace("I", "1").replace("L", "1")  # Crockford's readings
    if len(value) != 8:
        return None
    return ELicence.for_check("typing_key", value)


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
                _log_refusal(elicence, via, checker, origin)
        return CheckResult(
            "throttled", checked_at=checked_at, locked_until=client_lock, lock="client"
        )
    if elicence is None:
        with write_tx():
            # Read again with the row locked, in the transaction that counts: parallel
            # look-ups from one address (on any node) queue here, so no more than
            # CLIENT_FAILURES of them are judged.
            Throttle.ensure(client_key(origin))  # a missing row could not be locked
            client_lock = Throttle.locked_until_for(client_key(origin), lock=True)
            if client_lock:
                return CheckResult(
                    "throttled", checked_at=checked_at, locked_until=client_lock, lock="client"
                )
            _client_failure(origin)
            audit(
                "licence.check",
                None,
                result="invalid",
                actor=checker,
                detail={"via": via, "unknown": True, **_relay_detail(origin)},
            )
        return CheckResult("invalid", checked_at=checked_at)

    with write_tx():
        if handle:
            verdict, locked, lock = _qr_verdict(elicence, code, now), None, None
        else:
            verdict, locked, lock = _typed_verdict(elicence, code, now, origin)
        if verdict == "throttled":
            _log_refusal(elicence, via, checker, origin)
        else:
            _log_check(elicence, via, verdict, checker, origin=origin)
    result = CheckResult(
        verdict, elicence=elicence, checked_at=checked_at, locked_until=locked, lock=lock
    )
    if result.genuine:
        result.record = elicence.record
    return result


def _qr_verdict(elicence: ELicence, code: str, now: float) -> str:
    """The QR path: the long code cannot be guessed, so a wrong one is only noise. It is logged
    but counted nowhere, and no lock refuses it: no stranger can stop a QR check."""
    if licencecode.is_old_format(code):
        return "old-code-format"
    now_step = totp.step_at(now, step=licencecode.CODE_STEP_SECONDS)
    # One pass back over the recent steps: the own step and the one before are good, older
    # ones are reported as expired rather than invalid.
    step = licencecode.matching_qr_step(
        elicence.secret, code, now_step, back=EXPIRED_LOOKBACK_STEPS
    )
    if step is None:
        return "invalid"
    return _use_step(elicence, step) if step >= now_step - 1 else "expired-code"


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
    refused it: "licence" for the ceiling, "network" for this network's delay, else None).
    """
    pair = typed_pair_key(elicence, origin)
    # The licence's row first (a lock on a missing row holds nothing back: a first burst of
    # guesses would all be judged before any was counted). Locked, it queues every typed check
    # of this licence, so the pair's row needs no such care (and no row per network is made
    # for checks that are right).
    Throttle.ensure(elicence.throttle_key)
    locked = Throttle.locked_until_for(elicence.throttle_key, lock=True)
    if locked:
        return "throttled", locked, "licence"
    locked = Throttle.locked_until_for(pair, lock=True)
    if locked:
        return "throttled", locked, "network"
    step = totp.matching_step(
        elicence.secret, code, now, step=licencecode.CODE_STEP_SECONDS, back=1
    )
    if step is not None:
        return _use_step(elicence, step), None, None
    older = totp.matching_step(
        elicence.secret, code, now, step=licencecode.CODE_STEP_SECONDS, back=EXPIRED_LOOKBACK_STEPS
    )
    if older is not None:
        return "expired-code", None, None
    wait = Throttle.register_delayed_failure(
        pair, window=TYPED_WINDOW, delay=licencecode.typed_delay
    )
    ceiling = Throttle.register_failure(
        elicence.throttle_key, limit=TYPED_KEY_CEILING, window=TYPED_WINDOW
    )
    return "invalid", max(filter(None, (wait, ceiling)), default=None), None


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
    return {"relay": origin.relay, "city": origin.city, "office": origin.office}


def _log_refusal(elicence, via, checker, origin=None, label: str = "") -> None:
    """Record a check refused by a lock: counted in the window's RefusedCheck row (one
    upsert), and only the window's first refusal written as a check of its own, so the holder
    and the audit log see that refusals started, and a flood adds no row per attempt."""
    if RefusedCheck.count_one("licence", elicence.id) == 1:
        _log_check(elicence, via, "throttled", checker, label, origin)


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


def _log_check(elicence, via, verdict, checker, label: str = "", origin=None) -> None:
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
        },
        # The record's office, when the check read it with the e-licence (ELicence.for_check).
        count_office=elicence.record_office_code,
    )


def create_share_code(
    elicence: ELicence, days: int, show_points: bool, note: str, actor: User | None = None
) -> ShareCode:
    """A code for a firm, valid for `days` (1 to 21) from now; `actor` is the holder."""
    if not 1 <= days <= 21:
        raise StepError(_l("A share code lasts from 1 to 21 days."), "days")
    with write_tx():
        share = ShareCode.create(
            code=new_typing_key(key_prefix()),
            elicence=elicence,
            expires_at=utcnow() + dt.timedelta(days=days),
            show_points=show_points,
            note=note.strip()[:60],
        )
        audit(
            "licence.share_create",
            share,
            actor=actor,
            detail={"days": days, "points": show_points},
        )
    return share


def cancel_share_code(share: ShareCode, actor: User | None = None) -> bool:
    """Cancel a live share code (a conditional update: at most once); `actor` is the holder."""
    with write_tx():
        changed = (
            ShareCode.update(cancelled_at=utcnow())
            .where((ShareCode.id == share.id) & ShareCode.cancelled_at.is_null())
            .execute()
        )
        if changed:
            audit("licence.share_cancel", share, actor=actor)
    return changed == 1


@dataclass
class ShareResult:
    """What a firm sees for a share code."""

    verdict: str  # valid | invalid | expired-code | throttled | <standing verdicts>
    share: ShareCode | None = None
    record: LicenceRecord | None = None
    checked_at: dt.datetime | None = None
    # Which lock refused a "throttled" check: "client" (this address) or "share" (this code).
    lock: str | None = None

    @property
    def genuine(self) -> bool:
        """The share code and licence number matched a live code."""
        return self.verdict in GENUINE

    @property
    def shows_points(self) -> bool:
        """The holder let this share code show the points."""
        return self.share is not None and self.share.show_points


def check_share_code(
    code: str, last6: str, firm: str = "", origin: Origin | None = None
) -> ShareResult:
    """A firm's check: a live share code and the last 6 characters of the licence number (from
    this deployment's verifier, or relayed by another city's with its `origin`)."""
    origin = origin or local_origin()
    checked_at = utcnow()
    if client_locked(origin):
        return ShareResult("throttled", checked_at=checked_at, lock="client")
    code = "".join((code or "").split()).replace("-", "").upper()
    last6 = "".join((last6 or "").split()).upper()
    share = ShareCode.get_or_none(ShareCode.code == code) if len(code) == 8 else None
    record = None
    if share is not None:
        record = LicenceRecord.get_by_id(share.elicence.record_id)
    if share is not None and Throttle.locked_until_for(f"share:{share.id}"):
        # A live code whose licence number is being guessed: paused for every client.
        with write_tx():
            _log_refusal(share.elicence, "share", None, origin, firm[:100])
        return ShareResult("throttled", checked_at=checked_at, lock="share")
    if share is None or len(last6) != 6 or record.licence_no[-6:] != last6:
        with write_tx():
            # Locked read in the counting transaction, as in check_code: exact across nodes.
            if Throttle.locked_until_for(client_key(origin), lock=True):
                return ShareResult("throttled", checked_at=checked_at, lock="client")
            _client_failure(origin)
            if share is not None:
                Throttle.register_failure(
                    f"share:{share.id}", limit=SHARE_FAILURES, window=CLIENT_WINDOW
                )
                _log_check(share.elicence, "share", "invalid", None, firm[:100], origin)
            else:
                audit(
                    "licence.check",
                    None,
                    result="invalid",
                    detail={"via": "share", "unknown": True},
                )
        return ShareResult("invalid", checked_at=checked_at)
    verdict = STANDING_VERDICTS[record.standing()] if share.is_live() else "expired-code"
    with write_tx():
        _log_check(share.elicence, "share", verdict, None, firm[:100], origin)
    return ShareResult(verdict, share=share, record=record, checked_at=checked_at)


# --- Licence clerks' steps on a record ----------------------------------------------------


def set_record_status(record: LicenceRecord, to_state: str, reason: str, actor: User) -> None:
    """Suspend, revoke, cancel or restore a record, with the reason (the next check shows it);
    StepError when the move is not possible or someone else changed the record meanwhile."""
    try:
        with write_tx():
            moved = RECORD_STATUS.apply(
                record,
                to_state,
                actor=actor,
                detail={"reason": reason},
                status_reason=reason.strip(),
                status_changed_at=utcnow(),
                updated_at=utcnow(),
            )
            if moved:
                tell_status(record, beijing_today().isoformat())
    except InvalidTransition:
        moved = False
    if not moved:
        raise StepError(_l("Someone else changed this licence meanwhile; nothing was done."))


def set_record_photo(record: LicenceRecord, upload, actor: User) -> None:
    """Store the holder's photo (type by content, size capped, server-made name) and put it on
    the record, audited; the photo it replaces is removed. StepError on `photo` when refused."""
    try:
        stored = store_upload(upload, "photos", PHOTO_TYPES, PHOTO_MAX_BYTES, PHOTO)
    except ValidationError as exc:
        raise StepError(exc.message, "photo") from None
    try:
        with write_tx():
            LicenceRecord.update(photo=stored.relpath, updated_at=utcnow()).where(
                LicenceRecord.id == record.id
            ).execute()
            audit("licence.photo", record, actor=actor, detail={"sha256": stored.sha256})
    except Exception:
        remove_stored(stored.relpath)  # nothing half written: no file without its row
        raise
    remove_stored(record.photo)  # the photo it replaces
