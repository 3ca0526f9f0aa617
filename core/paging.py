"""The ?page= of listing pages, read safely."""

from flask import request

MAX_PAGE = 10_000  # far past any real listing; a huge number would overflow the database


def page_number() -> int:
    """The requested page, 1 to MAX_PAGE (anything else reads as the nearest bound)."""
    return min(MAX_PAGE, max(1, request.args.get("page", 1, type=int)))
