"""CSRF, secure cookies and the security headers every response carries."""

import datetime as dt
import hashlib
import os
import secrets
from urllib.parse import urlsplit

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from itsdangerous import BadSignature

from core import templatehelpers

csrf = CSRFProtect()

# No inline script anywhere: the only script is htmx, served from this deployment.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# What every response carries unless its view set its own, in this order (name, lower case,
# value).
DEFAULT_HEADERS = tuple(
    (name, name.lower(), value)
    for name, value in (
        ("Content-Security-Policy", DEFAULT_CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    )
)


def local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None (no open redirects).

    Browsers read a backslash like a slash and ignore tabs and newlines in URLs, so "/\\evil"
    or "/\t/evil" would leave the site: only plain local paths pass.
    """
    target = target or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def return_path() -> str | None:
    """Where a switch made on this page (the language) comes back to: the page itself when it
    was asked for with GET; when it answers a form (a confirmation page, a form shown again with
    its errors), the page the form was on, from the Referer when that is a page of this site
    (coming back to the form's own address would ask it with GET, which it does not answer);
    else None (the home page)."""
    if request.method == "GET":
        return request.full_path if request.query_string else request.path
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host:
        return None
    return local_path(f"{parts.path}?{parts.query}" if parts.query else parts.path)


def load_or_create_secret_key(instance_path: str) -> str:
    """The deployment's secret key: generated once into the instance folder, never in code.

    The key is written to a file of this process's own, on disk before it has its name, and
    linked into place, which fails if the file exists: processes starting at once (gunicorn's
    workers, parallel tests) all read the one key that won, never a file still being written,
    and a power cut leaves either no key or a whole one."""
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        draft = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
                fh.flush()
                os.fsync(fh.fileno())
            os.link(draft, path)
        except FileExistsError:
            pass  # another process linked its key first: that one is the key
        finally:
            os.unlink(draft)
    with open(path) as fh:
        key = fh.read().strip()
    if not key:
        raise RuntimeError(
            f"{path} is empty: restore it from the backup, or delete it for a new key "
            "(everyone is then logged out)"
        )
    return key


# An unchanged session's cookie is signed again (its idle expiry slid on) at most this often.
SESSION_REFRESH = dt.timedelta(seconds=60)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with two differences.

    - The verifier never sets a cookie. It promises no session writes
      (docs/DESIGN.md#the-verifier); Flask would otherwise re-send a logged-in inspector's
      cookie on every check to slide its expiry.
    - A session that did not change is signed again only when its cookie is SESSION_REFRESH
      old, not on every request. Flask slides the idle expiry (SESSION_IDLE_MINUTES) by
      signing and sending the whole cookie with each response: a third of what a logged-in
      page costs beyond its own work (docs/PERFORMANCE.md). A session now ends between
      SESSION_IDLE_MINUTES less a minute and SESSION_IDLE_MINUTES after the last request.
    """

    # SHA-1 as Flask signs with it, but named directly: Flask's default wraps it in a Python
    # function (so that importing Flask works where SHA-1 is disabled), which sends every HMAC
    # of the cookie down the standard library's slower pure-Python path.
    digest_method = staticmethod(hashlib.sha1)

    def __init__(self):
        """No serializer yet (get_signing_serializer makes one per secret key)."""
        self._serializers: dict = {}

    def open_session(self, app, request):
        """Flask's, keeping the time the cookie was signed (`signed_at`, aware UTC)."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at
        return session

    def should_set_cookie(self, app, session) -> bool:
        """Changed sessions always; an unchanged permanent one once SESSION_REFRESH old; never
        for the verifier or an answer that asked to leave the cookie alone."""
        if request.blueprint == "verify" or g.get("leave_session_cookie"):
            return False
        if session.modified:
            return True
        if not super().should_set_cookie(app, session):
            return False
        signed_at = getattr(session, "signed_at", None)
        return signed_at is None or dt.datetime.now(dt.UTC) - signed_at >= SESSION_REFRESH

    def get_signing_serializer(self, app):
        """Flask's serializer, made once per set of keys instead of twice a request (to read
        the cookie, then to sign it again): it keeps no state between cookies."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
        return serializer


def leave_session_cookie() -> None:
    """This answer sets no session cookie, whatever happened to the session: the browser keeps
    the one it has (a second tap whose first answer logged it in)."""
    g.leave_session_cookie = True


def init_app(app: Flask) -> None:
    """CSRF on every state-changing request; headers on every response (views may tighten)."""
    csrf.init_app(app)
    app.session_interface = SessionInterface()
    templatehelpers.add(app, return_path=return_path)

    # Served at an https address, the browser is told to keep to https even when a proxy in
    # front (TRUSTED_PROXIES unset) makes each request look plain to us.
    public_https = app.config["PUBLIC_BASE_URL"].startswith("https://")

    @app.after_request
    def _headers(response):
        h = response.headers
        # The names the view set, read once (each Headers.setdefault or get would scan them
        # again: a tenth of the health check's time).
        present = {name.lower() for name, _ in h}
        for name, lower, value in DEFAULT_HEADERS:
            if lower not in present:
                h.add(name, value)
        if (request.is_secure or public_https) and "strict-transport-security" not in present:
            h.add("Strict-Transport-Security", "max-age=31536000")
        # Pages and their htmx fragments share URLs: caches must key on the header.
        if "vary" in present:
            response.vary.add("HX-Request")
        else:
            h.add("Vary", "HX-Request")
        # Pages and files hold personal data: never kept by any cache (send_file's own
        # "no-cache" would still let shared caches store a copy).
        if request.endpoint != "static":
            if "cache-control" not in present:
                h.add("Cache-Control", "private, no-store")
            elif "no-store" not in h["Cache-Control"]:
                h["Cache-Control"] = "private, no-store"
        return response
