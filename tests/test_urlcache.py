"""Templates' url_for (core.urlcache): the same URLs as Flask's, fixed links built once per
script root, anything that depends on values or the request built by Flask each time."""

from flask import render_template_string, url_for


def render(app, source: str, path: str = "/", script_root: str = "", **context) -> str:
    """`source` rendered in a request for `path` under `script_root`."""
    with app.test_request_context(path, base_url=f"http://localhost{script_root}/"):
        return render_template_string(source, **context)


def test_fixed_links_are_flasks_and_built_once(app, monkeypatch):
    source = "{{ url_for('main.home') }} {{ url_for('static', filename='css/app.css') }}"
    with app.test_request_context("/"):
        expected = f"{url_for('main.home')} {url_for('static', filename='css/app.css')}"
    assert render(app, source) == expected

    built = []  # Flask's url_for passes every URL it builds through inject_url_defaults
    real = app.inject_url_defaults
    monkeypatch.setattr(app, "inject_url_defaults", lambda *a: built.append(a[0]) or real(*a))
    assert render(app, source) == expected
    assert built == []  # both came from the first render's build
    assert render(app, "{{ url_for('main.home', _anchor='top') }}") == "/#top"
    assert built == ["main.home"]  # a link with an option is built by Flask every time


def test_a_value_of_none_is_left_out_and_the_link_stays_fixed(app, monkeypatch):
    source = "{{ url_for('verify.form', hl=hl) }}"
    with app.test_request_context("/"):
        assert render(app, source, hl=None) == url_for("verify.form", hl=None) == "/verify"
    built = []
    real = app.inject_url_defaults
    monkeypatch.setattr(app, "inject_url_defaults", lambda *a: built.append(a[0]) or real(*a))
    assert render(app, source, hl=None) == "/verify"
    assert built == []
    assert render(app, source, hl="en") == "/verify?hl=en" and built == ["verify.form"]
    # A chosen language is one of a few fixed links (one per language), built once too.
    assert render(app, source, hl="en") == "/verify?hl=en" and built == ["verify.form"]
    assert render(app, source, hl="xx") == "/verify?hl=xx"
    assert render(app, source, hl="xx") == "/verify?hl=xx"
    assert built == ["verify.form"] * 3  # not a language: built by Flask each time


def test_each_script_root_gets_its_own_links(app):
    source = "{{ url_for('main.home') }}|{{ url_for('static', filename='js/focus.js') }}"
    first = render(app, source)
    assert render(app, source, script_root="/city") == "/city" + first.replace("|", "|/city")
    assert render(app, source) == first


def test_links_with_values_or_options_are_built_each_time(app):
    source = (
        "{{ url_for('licence.cancel_share', share_id=n) }} "
        "{{ url_for('main.home', _anchor=anchor) }}"
    )
    assert render(app, source, n=1, anchor="a") == "/licence/share/1/cancel /#a"
    assert render(app, source, n=2, anchor="b") == "/licence/share/2/cancel /#b"
    assert render(app, "{{ url_for('main.home', _external=True) }}") == "http://localhost/"


def test_url_defaults_switch_the_reuse_off(app):
    source = "{{ url_for('static', filename='css/app.css') }}"
    plain = render(app, source)
    app.url_default_functions[None].append(
        lambda endpoint, values: values.setdefault("v", "2") if endpoint == "static" else None
    )
    assert render(app, source) == plain + "?v=2"
