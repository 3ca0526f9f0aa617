"""Reads of other people's personal data (个人信息): every view declares whether it shows any.

A view that shows someone else's personal data is decorated `@reads_personal_data(action)`;
one that shows none (a public page, the user's own data, a form that answers with a redirect)
is decorated `@no_personal_data`; a file served by a signed or checked link that an audited
page handed out (a photo beside a verdict) is `@covered_by(action)` of that page.
tests/test_privacy.py walks the route snapshot and fails on any view without a declaration,
so a new page cannot forget to say how its reads are logged.

The declaration is also enforced while serving: when a declared view answers successfully
without having written its audit row (and without saying, by nothing_to_audit(), that this
answer showed only the user's own data or nobody's), the
decorator writes the row itself, so a read is never left unlogged because a branch forgot.
"""

from functools import wraps

from flask import g, make_response, request

from core.audit import audit

DECLARATION = "personal_data"


def declaration(view) -> str | None:
    """What a view declared: its audit action, "" for no personal data, None for nothing."""
    return getattr(view, DECLARATION, None)


def nothing_to_audit() -> None:
    """Say that this answer shows only the user's own data, or nobody's (no row is owed)."""
    g.personal_data_own = True


def reads_personal_data(action: str):
    """Declare that the view shows another person's data and writes the audit row `action`."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            g.personal_data_own = False
            g.audited_actions = set()
            response = make_response(view(*args, **kwargs))
            written = action in g.get("audited_actions", ())
            if response.status_code < 400 and not written and not g.personal_data_own:
                # A safety net, not the way to audit: the view should log the object it read.
                audit(action, detail={"endpoint": request.endpoint, "args": request.view_args})
            return response

        setattr(wrapped, DECLARATION, action)
        return wrapped

    return decorator


def no_personal_data(view):
    """Declare that the view shows nobody else's personal data (nothing to audit)."""
    setattr(view, DECLARATION, "")
    return view


def covered_by(action: str):
    """Declare that the view serves part of a read another view audited as `action` (by a
    link that view made): logging every fetch again would only add rows, not knowledge."""

    def decorator(view):
        setattr(view, DECLARATION, action)
        return view

    return decorator
