"""Templates compiled per language (core.fixedwords): a template's fixed words are written into
its code in that language, and the page reads word for word as the app's own environment
writes it."""

import pytest
from flask_babel import force_locale
from jinja2 import DictLoader
from markupsafe import Markup

from blueprints import verify
from blueprints.licence.checks import CheckResult
from blueprints.licence.labels import LOCK_LABELS, VERDICT_LABELS
from core import fixedwords
from core.i18n import language_context
from models import utcnow

SOURCES = {
    "words.html": (
        '<p title="{{ _("Name") }}">{{ _("Name") }}</p>'
        '{{ _("Checked at %(time)s (Beijing time)", time="<12:00>") }}'
        '{{ _("Try again in %(n)d s.", n=5) }}|{{ _(word) }}|{{ _("Na" ~ "me") }}'
    ),
    "words.txt": '{{ _("Name") }}',
    "shadowed.html": '{% macro m(_) %}{{ _("Name") }}{% endmacro %}{{ m(upper) }}|{{ _("Name") }}',
    "raw.html": (
        '{% autoescape false %}{{ _("Checked at %(time)s (Beijing time)", time="<b>") }}'
        "{% endautoescape %}"
    ),
}


@pytest.fixture
def loaded(app):
    """The app with two templates of its own, an HTML one and a plain-text one."""
    app.jinja_env.loader = DictLoader(SOURCES)
    return app


def both(app, name: str, locale: str, **context) -> tuple[str, str]:
    """`name` rendered through the app's environment and through the language's own."""
    with app.test_request_context("/"), force_locale(locale):
        app.update_template_context(context)
        plain = app.jinja_env.get_template(name).render(context)
        folded = fixedwords.environment(app, locale).get_template(name).render(context)
    return plain, folded


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_folded_template_writes_what_the_app_writes(loaded, locale):
    plain, folded = both(loaded, "words.html", locale, word="Status")
    assert folded == plain
    if locale == "zh":
        assert '<p title="姓名">姓名</p>' in folded
        assert "核验时间 &lt;12:00&gt;（北京时间）" in folded  # the value escaped, the words not
        assert "|状态|姓名" in folded  # a variable and an expression, at render time
    else:
        assert "Checked at &lt;12:00&gt; (Beijing time)Try again in 5 s.|Status|Name" in folded


def test_the_words_are_in_the_compiled_code_and_only_the_fixed_ones(loaded):
    with loaded.test_request_context("/"):
        env = fixedwords.environment(loaded, "zh")
        source = SOURCES["words.html"]
        code = env.compile(env.parse(source, "words.html"), "words.html", raw=True)
    assert '<p title="姓名">姓名</p>' in code and "'核验时间 %(time)s（北京时间）'" in code
    assert fixedwords.FILL in code  # the words with a placeholder are only filled in
    assert code.count("context.call(") == 4  # fill twice, _(word) and _("Na" ~ "me")


def test_a_template_without_autoescape_keeps_its_calls(loaded):
    plain, folded = both(loaded, "words.txt", "zh")
    assert folded == plain == "姓名"
    with loaded.test_request_context("/"):
        env = fixedwords.environment(loaded, "zh")
        code = env.compile(env.parse(SOURCES["words.txt"], "words.txt"), "words.txt", raw=True)
    assert "姓名" not in code


def test_a_template_with_a_name_underscore_of_its_own_keeps_its_calls(loaded):
    plain, folded = both(loaded, "shadowed.html", "zh", upper=str.upper)
    assert folded == plain == "NAME|姓名"


def test_words_filled_in_a_block_without_autoescape_are_not_escaped(loaded):
    plain, folded = both(loaded, "raw.html", "en")
    assert folded == plain == "Checked at <b> (Beijing time)"


def test_each_language_has_its_own_environment_kept_for_the_process(loaded):
    with loaded.test_request_context("/"):
        zh, en = fixedwords.environment(loaded, "zh"), fixedwords.environment(loaded, "en")
        assert zh is not en and zh is fixedwords.environment(loaded, "zh")
        # The app's filters and globals, and a cache of its own: a template compiled by the
        # app's environment is compiled again with its words folded.
        assert zh.filters is loaded.jinja_env.filters
        assert zh.bytecode_cache is None  # keyed by name and source: it would mix languages
        assert zh.globals["url_for"] is loaded.jinja_env.globals["url_for"]
        loaded.jinja_env.get_template("words.html")
        assert zh.get_template("words.html") is not loaded.jinja_env.get_template("words.html")


VERDICTS = [
    ("valid", None),
    ("invalid", None),
    ("expired-code", None),
    ("used-code", None),
    ("throttled", "client"),
    ("throttled", "network"),
    ("revoked", None),
]


@pytest.mark.parametrize("verdict,lock", VERDICTS)
@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_verdict_page_reads_as_the_apps_environment_writes_it(
    app, make, conn, verdict, lock, locale
):
    el = make.elicence()
    with conn():
        record = el.record
    result = CheckResult(verdict, elicence=el, checked_at=utcnow(), lock=lock)
    if result.genuine:
        result.record = record
    context = {"result": result, "record": result.record, "via": "qr", "inspector": False}
    with app.test_request_context(f"/v/x/y?hl={locale}"):
        drawn = verify.render_page("verify/result.html", **context)
        # As the page was drawn before: the app's environment, the words looked up as drawn.
        app.update_template_context(context)
        other = "en" if locale == "zh" else "zh"
        template = app.jinja_env.get_template("verify/result.html")
        with force_locale(other):
            alt = template.render(context, body_only=True, hl=other, **language_context())
        expected = template.render(context, alt=Markup(alt))  # noqa: S704 (our own page)
    assert drawn == expected
    label = LOCK_LABELS[lock] if lock else VERDICT_LABELS[verdict]
    with app.test_request_context("/"), force_locale(locale):
        assert str(label) in drawn
