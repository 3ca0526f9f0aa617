"""`url_for` in templates, with the fixed links built once.

A page's frame (base.html) writes about twenty links: the navigation, the stylesheet, the
scripts, the footer. Each url_for call builds its URL through the URL map again (a few
microseconds each: a tenth of a light page such as the holder's code page). A link to an
endpoint without values, or to a static file, is the same for every request under the same
script root, so it is built by Flask once per process and script root and then reused.

A link that carries on the reader's chosen language (`hl`, one of LANGUAGES) to an endpoint
without values is fixed in the same way, one per language (the verifier's pages write two on
each copy, in both languages).

Everything else is Flask's url_for as it is: links with values (an id, a page number), with
_external, _anchor, _method or _scheme, endpoints relative to a blueprint (".name"), calls
outside a request, and every call once any URL default function is registered (those may add
values from the request).
"""

from flask import Flask, has_request_context, request

from core.i18n import LANGUAGES


def init_app(app: Flask) -> None:
    """Give templates the url_for below instead of Flask's."""
    build = app.url_for
    built: dict[tuple, str] = {}

    def url_for(endpoint: str, **values) -> str:
        """Flask's url_for; a fixed link (see the module) from this process's earlier build.
        A value of None adds nothing to a URL (Werkzeug leaves it out), so a link such as the
        verifier's `url_for('verify.form', hl=hl)` without a chosen language is fixed too."""
        if None in values.values():
            values = {name: value for name, value in values.items() if value is not None}
        fixed = (
            has_request_context()
            and not endpoint.startswith(".")
            and (
                not values
                or (endpoint == "static" and values.keys() == {"filename"})
                or (values.keys() == {"hl"} and values["hl"] in LANGUAGES)
            )
            and not any(app.url_default_functions.values())
        )
        if not fixed:
            return build(endpoint, **values)
        key = (request.script_root, endpoint, values.get("filename"), values.get("hl"))
        url = built.get(key)
        if url is None:
            url = built[key] = build(endpoint, **values)
        return url

    app.jinja_env.globals["url_for"] = url_for
