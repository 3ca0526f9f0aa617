"""Device cookies: a browser that has logged into an account is known to that account's login.

The login's address and account counters (core.throttle) are there against strangers, and a
stranger can fill them: fifty wrong passwords from a carrier's shared address pause everyone
behind it, and a hundred from anywhere close an account to every address its owner has not
logged in from, while a phone's address changes with every cell. A browser that logged into
the account before carries a signed cookie saying so (OWASP's "device cookies"); its login
attempts are counted on a counter of that cookie and on one of all the account's device cookies
(the account-wide limit, which only holders of its cookies can fill), so no lock a stranger
makes holds it, and a stolen cookie gives its thief no more guesses than those allow.

The cookie holds the account's id, a random nonce and a tag of the account's password, signed
with the deployment's secret key and dated: it is sent only to the login pages (its path), is
HttpOnly, lasts a year from the last login, and is no device cookie any more once the password
changes (a browser left with someone who once knew it is a stranger's again). One per browser:
the account logged into last.
"""

import hashlib
import hmac
import secrets

from flask import after_this_request, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "jg_device"
PATH = "/login"
MAX_AGE = 365 * 24 * 3600
SALT = "device-cookie"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def _password_tag(user) -> str:
    """A short tag of the account's password hash: a new password makes every cookie stale."""
    key = current_app.secret_key.encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:16]


def known_device(user) -> tuple[str, str] | None:
    """This browser's device cookie when a login of `user` gave it, within the year and since
    the last change of password, as (the password's tag, its nonce): the counters of a
    password's cookies start afresh with a new password. None otherwise (no cookie, another
    account's, a wrong signature)."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=MAX_AGE)
    except BadSignature:  # (a SignatureExpired too)
        return None
    if not isinstance(data, dict) or data.get("u") != user.id or not isinstance(data.get("n"), str):
        return None
    tag = _password_tag(user)
    if not hmac.compare_digest(str(data.get("p", "")), tag):
        return None
    return tag, data["n"]


def remember_device(user) -> None:
    """Give this browser the device cookie of `user` with the response to this request (a
    login that succeeded); a browser that has it already keeps its nonce, for a year more."""
    known = known_device(user)
    nonce = known[1] if known else secrets.token_urlsafe(12)
    value = _serializer().dumps({"u": user.id, "n": nonce, "p": _password_tag(user)})

    @after_this_request
    def _set(response):
        response.set_cookie(
            COOKIE,
            value,
            max_age=MAX_AGE,
            path=PATH,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
        return response
