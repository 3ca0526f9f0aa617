"""Device cookies: a browser that has logged into an account is known to that account's login.

The login's address and account counters (core.throttle) are there against strangers, and a
stranger can fill them: fifty wrong passwords from a carrier's shared address pause everyone
behind it, and a hundred from anywhere close an account to every address its owner has not
logged in from, while a phone's address changes with every cell. A browser that logged into
the account before carries a signed cookie saying so (OWASP's "device cookies"); its login
attempts are counted on a counter of that cookie alone, so no lock a stranger makes holds it,
and a stolen cookie gives its thief no more guesses than that counter allows.

The cookie holds the account's id and a random nonce, signed with the deployment's secret key;
it is sent only to the login pages (its path), is HttpOnly, and lasts a year from the last
login. One per browser: the account logged into last.
"""

import secrets

from flask import after_this_request, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "jg_device"
PATH = "/login"
MAX_AGE = 365 * 24 * 3600
SALT = "device-cookie"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)


def known_device(user_id: int) -> str | None:
    """The nonce of this browser's device cookie when it was given at a login of `user_id`;
    None when there is none, it is another account's, or its signature is wrong."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user_id or not isinstance(data.get("n"), str):
        return None
    return data["n"]


def remember_device(user_id: int) -> None:
    """Give this browser the device cookie of `user_id` with the response to this request (a
    login that succeeded); a browser that has it already keeps its nonce, for a year more."""
    nonce = known_device(user_id) or secrets.token_urlsafe(12)
    value = _serializer().dumps({"u": user_id, "n": nonce})

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
