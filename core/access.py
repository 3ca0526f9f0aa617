"""Access control: role checks on views and object checks that answer 404, never 403."""

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.htmx import is_htmx, redirect_to
from core.security import local_path, return_path
from models import (
    ACCIDENT_OFFICER,
    ADMIN,
    CITIZEN,
    LICENCE_CLERK,
    MARKET_CLERK,
    POLICE_INSPECTOR,
    TRUCKPASS_CLERK,
    VEHICLE_CLERK,
)

ROLE_LABELS = {
    CITIZEN: _l("Citizen"),
    ADMIN: _l("Administrator"),
    LICENCE_CLERK: _l("Licence clerk"),
    VEHICLE_CLERK: _l("Vehicle clerk"),
    TRUCKPASS_CLERK: _l("Truck-pass clerk"),
    ACCIDENT_OFFICER: _l("Accident officer"),
    POLICE_INSPECTOR: _l("Police inspector"),
    MARKET_CLERK: _l("Used-car market clerk"),
}


# Said on the login page when a page of the logged-in site asked in the background (a form
# sent with htmx, a panel refreshing itself) after the login had ended.
LOGIN_ENDED = _l("Your login has ended. Log in again to go on.")
SENT_NOT_SAVED = _l(
    "Your login had ended, so what you sent was not saved. Log in again, then send it once more."
)


def log_in_first():
    """The login page, coming back here after. A request htmx sent in the background takes the
    whole tab there, to come back to the page the person was on, and says that the login has
    ended: else the login form would be drawn inside the refreshing panel. A form sent without
    a login (it ended in another tab, or timed out) says that nothing was saved, and comes back
    to the page the form was on, not to the address it posts to."""
    if not is_htmx():
        if request.method == "POST":
            flash(SENT_NOT_SAVED, "warn")
            return redirect(url_for("auth.login", next=return_path()), code=303)
        return redirect(url_for("auth.login", next=request.full_path))
    flash(SENT_NOT_SAVED if request.method != "GET" else LOGIN_ENDED, "warn")
    page = urlsplit(request.headers.get("HX-Current-URL", ""))
    here = page.path + (f"?{page.query}" if page.query else "")
    return redirect_to(url_for("auth.login", next=local_path(here) or None))


def role_required(*roles: str):
    """Only logged-in users holding one of `roles` reach the view; staff must have passed 2FA.

    Anonymous users are sent to the login page; logged-in users without the role get 403
    (the view exists for some people, it is the role that is missing).
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user._get_current_object()  # once: each use of the proxy looks again
            if not user.is_authenticated:
                return log_in_first()
            if not user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def login_required(view):
    """Any logged-in user."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return log_in_first()
        return view(*args, **kwargs)

    return wrapped


def owned_or_404(obj, owner_id):
    """The object when `owner_id` is the current user's id; otherwise 404, never 403.

    Answering 404 keeps an outsider from learning that an object exists at all.
    """
    if obj is None or not current_user.is_authenticated or owner_id != current_user.id:
        abort(404)
    return obj


def get_or_404(model, *conditions):
    """model.get(*conditions) or abort(404)."""
    obj = model.get_or_none(*conditions)
    if obj is None:
        abort(404)
    return obj
