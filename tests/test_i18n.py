"""Two languages: Chinese by default, English by Accept-Language or switch; full catalogue."""

import os

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from .helpers import page

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_chinese_by_default(client):
    soup = page(client.get("/"))
    assert soup.html["lang"] == "zh-CN" and soup.h1.get_text() == "交管业务网上办"


def test_accept_language_english(client):
    soup = page(client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}))
    assert soup.html["lang"] == "en" and soup.h1.get_text() == "Traffic services online"


def test_switch_is_kept_and_overrides_the_browser(client):
    response = client.post("/lang", data={"lang": "en", "next": "/login"})
    assert response.status_code == 303 and response.location.endswith("/login")
    soup = page(client.get("/login", headers={"Accept-Language": "zh-CN"}))
    assert soup.h1.get_text() == "Log in"


def test_switch_refuses_foreign_redirects(client):
    response = client.post("/lang", data={"lang": "en", "next": "//evil.example/"})
    assert response.location.endswith("/") and "evil" not in response.location


def test_times_are_shown_in_beijing_time(app):
    import datetime as dt

    from core.i18n import localtime

    with app.test_request_context():
        assert localtime(dt.datetime(2021, 9, 1, 0, 30)) == "2021-09-01 08:30"


def test_numeric_times_are_written_as_babel_writes_them(app):
    """The all-digit patterns skip Babel (core.i18n.NUMERIC_TIME_FORMATS) and give its text,
    in both languages, across the date line and the year's end in Beijing."""
    import datetime as dt

    from flask_babel import force_locale, format_datetime

    from core.i18n import NUMERIC_TIME_FORMATS, localtime

    times = [
        dt.datetime(2021, 9, 1, 0, 30),
        dt.datetime(2025, 12, 31, 16, 0, 0),
        dt.datetime(2026, 2, 28, 15, 59, 59, 999999),
        dt.datetime(1988, 6, 1, 12, 0),  # Beijing kept summer time from 1986 to 1991
        dt.datetime(999, 1, 2, 3, 4, 5),  # local mean time: left to Babel
    ]
    with app.test_request_context():
        for language in ("zh", "en"):
            with force_locale(language):
                for fmt in NUMERIC_TIME_FORMATS:
                    for value in times:
                        expected = format_datetime(value.replace(tzinfo=dt.UTC), fmt)
                        assert localtime(value, fmt) == expected


def test_templates_translate_in_the_language_of_their_render(app):
    """`_`, `gettext` and `ngettext` in a template follow the render's language, also inside
    force_locale (the verifier's other-language copy), and format their variables."""
    from flask import render_template_string
    from flask_babel import force_locale

    source = (
        "{{ _('Log in') }}|{{ gettext('Try again in %(n)d s.', n=5) }}|"
        "{{ ngettext('%(num)d wrong typed code for your licence since %(time)s: often a check "
        "mistyped at the roadside, but many may be someone guessing. Checks of your QR code are "
        "not affected. If you showed your code to nobody then, revoke all codes to get a new "
        "key.', '%(num)d wrong typed codes for your licence since %(time)s: often a check "
        "mistyped at the roadside, but many may be someone guessing. Checks of your QR code are "
        "not affected. If you showed your code to nobody then, revoke all codes to get a new "
        "key.', 2, time='<b>') }}"
    )
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        chinese = render_template_string(source)
        with force_locale("en"):
            english = render_template_string(source)
    assert english.startswith(
        "Log in|Try again in 5 s.|2 wrong typed codes for your licence since &lt;b&gt;:"
    )
    assert chinese.split("|")[0] == "登录" and "5" in chinese.split("|")[1]
    assert "&lt;b&gt;" in chinese and "<b>" not in chinese


def test_wtforms_own_messages_follow_the_language(app):
    """WTForms' built-in messages come from its catalogue in the request's language (loaded
    once per process by core.forms.Form, not once per request)."""
    from werkzeug.datastructures import MultiDict
    from wtforms import DateField

    from core.forms import Form

    class DateForm(Form):
        class Meta:
            csrf = False

        day = DateField()

    for language, message in (("zh-CN", "不是有效的日期值。"), ("en", "Not a valid date value.")):
        with app.test_request_context(headers={"Accept-Language": language}):
            form = DateForm(formdata=MultiDict({"day": "2021-13-45"}))
            assert not form.validate()
            assert form.day.errors == [message]


METHOD_MAP = [
    ("app.py", "python"),
    ("blueprints/**.py", "python"),
    ("core/**.py", "python"),
    ("models/**.py", "python"),
    ("rules/**.py", "python"),
    ("templates/**.html", "jinja2"),
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
SKIP_DIRS = {".venv", ".git", "tests", "bench", "static", "instance", "translations", "build"}


def extracted_messages() -> set[str]:
    """Every translatable string in the code and templates, found as `make messages` finds them."""
    found = extract_from_dir(
        ROOT,
        METHOD_MAP,
        keywords=KEYWORDS,
        directory_filter=lambda path: os.path.basename(path) not in SKIP_DIRS,
    )
    return {msg if isinstance(msg, str) else msg[0] for _f, _l, msg, *_ in found} - {""}


def test_every_string_has_a_chinese_translation():
    """Extract the strings from the code now and compare with the Chinese catalogue."""
    wanted = extracted_messages()
    assert len(wanted) > 100
    with open(os.path.join(ROOT, "translations/zh/LC_MESSAGES/messages.po"), "rb") as fh:
        # A plural entry's id and string are tuples: it is done when every form is translated.
        done = {
            m.id if isinstance(m.id, str) else m.id[0]
            for m in read_po(fh)
            if m.id and (m.string if isinstance(m.string, str) else all(m.string)) and not m.fuzzy
        }
    missing = sorted(str(m) for m in wanted - done)
    assert not missing, f"untranslated: {missing[:20]}"


def test_the_switch_on_a_page_answering_a_form_comes_back_to_the_forms_page(client):
    """A page shown in answer to a POST (a form with its errors, a confirmation) has no GET of
    its own: the switch comes back to the page the form was on, never to the POST's address
    (which answers a GET with 405), and never to another site."""

    def switch_target(referrer):
        headers = {"Referer": referrer}
        soup = page(
            client.post("/login", data={"username": "nobody", "password": "x"}, headers=headers),
            422,
        )
        field = soup.select_one("form.lang input[name=next]")
        return field["value"] if field else None

    assert switch_target("http://localhost/login?next=%2Flicence%2F") == "/login?next=%2Flicence%2F"
    assert switch_target("https://evil.example/login") is None
    assert switch_target("") is None
    # A page asked for with GET comes back to itself, query included.
    soup = page(client.get("/login?next=%2Flicence%2F"))
    assert soup.select_one("form.lang input[name=next]")["value"] == "/login?next=%2Flicence%2F"


MARKERS = ("_", "_l", "gettext", "lazy_gettext", "ngettext")


def test_no_words_are_marked_inside_an_f_string():
    """pybabel does not look inside f-strings, nor take one as words: words marked there, or
    made by one, stay untranslated (a lock's "Try again after ..." ended Chinese sentences in
    English that way)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    found = []
    for package in ("blueprints", "core", "models", "rules"):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                name = getattr(getattr(node, "func", None), "id", "")
                # An f-string as the words themselves: nothing fixed to extract.
                made = isinstance(node, ast.Call) and node.args
                if made and name in MARKERS and isinstance(node.args[0], ast.JoinedStr):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
                if not isinstance(node, ast.JoinedStr):
                    continue
                for call in ast.walk(node):
                    name = getattr(getattr(call, "func", None), "id", "")
                    if isinstance(call, ast.Call) and name in MARKERS:
                        found.append(f"{path.relative_to(root)}:{call.lineno}")
    assert found == []
