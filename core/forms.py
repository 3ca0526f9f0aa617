"""Glue between the pure validators in rules/ and WTForms fields."""

from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation

from rules.validators import ValidationError


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


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated since WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]
