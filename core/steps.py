"""The service convention every measure follows: a step is a plain function.

A step takes its actor explicitly (never a request global), runs in one short write
transaction (run_step), and refuses with StepError, whose message is for the person who tried
and whose `field`, when given, names the form field the refusal belongs to. Views only
translate: form -> step -> StepError into a form error or a flash (docs/DESIGN.md#services).
"""

from flask_babel import lazy_gettext as _l

from models import write_tx

NOT_NOW = _l("This step has already been taken, or is not possible in the present state.")


class StepError(Exception):
    """A step refused, with a message for the person who tried it.

    `field` names the form field the refusal belongs to (the view shows it next to that field);
    None means the refusal is about the whole form or the whole object.
    """

    def __init__(self, message, field: str | None = None):
        """Keep the lazy message: it is put into words in the reader's language."""
        super().__init__(str(message))
        self.message = message
        self.field = field

    def words(self) -> str:
        """The refusal in the reader's words (a subclass may add to them, e.g. a lock's end)."""
        return str(self.message)


class StepErrors(StepError):
    """Several refusals of one step, each at its own field: the person sees them all at once
    rather than one per attempt. Raised only with at least one."""

    def __init__(self, errors: list[StepError]):
        """The first refusal is the exception's own message (for a caller that reads one)."""
        super().__init__(errors[0].message, errors[0].field)
        self.errors = errors


def refuse_all(errors: list[StepError]) -> None:
    """Raise the refusals found, if any: one as itself, several together."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise StepErrors(errors)


class LostRace(Exception):
    """Another request changed the rows first: roll the whole step back."""


def run_step(step, lost=NOT_NOW):
    """Run a step's transaction; a lost race rolls it back and becomes the refusal `lost`."""
    try:
        with write_tx():
            return step()
    except LostRace:
        raise StepError(lost) from None


def form_error(form, exc: StepError) -> None:
    """Put a refusal (each of several) on the form: next to its field when it names one, else
    on the form."""
    for one in getattr(exc, "errors", [exc]):
        field = getattr(form, one.field, None) if one.field else None
        if field is not None:
            field.errors = [*field.errors, one.words()]
        else:
            form.form_errors.append(one.words())
