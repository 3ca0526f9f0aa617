"""Two languages (zh-CN by default, English selectable) and times shown in Asia/Shanghai."""

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Flask, has_request_context, request, session
from flask_babel import Babel, force_locale, format_datetime, get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup

from core.audit import action_label, result_label, role_label
from rules.clock import TIMEZONE_NAME
from rules.validators import display_plate, mask_id

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT_LOCALE = "zh"
TIMEZONE = TIMEZONE_NAME


def select_locale() -> str:
    """The user's explicit choice (kept in the session), else Accept-Language, else Chinese."""
    if not has_request_context():
        return DEFAULT_LOCALE  # CLI commands and background work
    # ?hl= lets the verifier (which writes no session) switch language with a plain link.
    chosen = request.args.get("hl") or session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LOCALE)


# The all-digit patterns the pages use, written as Babel writes them (digits, zero-padded,
# the same in every language), without Babel's locale and pattern machinery: a verdict page
# shows a time in each of its two languages.
NUMERIC_TIME_FORMATS = {
    "yyyy-MM-dd HH:mm": "{0.year:04d}-{0.month:02d}-{0.day:02d} {0.hour:02d}:{0.minute:02d}",
    "yyyy-MM-dd HH:mm:ss": (
        "{0.year:04d}-{0.month:02d}-{0.day:02d} {0.hour:02d}:{0.minute:02d}:{0.second:02d}"
    ),
    "yyyy-MM-dd": "{0.year:04d}-{0.month:02d}-{0.day:02d}",
    "HH:mm": "{0.hour:02d}:{0.minute:02d}",
    "HH:mm:ss": "{0.hour:02d}:{0.minute:02d}:{0.second:02d}",
}
BEIJING = ZoneInfo(TIMEZONE_NAME)


def localtime(value: dt.datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A UTC time from the database shown in Beijing time."""
    if value is None:
        return ""
    numeric = NUMERIC_TIME_FORMATS.get(fmt)
    # Before 1901 Beijing's offset was local mean time, with seconds, which Babel rounds.
    if numeric is not None and value.year > 1900:
        return numeric.format(value.replace(tzinfo=dt.UTC).astimezone(BEIJING))
    return format_datetime(value.replace(tzinfo=dt.UTC), fmt)


def is_chinese() -> bool:
    """True when the page is being written in Chinese."""
    return str(get_locale() or DEFAULT_LOCALE).startswith("zh")


def in_sentence(label) -> str:
    """A label (a common noun: "Driver", "Heavy trucks") as written inside an English sentence,
    in lower case; Chinese has no case and keeps it."""
    text = str(label)
    return text if is_chinese() else text[:1].lower() + text[1:]


def listing(items) -> str:
    """Items of a list in words as the reader's language writes them: "a, b and c" in English,
    "a、b、c" in Chinese."""
    words = [str(item) for item in items]
    if is_chinese() or len(words) < 2:
        return "、".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def clauses(parts) -> str:
    """Parts of one sentence (reasons, each in words) joined as the reader's language joins
    them: "；" in Chinese, "; " in English."""
    return ("；" if is_chinese() else "; ").join(str(part) for part in parts)


def sentences(parts) -> str:
    """Whole sentences one after another: Chinese puts none of English's spaces between them."""
    return ("" if is_chinese() else " ").join(str(part) for part in parts)


def aside(text) -> Markup:
    """A remark in brackets after a name: full-width （…） in Chinese, " (…)" in English (Chinese
    text takes full-width punctuation: ，：；（）？！)."""
    return (Markup("（%s）") if is_chinese() else Markup(" (%s)")) % text


def colon() -> str:
    """A label's colon: full-width in Chinese."""
    return "：" if is_chinese() else ": "


def init_app(app: Flask) -> None:
    """Set up Flask-Babel and the template filters that format times and mask ID numbers."""
    Babel(app, locale_selector=select_locale, timezone_selector=lambda: TIMEZONE)
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["aside"] = aside
    app.jinja_env.filters["clauses"] = clauses
    app.jinja_env.globals["colon"] = colon
    app.jinja_env.filters["mask"] = mask_id
    app.jinja_env.filters["plate"] = display_plate
    app.jinja_env.filters["action_label"] = action_label
    app.jinja_env.filters["role_label"] = role_label
    app.jinja_env.filters["result_label"] = result_label

    app.context_processor(language_context)


def language_context() -> dict:
    """What a template needs of the language it is written in (a context processor: each
    render, inside any force_locale)."""
    return {
        "LANGUAGES": LANGUAGES,
        "current_locale": str(get_locale() or DEFAULT_LOCALE),
        **template_gettext(),
    }


def template_gettext() -> dict:
    """`_`, `gettext` and `ngettext` for one template render, bound to the catalogue of the
    language it is written in.

    Flask-Babel's own template callables look the catalogue up again for every string (the
    request context, the domain, the locale: about as long as the lookup itself, a third of
    the verifier's verdict page). A render is written in one language (render_template runs
    the context processors inside any force_locale), so the catalogue is looked up once here;
    the words and their formatting are Jinja's newstyle gettext's, unchanged. Macros imported
    without the context still use Flask-Babel's callables.
    """
    translations = get_translations()
    # Made once per catalogue (Flask-Babel keeps one per language for the process) and kept
    # on it, so that they go with it.
    bound = getattr(translations, BOUND_GETTEXT, None)
    if bound is None:
        bound = bind_gettext(translations)
        setattr(translations, BOUND_GETTEXT, bound)
    return bound


BOUND_GETTEXT = "_jiaoguan_template_gettext"


def bind_gettext(translations) -> dict:
    """`_`, `gettext` and `ngettext` bound to one catalogue (template_gettext)."""
    ugettext, ungettext = translations.ugettext, translations.ungettext

    @pass_context
    def gettext(context, string: str, **variables):
        rv = ugettext(string)
        if context.eval_ctx.autoescape:
            rv = Markup(rv)  # noqa: S704 (the catalogue's own words, as Jinja's gettext)
        # Most of a page's words have no placeholder ("%" nowhere): formatting them is a no-op.
        return rv % variables if "%" in rv else rv

    @pass_context
    def ngettext(context, singular: str, plural: str, num: int, **variables):
        variables.setdefault("num", num)
        rv = ungettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            rv = Markup(rv)  # noqa: S704 (the catalogue's own words, as Jinja's gettext)
        return rv % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


def english(message) -> str:
    """A message (a validator's, lazy: Chinese by default outside a request) in English, as
    the command line speaks throughout."""
    with force_locale("en"):
        return str(message)
