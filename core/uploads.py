"""Uploaded files: type checked by content, size capped, stored under a server-made name with
their SHA-256, never at a path the uploader chose."""

import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from core.filelimits import DEFAULT, Limits, check_file
from rules.validators import ValidationError

# Magic numbers of the types this system accepts.
SIGNATURES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}
# A stored upload served back runs no script, whatever is inside the file. object-src 'self'
# lets the browser's own PDF viewer show a PDF opened from this site.
FILE_CSP = (
    "default-src 'none'; img-src 'self'; object-src 'self'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'"
)


def sniff_type(head: bytes) -> str | None:
    """The MIME type of a file from its first bytes, or None when it is not one we accept."""
    for magic, mime in SIGNATURES.items():
        if head.startswith(magic):
            return mime
    return None


@dataclass
class StoredFile:
    """Where an upload was stored and what it is."""

    relpath: str  # relative to UPLOAD_FOLDER
    sha256: str
    size: int
    mime: str


def store_bytes(
    data: bytes, subfolder: str, allowed: set[str], max_bytes: int, limits: Limits | None = DEFAULT
) -> StoredFile:
    """Check and store file content; raises ValidationError with a message for the user.

    The whole file is opened within `limits` first (pixels, pages, inflated size, time:
    core.filelimits); None when the caller has just done that itself.
    """
    if not data:
        raise ValidationError(_l("The file is empty."))
    if len(data) > max_bytes:
        raise ValidationError(
            _l("The file is larger than %(mb).1f MB.", mb=max_bytes / 1024 / 1024)
        )
    mime = sniff_type(data[:16])
    if mime not in allowed:
        raise ValidationError(_l("This kind of file is not accepted here."))
    if limits is not None:
        check_file(data, mime, limits)
    digest = hashlib.sha256(data).hexdigest()
    name = secrets.token_hex(16) + EXTENSIONS[mime]
    folder = os.path.join(current_app.config["UPLOAD_FOLDER"], subfolder)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{name}.part")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, os.path.join(folder, name))  # never half a file under the real name
    except OSError:
        # A full disk (or a failing one): the half-written copy goes, and the error goes on to
        # core.errors, which answers "storage full" (503) for ENOSPC.
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    return StoredFile(relpath=f"{subfolder}/{name}", sha256=digest, size=len(data), mime=mime)


def store_upload(
    file_storage, subfolder: str, allowed: set[str], max_bytes: int, limits: Limits = DEFAULT
) -> StoredFile:
    """Store a werkzeug FileStorage from a form (reads at most max_bytes + 1)."""
    data = file_storage.stream.read(max_bytes + 1)
    return store_bytes(data, subfolder, allowed, max_bytes, limits)


def absolute_path(relpath: str) -> str:
    """The file on disk for a stored relative path (which the server made, never a user)."""
    root = os.path.realpath(current_app.config["UPLOAD_FOLDER"])
    path = os.path.realpath(os.path.join(root, relpath))
    if not path.startswith(root + os.sep):
        raise ValueError("path escapes the upload folder")
    return path


def remove_stored(relpath: str | None) -> None:
    """Delete a stored file again (its row could not be written, or it was replaced)."""
    if not relpath:
        return
    try:
        os.remove(absolute_path(relpath))
    except (OSError, ValueError):
        current_app.logger.warning("could not remove %s", relpath)
