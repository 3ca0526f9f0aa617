"""The error summary at the top of a form with errors.

The form macro (templates/components/form.html) renders its fields first and reads their
errors back from that markup here, so every form built with the macros gets a summary that
links to its fields, without each template having to hand its form object over. The page's
<title> takes an "Error: " prefix when a summary is on it (templates/base.html).
"""

import re

from flask import Flask
from markupsafe import Markup

# What the field macros write: <p class="field-error" id="<field id>-error">message</p>.
FIELD_ERROR = re.compile(r'<p class="field-error" id="([^"]+)-error">(.*?)</p>', re.S)
SUMMARY_MARK = 'class="error-summary"'


def field_errors(body: str) -> list[tuple[str, str, str]]:
    """(field id, label, message) for each field with an error in a form's rendered body, in
    the order of the page. The label is the text of <label for=id>, or of the legend of a
    group of tick boxes (<legend id="<id>-legend">), or "" when there is none."""
    found = []
    for field_id, message in FIELD_ERROR.findall(str(body)):
        name = re.escape(field_id)
        label = re.search(rf'<label for="{name}"[^>]*>(.*?)</label>', body, re.S) or re.search(
            rf'<legend id="{name}-legend">(.*?)</legend>', body, re.S
        )
        # The macros' own escaped output: striptags() drops tags and unescapes to plain text,
        # which the summary's template escapes again.
        text = Markup(label.group(1)).striptags() if label else ""  # noqa: S704
        found.append((field_id, text, Markup(message).striptags()))  # noqa: S704
    return found


def has_error_summary(html: str) -> bool:
    """True when a page's content holds an error summary (its title then says so)."""
    return SUMMARY_MARK in str(html)


def init_app(app: Flask) -> None:
    """Make the two helpers available to templates."""
    app.jinja_env.globals["field_errors"] = field_errors
    app.jinja_env.globals["has_error_summary"] = has_error_summary
