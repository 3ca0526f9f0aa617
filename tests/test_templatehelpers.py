"""The fixed template helpers (core.templatehelpers): every module's names reach every template
through one context processor, and no two modules may give the same name."""

import pytest
from flask import Blueprint, Flask, render_template_string

from core import templatehelpers


def test_shared_and_blueprint_helpers_reach_every_template_in_one_processor(app, conn):
    with app.test_request_context("/"), conn():
        page = render_template_string(
            "{{ unread_notices() }} {{ demo_mode() }} {{ measure_links() }} "
            "{{ identity_proven() }} {{ EV_STATUS['opened'] is defined }}"
        )
    assert page == "0 False [] False True"
    fixed = [
        f for f in app.template_context_processors[None] if f.__module__ == templatehelpers.__name__
    ]
    assert len(fixed) == 1
    assert {"unread_notices", "demo_mode", "stats_busy_now", "EV_STATUS"} <= set(fixed[0]())


def test_a_name_given_twice_is_refused():
    app = Flask(__name__)
    templatehelpers.add(app, answer=lambda: 42)
    with pytest.raises(ValueError, match="answer"):
        templatehelpers.add(app, answer=lambda: 43)


def test_a_blueprints_helpers_arrive_when_it_is_registered():
    app, bp = Flask(__name__), Blueprint("extra", __name__)
    templatehelpers.add_when_registered(bp, greeting="hello")
    with app.test_request_context("/"):
        assert render_template_string("{{ greeting is defined }}") == "False"
    app.register_blueprint(bp)
    with app.test_request_context("/"):
        assert render_template_string("{{ greeting }}") == "hello"
