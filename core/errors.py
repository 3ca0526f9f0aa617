"""Friendly, translated error pages; never a stack trace."""

import peewee
from flask import Flask, current_app, g, redirect, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.exceptions import HTTPException, InternalServerError

from core.htmx import is_htmx

MESSAGES = {
    400: (
        _l("Bad request"),
        _l("The request could not be understood. Please go back and try again."),
    ),
    403: (_l("Not allowed"), _l("Your account does not have permission to open this page.")),
    404: (_l("Page not found"), _l("There is no such page, or it is not yours to see.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    413: (_l("File too large"), _l("The file you sent is larger than allowed.")),
    429: (_l("Too many attempts"), _l("Please wait a little and try again.")),
    500: (
        _l("Something went wrong"),
        _l("An error occurred on our side. It has been recorded; please try again later."),
    ),
    503: (
        _l("Service unavailable"),
        _l("The service is briefly unavailable. Please try again in a minute."),
    ),
}


STORAGE_FULL = _l(
    "The service cannot save anything right now because its storage is full. Nothing of what "
    "you sent was saved; please try again later."
)


def render_error(code: int, detail=None, standalone: bool = False, heading=None):
    """The error page for an HTTP status: always a whole page, as htmx puts an error answer
    in place of the page's body (templates/base.html), whatever part of the page asked.

    `standalone` renders a page that needs nothing from the database (no user, no banner), for
    when the database itself is what failed. `detail` and `heading` replace the status's own
    message and title.
    """
    title, message = MESSAGES.get(code, MESSAGES[500])
    context = {"code": code, "title": heading or title, "message": detail or message}
    if request.blueprint == "verify" or request.path.startswith(("/v/", "/verify")):
        # The verifier's pages send no script at all, error pages included
        # (docs/DESIGN.md#the-verifier).
        forget_user()
        return render_template("verify/error.html", **context), code
    if standalone:
        forget_user()
    else:
        try:
            return render_template("errors/error.html", **context), code
        except (peewee.OperationalError, peewee.InterfaceError):
            # The page's frame asks the database (the user, the demo banner) and it has gone
            # away: the page that needs nothing of it instead, never a bare 500.
            forget_user()
    return render_template("errors/standalone.html", **context), code


def forget_user() -> None:
    """Treat this request as anonymous from here on, so no template loads the user.

    Flask-Login's template context loads the logged-in user from the database on every
    render: an error page about the database must not (it would fail in turn, bare and
    untranslated). The session cookie is left as it is.
    """
    g._login_user = current_app.login_manager.anonymous_user()


def storage_full(exc: BaseException | None) -> bool:
    """True when the error, or the one it arose from, is a full disk (SQLITE_FULL, or
    PostgreSQL's disk_full). SQLite rolls back by itself then, so the error that reaches us is
    often the failed ROLLBACK, with the full disk as its context."""
    while exc is not None:
        text = str(exc).lower()
        if "disk is full" in text or "no space left" in text or "could not extend file" in text:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def page_of_step() -> str | None:
    """The page a form's step belongs to, for a GET of the step's own address (a reloaded or
    restored confirmation page, a bookmarked form): /trucks/passes/10/withdraw answers only
    POST, and its page is /trucks/passes/10. None when the address one level up is no page."""
    parent = request.path.rstrip("/").rsplit("/", 1)[0]
    if not parent:
        return None
    adapter = current_app.url_map.bind("", script_name=request.script_root or None)
    try:
        adapter.match(parent, method="GET")
    except HTTPException:
        return None
    return request.script_root + parent


# Sent by the parts of a page that refresh themselves (a code panel, a pass, a queue), and not
# by the links and forms inside them (static/js/refresh.js): their request is nobody's click.
BACKGROUND = "X-Background-Refresh"


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.after_request
    def _keep_what_is_shown(response):
        """A part of a page refreshing itself that meets the server's trouble (5xx: a busy
        pool, a database away for a moment) keeps what it shows and asks again at its next
        turn, rather than the whole page giving way to an error nobody asked to see. What a
        person sent (a form, a click) gets the whole error page (templates/base.html)."""
        background = request.method == "GET" and request.headers.get(BACKGROUND)
        if response.status_code >= 500 and background and is_htmx():
            return app.response_class(status=204)
        return response

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return render_error(400, _l("This form has expired. Reload the page and send it again."))

    @app.errorhandler(HTTPException)
    def _http(exc):
        if exc.code not in MESSAGES:
            return exc
        if exc.code == 405 and request.method == "GET" and (page := page_of_step()):
            return redirect(page, code=303)
        response, code = render_error(
            exc.code, getattr(exc, "user_message", None), heading=getattr(exc, "user_title", None)
        )
        response = app.make_response((response, code))
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        retry = getattr(exc, "retry_after", None)
        if retry:
            response.headers["Retry-After"] = str(retry)
        return response

    @app.errorhandler(peewee.OperationalError)
    @app.errorhandler(peewee.InterfaceError)
    @app.errorhandler(MaxConnectionsExceeded)
    def _database_unavailable(exc):
        # The database is unreachable or cannot write (disk full), or every pooled connection
        # stayed busy for PG_POOL_WAIT: the transaction was rolled back, so tell the user
        # nothing was saved and to come back, instead of a bare 500.
        app.logger.error("database unavailable on %s %s: %s", request.method, request.path, exc)
        full = storage_full(exc)
        response = app.make_response(
            render_error(503, STORAGE_FULL if full else None, standalone=True)
        )
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(OSError)
    def _file_system(exc):
        # A file could not be written: on a full disk that is the same 503 as the database's
        # (nothing was saved, come back later); anything else is a fault of ours.
        if not storage_full(exc):
            return _unexpected(exc)
        app.logger.error("storage full on %s %s: %s", request.method, request.path, exc)
        response = app.make_response(render_error(503, STORAGE_FULL, standalone=True))
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc):
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)

    app.register_error_handler(InternalServerError, lambda e: render_error(500))
