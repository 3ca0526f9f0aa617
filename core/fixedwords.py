"""Templates compiled once per language, their fixed words already written in it.

A template's `_("…")` is a call at render time: Jinja's context call, the catalogue lookup,
the Markup, the escaping of its output. The verifier's verdict page is drawn in both languages
for every check (blueprints/verify.render_page), and those calls were a third of its time. A
language's environment here is an overlay of the app's (the same loader, filters, globals and
extensions, a cache of compiled templates of its own) that, while it compiles a template,
replaces:

- `_("literal")` by the literal's translation, marked safe as Jinja's newstyle gettext marks a
  translation in an autoescaped template, so the compiler writes it into the template's code;
- `_("literal", name=value, …)` by `fill("translation", name=value, …)`, which only puts the
  escaped values into the translation's placeholders.

Anything else (`_(variable)`, `ngettext`, `{% trans %}`) is left to the catalogue at render
time; a template not written with autoescape, or one that uses the name `_` for something of
its own (`{% set _ = … %}`), keeps every call. The page reads as it would through the app's
environment, word for word (tests/test_fixedwords.py). Translations are read when a
language's environment is made: a process serves the catalogue it started with, as it does
anyway (translations are compiled before the service starts).
"""

from collections.abc import Callable, Iterator

from flask import Flask
from flask_babel import force_locale, get_translations
from jinja2 import Environment, pass_eval_context
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from markupsafe import Markup

EXTENSION = "fixed_words"
FILL = "fixed_words_fill"
# Jinja's own default: enough for every template of the app.
CACHE_SIZE = 400


@pass_eval_context
def fill(eval_ctx, translation: str, **values):
    """A translation with placeholders, filled as Jinja's newstyle gettext fills it: in an
    autoescaped template (or block) the words as written and each value escaped, in a
    `{% autoescape false %}` block plain text."""
    if eval_ctx.autoescape:
        return Markup(translation) % values  # noqa: S704 (the catalogue's own words)
    return translation % values


class FixedWords(Extension):
    """Folds a template's fixed words into its code, in its environment's language."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        """The template's tokens, each `_("literal"` rewritten (see the module)."""
        translate: Callable[[str], str] = self.environment.fixed_words_gettext
        autoescape = self.environment.autoescape
        if callable(autoescape):
            autoescape = autoescape(stream.name)
        tokens = list(stream)
        if not autoescape or _names_underscore(tokens):
            yield from tokens
            return
        stream = TokenStream(iter(tokens), stream.name, stream.filename)
        previous = None
        while not stream.eos:
            token = next(stream)
            if (
                token.test("name:_")
                and not (previous is not None and previous.test("dot"))
                and stream.current.test("lparen")
                and stream.look().test("string")
            ):
                yield from self._folded(token, stream, translate)
                previous = None
                continue
            previous = token
            yield token

    @staticmethod
    def _folded(name: Token, stream: TokenStream, translate) -> Iterator[Token]:
        """`_` `(` `"literal"` and what follows, with the literal translated."""
        lparen = next(stream)
        literal = next(stream)
        after = stream.current
        line = name.lineno
        words = translate(literal.value)
        if after.test("rparen"):
            next(stream)
            # As newstyle gettext: "%%" written for a percent sign is one.
            text = str(Markup(words) % {}) if "%" in words else words  # noqa: S704
            yield Token(line, "lparen", "(")
            yield Token(line, "string", text)
            yield Token(line, "pipe", "|")
            yield Token(line, "name", "safe")
            yield Token(line, "rparen", ")")
        elif after.test("comma"):
            yield Token(line, "name", FILL)
            yield lparen
            yield Token(literal.lineno, "string", words)
        else:
            # `_("a" ~ b)` or adjacent literals: not a fixed word, left to the catalogue.
            yield name
            yield lparen
            yield literal


def _names_underscore(tokens: list[Token]) -> bool:
    """Whether the template uses `_` other than as a call (`{% set _ = … %}`, a loop or macro
    argument named `_`): then a `_("…")` in it may not be the catalogue's, and nothing is
    folded."""
    return any(
        token.test("name:_") and not following.test("lparen")
        for token, following in zip(tokens, tokens[1:], strict=False)
    )


def environment(app: Flask, locale: str) -> Environment:
    """The app's template environment in `locale`, its fixed words folded (made on first use,
    inside a request or app context, and kept for the process)."""
    made = app.extensions.setdefault(EXTENSION, {})
    env = made.get(locale)
    if env is None:
        env = app.jinja_env.overlay(extensions=[FixedWords], cache_size=CACHE_SIZE)
        # A bytecode cache is keyed by a template's name and source: it would hand one
        # language's compiled words to another.
        env.bytecode_cache = None
        with force_locale(locale):
            env.fixed_words_gettext = get_translations().ugettext
        env.globals = {**app.jinja_env.globals, FILL: fill}
        made[locale] = env
    return env
