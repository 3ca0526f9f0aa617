"""htmx helpers: one view answers the full page or its fragment, and redirects work for both."""

from flask import make_response, redirect, render_template, request
from werkzeug.urls import iri_to_uri


def is_htmx() -> bool:
    """An htmx request that wants a fragment (a history restore wants the full page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(page_template: str, fragment_template: str, status: int = 200, /, **context):
    """The fragment for htmx, the whole page otherwise, from the same context."""
    template = fragment_template if is_htmx() else page_template
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def redirect_to(url: str):
    """303 for a plain form; for htmx, HX-Redirect so the browser loads the whole new page."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = iri_to_uri(url)
        return response
    return redirect(url, code=303)
