"""The names every template may use (label tables, helpers called at render time), handed over
by one context processor.

Flask calls each context processor on every render, through ensure_sync, and merges its answer
into the page's context; a verdict page renders twice (blueprints/verify.render_page). Most of
the shared modules' and blueprints' helpers are fixed objects (functions that read the request
only when a template calls them, tables of lazy strings), so they are collected here once, when
the app is made, and one processor hands the same dict to every render: the same names and
values, at a third less of update_template_context's time. Anything that differs per render
(the language, the account) stays a context processor of its own.

Jinja globals would serve templates as well, but Jinja copies every global into each render's
context through a ChainMap, which costs more per name than merging a processor's dict.
"""

from flask import Blueprint, Flask

EXTENSION = "template_helpers"


def add(app: Flask, **helpers) -> None:
    """Give every template of the app these names (two modules may not give the same one)."""
    given = app.extensions.get(EXTENSION)
    if given is None:
        given = app.extensions[EXTENSION] = {}

        @app.context_processor
        def _template_helpers() -> dict:
            """The fixed helpers, the same dict for every render (Flask merges, never keeps it)."""
            return given

    clash = given.keys() & helpers.keys()
    if clash:
        raise ValueError(f"template helpers given twice: {sorted(clash)}")
    given.update(helpers)


def add_when_registered(blueprint: Blueprint, **helpers) -> None:
    """Give every template of the app these names once the blueprint is registered on it (a
    blueprint's own app_context_processor, without the call per render)."""
    blueprint.record_once(lambda state: add(state.app, **helpers))
