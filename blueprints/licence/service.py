"""The e-licence's logic as plain functions: issuing it, checking its codes, share codes."""

import datetime as dt
import time
from dataclasses import dataclass

import pyotp
from peewee import IntegrityError

from core.audit import audit, client_addr
from core.identity import identity_proven
from models import (
    ELicence,
    LicenceCheck,
    LicenceRecord,
    ShareCode,
    Throttle,
    User,
    utcnow,
    write_tx,
)
from models.base import compiled_get, compiled_insert
from models.licence import new_handle, new_typing_key
from rules import totp

# Failed checks per licence (per handle): 10 in 10 minutes lock it for the rest of the window.
LICENCE_FAILURES = 10
LICENCE_WINDOW = 600
# Failed look-ups per client address (unknown keys or share codes): stops enumeration.
CLIENT_FAILURES = 30
CLIENT_WINDOW = 600
# A code this many steps old is reported as expired rather than invalid.
EXPIRED_LOOKBACK_STEPS = 20

# The verdicts of DESIGN.md's verifier contract, from the record's standing.
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


@dataclass
class IssueResult:
    """The outcome of applying for the e-licence."""

    elicence: ELicence | None = None
    reason: str | None = None  # no-record | name-mismatch | <record standing>


def apply_for_elicence(user: User) -> IssueResult:
    """Issue the e-licence at once when the user's name and ID number match a record in good
    standing; otherwise say why not. Issuing twice returns the existing e-licence.

    Only an account that proved its ID number gets the licence kept under it (core.identity).
    """
    if not identity_proven(user):
        return IssueResult(reason="identity-unproven")
    record = compiled_get(
        LicenceRecord,
        "licence-record-by-number",
        lambda: LicenceRecord.select().where(LicenceRecord.licence_no == ""),
        user.resident_id or "",
    )
    if record is None:
        return IssueResult(reason="no-record")
    if record.name != user.real_name:
        return IssueResult(reason="name-mismatch")
    if not record.in_good_standing():
        return IssueResult(reason=record.standing())
    try:
        with write_tx():
            existing = compiled_get(
                ELicence,
                "elicence-by-record",
                lambda: ELicence.select().where(ELicence.record == 0),
                record.id,
            )
            if existing is not None:
                return IssueResult(elicence=existing)
            elicence = ELicence(holder=user.id, record=record.id, secret=pyotp.random_base32())
            compiled_insert(elicence)
            audit("licence.issue", elicence, actor=user, detail={"record": record.id})
    except IntegrityError:
        # Two applications at the same moment (a double tap): the other one issued it.
        return IssueResult(elicence=ELicence.get(ELicence.record == record))
    return IssueResult(elicence=elicence)


def reset_codes(elicence: ELicence, actor: User) -> ELicence:
    """Revoke every outstanding code: new secret, new handle, new typing key."""
    with write_tx():
        ELicence.update(
            secret=pyotp.random_base32(),
            handle=new_handle(),
            typing_key=new_typing_key(),
            last_used_step=None,
            codes_reset_at=utcnow(),
        ).where(ELicence.id == elicence.id).execute()
        audit("licence.codes_reset", elicence, actor=actor)
    return ELicence.get_by_id(elicence.id)


def current_code(elicence: ELicence, now: float | None = None) -> tuple[str, int]:
    """The code to show now, and the seconds it stays current."""
    now = time.time() if now is None else now
    step = totp.step_at(now)
    remaining = totp.STEP_SECONDS - int(now % totp.STEP_SECONDS)
    return totp.totp(elicence.secret).generate_otp(step), remaining


def verify_url(base_url: str, elicence: ELicence, code: str) -> str:
    """What the QR encodes: <PUBLIC_BASE_URL>/v/<handle>/<code>."""
    return f"{base_url}/v/{elicence.handle}/{code}"


@dataclass
class CheckResult:
    """A verdict and what the verifier may show with it."""

    verdict: str
    elicence: ELicence | None = None
    record: LicenceRecord | None = None
    checked_at: dt.datetime | None = None
    locked_until: dt.datetime | None = None

    @property
    def genuine(self) -> bool:
        """The code was genuine and current: the licence's own data may be shown."""
        return self.verdict in GENUINE


def client_locked() -> dt.datetime | None:
    """The lock on this client address after too many failed look-ups, if any."""
    return Throttle.locked_until_for(client_key())


def client_key() -> str:
    """The throttle key of this client address."""
    return f"verify-client:{client_addr()}"


def _client_failure() -> None:
    Throttle.register_failure(client_key(), limit=CLIENT_FAILURES, window=CLIENT_WINDOW)


def checker_kind(checker: User | None) -> str:
    """Who checked: an anonymous phone, a police inspector, or other staff."""
    if checker is None:
        return "anonymous"
    return "inspector" if checker.has_role("police_inspector") else "staff"


def find_elicence(handle: str | None = None, typing_key: str | None = None) -> ELicence | None:
    """The e-licence behind a QR handle or a typed key (case and spaces forgiven), with its
    licence record read in the same query (`elicence.record` costs no second one)."""
    if handle:
        column, value = "handle", handle
    else:
        key = "".join((typing_key or "").split()).replace("-", "").upper()
        value = key.replace("O", "0").replace("I", "1").replace("L", "1")  # Crockford's readings
        if len(value) != 8:
            return None
        column = "typing_key"
    # Two one-row lookups with compiled SQL text cost less than building one join.
    elicence = compiled_get(
        ELicence,
        f"elicence-by-{column}",
        lambda: ELicence.select().where(getattr(ELicence, column) == ""),
        value,
    )
    if elicence is not None:
        elicence.record = compiled_get(
            LicenceRecord,
            "licence-record-by-id",
            lambda: LicenceRecord.select().where(LicenceRecord.id == 0),
            elicence.record_id,
        )
    return elicence


def check_code(
    *,
    code: str,
    via: str,
    handle: str | None = None,
    typing_key: str | None = None,
    checker: User | None = None,
    now: float | None = None,
) -> CheckResult:
    """Check a licence code: the heart of the verifier.

    A code is good for its own 30 s step and the one before, once. Every check of a known
    e-licence is logged for its holder and in the audit log, in the same transaction that uses
    the code, so two simultaneous checks of one code give exactly one "valid".
    """
    now = time.time() if now is None else now
    checked_at = utcnow()
    # Read what can be read first (the e-licence with its record, the client's lock), so the
    # write transaction that follows is short; the licence's own lock is read inside it, with
    # the row locked, so that a burst of guesses cannot slip past the count.
    elicence = find_elicence(handle, typing_key)
    client_lock = client_locked()
    if client_lock:
        return CheckResult("throttled", checked_at=checked_at, locked_until=client_lock)
    if elicence is None:
        with write_tx():
            _client_failure()
            audit("licence.check", None, result="invalid", actor=checker,
                  detail={"via": via, "unknown": True})  # fmt: skip
        return CheckResult("invalid", checked_at=checked_at)

    with write_tx():
        locked = Throttle.locked_until_for(elicence.throttle_key, lock=True)
        if locked:
            verdict = "throttled"
        else:
            step = totp.matching_step(elicence.secret, code, now, back=1)
            if step is None:
                older = totp.matching_step(elicence.secret, code, now, back=EXPIRED_LOOKBACK_STEPS)
                if older is not None:
                    verdict = "expired-code"
                else:
                    verdict = "invalid"
                    locked = Throttle.register_failure(
                        elicence.throttle_key, limit=LICENCE_FAILURES, window=LICENCE_WINDOW
                    )
            elif elicence.accept_step(step):
                # The record as read just before: a status change racing this check is
                # shown by the next check, as it would be a moment later anyway.
                verdict = STANDING_VERDICTS[elicence.record.standing()]
            else:
                last = ELicence.get_by_id(elicence.id).last_used_step
                verdict = "used-code" if last == step else "expired-code"
        _log_check(elicence, via, verdict, checker)
    result = CheckResult(verdict, elicence=elicence, checked_at=checked_at, locked_until=locked)
    if result.genuine:
        result.record = elicence.record
    return result


def _log_check(elicence, via, verdict, checker, label: str = "") -> None:
    kind = "firm" if via == "share" else checker_kind(checker)
    compiled_insert(
        LicenceCheck(
            elicence=elicence.id,
            via=via,
            checker_kind=kind,
            checker=checker.id if checker else None,
            checker_label=label,
            verdict=verdict,
            client_addr=client_addr(),
        )
    )
    audit("licence.check", elicence, result=verdict, actor=checker,
          detail={"via": via, "checker": kind, **({"firm": label} if label else {})})  # fmt: skip


def create_share_code(elicence: ELicence, days: int, show_points: bool, note: str) -> ShareCode:
    """A code for a firm, valid for `days` (1 to 21) from now."""
    if not 1 <= days <= 21:
        raise ValueError("days must be 1..21")
    with write_tx():
        share = ShareCode.create(
            elicence=elicence,
            expires_at=utcnow() + dt.timedelta(days=days),
            show_points=show_points,
            note=note.strip()[:60],
        )
        audit("licence.share_create", share, detail={"days": days, "points": show_points})
    return share


def cancel_share_code(share: ShareCode) -> bool:
    """Cancel a live share code (a conditional update: at most once)."""
    with write_tx():
        changed = (
            ShareCode.update(cancelled_at=utcnow())
            .where((ShareCode.id == share.id) & ShareCode.cancelled_at.is_null())
            .execute()
        )
        if changed:
            audit("licence.share_cancel", share)
    return changed == 1


@dataclass
class ShareResult:
    """What a firm sees for a share code."""

    verdict: str  # valid | invalid | expired-code | throttled | <standing verdicts>
    share: ShareCode | None = None
    record: LicenceRecord | None = None
    checked_at: dt.datetime | None = None

    @property
    def genuine(self) -> bool:
        """The share code and licence number matched a live code."""
        return self.verdict in GENUINE


def check_share_code(code: str, last6: str, firm: str = "") -> ShareResult:
    """A firm's check: a live share code and the last 6 characters of the licence number."""
    checked_at = utcnow()
    if client_locked():
        return ShareResult("throttled", checked_at=checked_at)
    code = "".join((code or "").split()).replace("-", "").upper()
    last6 = "".join((last6 or "").split()).upper()
    share = ShareCode.get_or_none(ShareCode.code == code) if len(code) == 8 else None
    record = None
    if share is not None:
        record = LicenceRecord.get_by_id(share.elicence.record_id)
    if share is None or len(last6) != 6 or record.licence_no[-6:] != last6:
        with write_tx():
            _client_failure()
            if share is not None:
                _log_check(share.elicence, "share", "invalid", None, firm[:100])
        return ShareResult("invalid", checked_at=checked_at)
    verdict = STANDING_VERDICTS[record.standing()] if share.is_live() else "expired-code"
    with write_tx():
        _log_check(share.elicence, "share", verdict, None, firm[:100])
    return ShareResult(verdict, share=share, record=record, checked_at=checked_at)
