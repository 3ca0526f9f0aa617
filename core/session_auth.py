"""Flask-Login wiring: loading the user, and the half-logged-in state of staff before 2FA."""

import time

from flask import Flask, session
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, login_user

from core.devices import remember_device
from core.identity import logged_in_user
from models import User

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")
login_manager.session_protection = "basic"

PENDING_KEY = "pending_2fa"
PENDING_TTL = 300  # seconds between the password step and the code step


@login_manager.user_loader
def _load_user(login_id: str):
    return logged_in_user(login_id)


def clear_session() -> None:
    """Drop all the session holds (its permanence too) but the language chosen."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def start_session(user: User) -> None:
    """Log the user in on a fresh session (the old session's data and id are dropped).

    Flask's session is a signed cookie: clearing it and writing new content means an attacker
    who planted a session cookie before login does not share the logged-in one. The browser
    is remembered as one the account logged in from (core.devices): locks that strangers can
    cause do not hold its next logins.
    """
    clear_session()
    session.permanent = True  # expires after SESSION_IDLE_MINUTES without activity
    login_user(user)
    remember_device(user)


def set_pending_2fa(user: User) -> None:
    """Remember, for a few minutes, that this staff member passed the password step."""
    clear_session()
    session[PENDING_KEY] = {"uid": user.id, "tok": user.session_token, "t": int(time.time())}


def pending_2fa_user() -> User | None:
    """The staff member between password and code, if that step is still fresh."""
    data = session.get(PENDING_KEY)
    if not data or time.time() - data.get("t", 0) > PENDING_TTL:
        return None
    user = User.get_or_none(User.id == data.get("uid"))
    if user is None or user.session_token != data.get("tok") or not user.active:
        return None
    return user


def clear_pending_2fa() -> None:
    """Forget the half-finished login."""
    session.pop(PENDING_KEY, None)


def init_app(app: Flask) -> None:
    """Attach Flask-Login."""
    login_manager.init_app(app)
