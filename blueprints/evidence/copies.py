"""A party's copies of evidence: each one watermarked with who, when and which copy, made once
at the party's first look and kept, and counted per hour (making one costs seconds of CPU for a
long PDF). Officers get the originals, uncounted. The drawing itself is files.py's.
"""

import contextlib
import os
import secrets

from flask import current_app
from flask_babel import gettext as _

from core.i18n import localtime
from core.uploads import EXTENSIONS, absolute_path
from models import AccidentCase, CaseParty, EvidenceAccess, EvidenceItem, Throttle, User, write_tx
from rules.validators import mask_id

from .files import LAYOUT, watermark
from .service import CaseAccess

COPIES_SUBFOLDER = "evidence-copies"  # parties' watermarked copies, kept (file_bytes)


def watermark_lines(party: CaseParty, case: AccidentCase, access_row: EvidenceAccess) -> list:
    """What a party's copy says about its source: who (the party as the case records them, not
    the account's own typing of the name), when, which case, which copy."""
    return [
        f"{party.name}  {mask_id(party.resident_id)}",
        f"{localtime(access_row.at, 'yyyy-MM-dd HH:mm')} · {case.case_no}",
        _("Copy No. %(n)s · for the parties' review only", n=f"{access_row.id:06d}"),
    ]


# Every copy a party gets is made for them (a watermark on every page: seconds of CPU for a
# long PDF) and is a copy of sensitive evidence: a party may make a limited number per hour,
# counted across processes and nodes (models.Throttle). An officer's originals do not count.
COPY_WINDOW = 3600


def copies_resume_at(user: User):
    """Count one copy for a party; returns when copies resume if the party has used up the
    hour's copies (this one is then refused), else None (this one may be made)."""
    key = f"evidence-copies:user:{user.id}"
    with write_tx():
        locked = Throttle.locked_until_for(key, lock=True)
        if locked is None:
            # A copy counts like an attempt: the limit-th copy is made, the next is refused.
            limit = int(current_app.config.get("EVIDENCE_COPIES_PER_HOUR", 60))
            Throttle.register_failure(key, limit=limit, window=COPY_WINDOW)
    return locked


def copies_paused_until(user: User):
    """When a party's copies resume, if the hour's copies are used up now, else None.

    Counts nothing: the item page asks it, to say so in words instead of showing a picture
    that would be refused (a broken image with no words)."""
    return Throttle.locked_until_for(f"evidence-copies:user:{user.id}")


def copy_path(item: EvidenceItem, user: User, layout: int = LAYOUT) -> str:
    """Where a party's watermarked copy of an item is kept (one per party, item and layout).

    The layout's number is in the name, so a copy kept with an older layout is not served:
    it is made again with the present one (and the old file removed, see file_bytes)."""
    stem = f"{item.id}-{user.id}" if layout == 1 else f"{item.id}-{user.id}-v{layout}"
    return f"{COPIES_SUBFOLDER}/{stem}{EXTENSIONS[item.mime]}"


def file_bytes(access: CaseAccess, item: EvidenceItem, access_row: EvidenceAccess) -> bytes:
    """The file as this user gets it: the original for officers, a watermarked copy for parties.

    A party's copy is made once, at their first view or download (numbered after that access),
    and kept: a long PDF is watermarked once, not at every look, so no later request waits.
    """
    if not access.is_officer:
        kept = absolute_path(copy_path(item, access.user))
        with contextlib.suppress(FileNotFoundError), open(kept, "rb") as fh:
            return fh.read()
    with open(absolute_path(item.file_path), "rb") as fh:
        data = fh.read()
    if access.is_officer:
        return data
    copy = watermark(data, item.mime, watermark_lines(access.party, access.case, access_row))
    keep_copy(kept, copy)
    for older in range(1, LAYOUT):
        with contextlib.suppress(OSError):
            os.remove(absolute_path(copy_path(item, access.user, older)))
    return copy


def keep_copy(path: str, copy: bytes) -> None:
    """Keep a made copy for next time (written whole, then renamed). A copy that cannot be kept
    (a full disk) is still served: it is made again next time."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{secrets.token_hex(4)}.part"
    try:
        with open(tmp, "wb") as fh:
            fh.write(copy)
        os.replace(tmp, path)
    except OSError as exc:
        current_app.logger.warning("could not keep the copy %s: %s", path, exc)
        with contextlib.suppress(OSError):
            os.remove(tmp)
