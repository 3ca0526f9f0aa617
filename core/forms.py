"""The base of every form, the words and checks forms of several measures share, and glue
between the pure validators in rules/ and WTForms fields."""

import re
import unicodedata
from functools import lru_cache

from babel import support
from flask import has_request_context, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms.fields import FileField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from core.passwords import check_policy
from rules.validators import ValidationError, normalize_mobile

REQUIRED = _l("This field is required.")


class StrongPassword:
    """The password policy, with the form's personal data (ID number, mobile) excluded."""

    def __init__(self, *personal_fields: str):
        self.personal_fields = personal_fields

    def __call__(self, form, field):
        personal = [getattr(form, name).data or "" for name in self.personal_fields]
        # Forms for a logged-in user carry their ID number and mobile as `personal`.
        personal += getattr(form, "personal", [])
        try:
            check_policy(field.data or "", *personal)
        except ValidationError as exc:
            raise StopValidation(str(exc.message)) from exc


@lru_cache(maxsize=8)
def wtforms_translations(locale: str):
    """WTForms' own messages ("Not a valid date value.") in one language, read once per process.

    Flask-WTF reads WTForms' catalogue from disk again in every request that builds a form
    (it caches it on the request only): most of the cost of building a form.
    """
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """A FlaskForm (CSRF token, request data) with WTForms' messages in the user's language."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            """The catalogue of the request's language, loaded once per process."""
            return wtforms_translations(str(get_locale()))

        def wrap_formdata(self, form, formdata):
            """The request's fields, with file parts kept for file fields only.

            Flask-WTF hands a form the files and the text fields together: a file part sent
            under a text field's name would reach `.strip()` as a FileStorage (a 500). Dropped
            here, such a field reads as empty and gets its ordinary message.
            """
            data = super().wrap_formdata(form, formdata)
            if data is None or not has_request_context() or not request.files:
                return data
            file_fields = {f.name for f in form if isinstance(f, FileField)}
            kept = MultiDict()
            for key, value in data.items(multi=True):
                if not isinstance(value, FileStorage) or key in file_fields:
                    kept.add(key, value)
            return kept


class Normalized:
    """A WTForms validator that runs a rules.validators normaliser and keeps its result.

    The field's data becomes the canonical value (e.g. an upper-case X in an ID number), and a
    ValidationError becomes the message shown next to the field, in the user's language.
    """

    def __init__(self, normalizer, **kwargs):
        self.normalizer = normalizer
        self.kwargs = kwargs

    def __call__(self, form, field):
        try:
            field.data = self.normalizer(field.data or "", **self.kwargs)
        except ValidationError as exc:
            raise StopValidation(str(exc.message)) from exc


def halfwidth(value):
    """A WTForms filter for codes and numbers typed with a Chinese input method: full-width
    letters, digits and dashes (３７０２, ＤＥＭＯ－ＣＡＳＥ) folded to ASCII (NFKC), and the
    ends stripped, so that what looks right to the person is read as they meant it."""
    return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else value


# In a field that takes other things too (the login's account: a mobile number, an ID number or
# a staff user name), what is kept: a mobile number, as the login reads one (normalize_mobile).
# Anything else of 12 digits or more, separators aside, reads as an ID number, mistyped too.
SEPARATORS = re.compile(r"[\s\-_.·]")


def without_spaces(value):
    """A WTForms filter for a number printed in groups (a case number, a query code, copied as
    "3702 0220 2600 0777" or "Y8F3 8QXT"): its spaces are no part of it."""
    return "".join(value.split()) if isinstance(value, str) else value


class IdNumberField(StringField):
    """A field an ID number (or a document number that carries one) is typed into: a page that
    draws the form again never carries the typed number back, neither in the page nor in the
    browser's copy of it; the person types it again, and the field's note says why it is empty
    (templates/components/form.html). With `mixed`, a field that takes other things too clears
    only what reads as an ID number."""

    def __init__(self, *args, mixed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.mixed = mixed

    @property
    def cleared(self) -> bool:
        """An ID number was typed in this request, and is not drawn back."""
        typed = halfwidth(self.raw_data[0]) if self.raw_data else ""
        if not isinstance(typed, str) or not typed.strip():
            return False
        if not self.mixed:
            return True
        try:
            normalize_mobile(typed)
            return False
        except ValidationError:
            return sum(c.isdigit() for c in SEPARATORS.sub("", typed)) >= 12

    def _value(self) -> str:
        """What the page shows in the field: never a typed ID number."""
        return "" if self.cleared else super()._value()


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated since WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as checkboxes (usable on a phone, unlike a multi-select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
