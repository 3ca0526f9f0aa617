"""Share codes: a holder lets a firm (a rental or insurance firm, a transport company) check
their licence for a few days with a code and the licence number's last six characters.

A firm's check gives a ShareResult, logged in the holder's check log like any other check.
"""

import datetime as dt
import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from core.audit import audit
from core.steps import StepError
from models import (
    ELicence,
    LicenceRecord,
    ShareCode,
    Throttle,
    User,
    for_update,
    utcnow,
    write_tx,
)
from models.licence import new_typing_key
from rules import licencecode

from .checks import (
    CLIENT_WINDOW,
    GENUINE,
    STANDING_VERDICTS,
    client_locked,
    count_client_failure,
    failed_lookups_locked,
    log_check,
    log_refusal,
)
from .origin import Origin, key_prefix, local_origin

# Wrong last-6 characters given with a live share code, from every client: this many in the
# window pause that share code (its licence number is being guessed).
SHARE_FAILURES = 10
# Share codes live at once for one licence: enough for every firm a person deals with, and a
# bound on what a share page lists and a guesser can aim at.
MAX_LIVE_SHARES = 10


def create_share_code(
    elicence: ELicence, days: int, show_points: bool, note: str, actor: User | None = None
) -> ShareCode:
    """A code for a firm, valid for `days` (1 to 21) from now; `actor` is the holder."""
    if not 1 <= days <= 21:
        raise StepError(_l("A share code lasts from 1 to 21 days."), "days")
    with write_tx():
        # The licence's row locked: two creations at once count each other's codes.
        for_update(ELicence.select(ELicence.id).where(ELicence.id == elicence.id)).first()
        live = ShareCode.select().where(
            (ShareCode.elicence == elicence)
            & ShareCode.cancelled_at.is_null()
            & (ShareCode.expires_at > utcnow())
        )
        if live.count() >= MAX_LIVE_SHARES:
            raise StepError(
                _l(
                    "You have %(n)d share codes in use, the most there may be at once. Cancel "
                    "one that is no longer needed first.",
                    n=MAX_LIVE_SHARES,
                )
            )
        share = ShareCode.create(
            code=new_typing_key(key_prefix()),
            elicence=elicence,
            expires_at=utcnow() + dt.timedelta(days=days),
            show_points=show_points,
            note=note.strip()[:60],
        )
        audit(
            "licence.share_create", share, actor=actor, detail={"days": days, "points": show_points}
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
    code = licencecode.normalise(code)
    last6 = "".join(unicodedata.normalize("NFKC", last6 or "").split()).upper()
    share = ShareCode.get_or_none(ShareCode.code == code) if len(code) == 8 else None
    record = None
    if share is not None:
        record = LicenceRecord.get_by_id(share.elicence.record_id)
    if share is not None and Throttle.locked_until_for(f"share:{share.id}"):
        # A live code whose licence number is being guessed: paused for every client.
        with write_tx():
            log_refusal(share.elicence, "share", None, origin, firm[:100])
        return ShareResult("throttled", checked_at=checked_at, lock="share")
    if share is None or len(last6) != 6 or record.licence_no[-6:] != last6:
        with write_tx():
            # Locked read in the counting transaction, as in check_code: exact across nodes.
            if failed_lookups_locked(origin):
                return ShareResult("throttled", checked_at=checked_at, lock="client")
            count_client_failure(origin)
            if share is not None:
                Throttle.register_failure(
                    f"share:{share.id}", limit=SHARE_FAILURES, window=CLIENT_WINDOW
                )
                log_check(share.elicence, "share", "invalid", None, firm[:100], origin)
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
        log_check(share.elicence, "share", verdict, None, firm[:100], origin)
    return ShareResult(verdict, share=share, record=record, checked_at=checked_at)
