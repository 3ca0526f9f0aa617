"""Forms and labels of the accident-evidence pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DateTimeLocalField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from core.forms import REQUIRED, Form, IdNumberField, Normalized, halfwidth, without_spaces
from core.forms import choices as pairs_to_choices
from rules.validators import normalize_mobile, normalize_resident_id

STATUS_LABELS = {
    "opened": _l("Case opened"),
    "evidence_gathered": _l("Evidence gathered"),
    "determination_delivered": _l("Determination delivered"),
    "open_for_review": _l("Evidence open for review"),
    "closed": _l("Closed"),
}
# What the officer's button says for each move.
STEP_LABELS = {
    "evidence_gathered": _l("Mark evidence as gathered"),
    "determination_delivered": _l("Record delivery of the determination"),
    "open_for_review": _l("Open the evidence to the parties"),
    "closed": _l("Close the case"),
}
PROCEDURE_LABELS = {"general": _l("General procedure"), "simple": _l("Simple procedure")}
PARTY_ROLE_LABELS = {
    "driver": _l("Driver"),
    "owner": _l("Vehicle owner"),
    "injured": _l("Injured person"),
    "relative": _l("Relative of a deceased person"),
    "agent": _l("Agent"),
    "insurer": _l("Insurer"),
}
CATEGORY_LABELS = {
    "scene_diagram": _l("Scene diagram"),
    "survey_record": _l("Survey record"),
    "appraisal": _l("Appraisal opinion"),
    "photo": _l("Photo"),
    "inspection_report": _l("Inspection report"),
    "other": _l("Other"),
}
REASON_LABELS = {
    "state_secret": _l("State secret"),
    "privacy": _l("Privacy of others"),
    "witness": _l("Witness protection"),
}
RELEASE_LABELS = {"released": _l("Released to the parties"), "withheld": _l("Withheld")}
KIND_LABELS = {
    "case": _l("Opened the case"),
    "view": _l("Viewed"),
    "download": _l("Downloaded a copy"),
}
# The reason list's first, empty choice (an option needs words to be read out).
NOT_WITHHELD = _l("Not withheld")
CASE_NO_RE = r"^[0-9A-Za-z-]{6,32}$"


def choices(labels: dict, blank=None) -> list:
    """SelectField choices from a label table (lazy labels: shown in the user's language)."""
    return pairs_to_choices(([("", blank)] if blank is not None else []) + list(labels.items()))


class CaseFacts(Form):
    """The facts of a case as its file gives them: number, time, place, description."""

    case_no = StringField(
        _l("Case number"),
        filters=[halfwidth],
        validators=[
            DataRequired(REQUIRED),
            Regexp(CASE_NO_RE, message=_l("6-32 letters, digits or dashes.")),
        ],
        description=_l("As on the case file, e.g. 3702022021000123."),
    )
    occurred_at = DateTimeLocalField(
        _l("Time of the accident (Beijing time)"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(REQUIRED)],
    )
    place = StringField(_l("Place"), validators=[DataRequired(REQUIRED), Length(max=200)])
    description = TextAreaField(_l("Short description"), validators=[Length(max=2000)])


class CaseForm(CaseFacts):
    """An officer opens an accident case."""

    procedure = SelectField(_l("Procedure"), choices=choices(PROCEDURE_LABELS))
    officer = SelectField(_l("Handling officer"), coerce=int)
    determination_delivered_on = DateField(
        _l("Determination delivered on"),
        validators=[Optional()],
        description=_l("Leave empty until the accident determination has been delivered."),
    )


class FactsForm(CaseFacts):
    """The handling officer corrects a slip in the case's facts, saying why."""

    reason = StringField(
        _l("Reason for the correction"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        description=_l("Kept in the audit log with the old and the new values."),
    )


class PartyForm(Form):
    """A party to the accident; their account is found by the ID number."""

    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=50)])
    resident_id = IdNumberField(
        _l("Resident ID number"),
        validators=[DataRequired(REQUIRED), Normalized(normalize_resident_id)],
    )
    mobile = StringField(
        _l("Mobile number"), validators=[DataRequired(REQUIRED), Normalized(normalize_mobile)]
    )
    role = SelectField(_l("Role in the case"), choices=choices(PARTY_ROLE_LABELS))


class Withholding(Form):
    """Whether the parties may see an item, and why not (the reason and its note): a withheld
    item needs a reason, and a released one has none (a reason chosen with "released" left on
    would release an item its officer meant to withhold)."""

    release = RadioField(_l("The parties may see it"), choices=choices(RELEASE_LABELS))
    reason = SelectField(
        _l("Reason for withholding"), choices=choices(REASON_LABELS, NOT_WITHHELD), default=""
    )
    note = StringField(_l("Note on withholding (officers only)"), validators=[Length(max=500)])

    def validate_reason(self, field):
        """A withheld item needs a reason; a released one takes none."""
        if self.release.data == "withheld" and not field.data:
            raise ValidationError(_l("Choose why the item is withheld."))
        if self.release.data == "released" and field.data:
            raise ValidationError(
                _l(
                    "A reason for withholding was chosen, but the item is to be released: choose "
                    "“Withheld”, or leave the reason empty."
                )
            )


class UploadForm(Withholding):
    """An officer adds an evidence file and decides whether the parties may see it."""

    category = SelectField(_l("Category"), choices=choices(CATEGORY_LABELS))
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=100)])
    file = FileField(
        _l("File"), description=_l("PDF, JPEG or PNG; checked by its content, not its name.")
    )
    release = RadioField(
        _l("The parties may see it"), choices=choices(RELEASE_LABELS), default="released"
    )


class ReleaseForm(Withholding):
    """Release a withheld item, or withhold a released one (with the reason). The form shows
    the item's reason: releasing the item with that reason still chosen releases it (the
    reason goes with the withholding); another reason chosen with "released" is refused."""

    current_reason = ""  # the item's own reason, set by the view

    def validate_reason(self, field):
        """As Withholding, but the item's own reason is no reason to refuse a release."""
        if self.release.data == "released" and field.data == self.current_reason:
            field.data = ""
        super().validate_reason(field)


class ProgressForm(Form):
    """Move a case one step on; delivering the determination needs its date."""

    to = SelectField(choices=choices(STEP_LABELS))
    delivered_on = DateField(_l("Delivered on"), validators=[Optional()])


class QueryCodeForm(Form):
    """A party opens a case with the case number and the code on the paper notice."""

    case_no = StringField(
        _l("Case number"),
        filters=[halfwidth, without_spaces],
        validators=[
            DataRequired(REQUIRED),
            Regexp(CASE_NO_RE, message=_l("6-32 letters, digits or dashes.")),
        ],
    )
    code = StringField(
        _l("Query code"),
        filters=[halfwidth, without_spaces],
        validators=[
            DataRequired(REQUIRED),
            Regexp(r"^\s*[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}\s*$", message=_l("8 letters and digits.")),
        ],
        description=_l("Printed on the notice you were given, e.g. K7QM-3XPA."),
    )


class ReviewRequestForm(Form):
    """A party asks for a review (复核) of the case's withheld evidence."""

    grounds = TextAreaField(
        _l("What should be reviewed, and why"),
        validators=[DataRequired(REQUIRED), Length(max=1000)],
    )


class ReviewAnswerForm(Form):
    """The officer's answer to a review request, which the party reads."""

    answer = TextAreaField(
        _l("Answer to the party"), validators=[DataRequired(REQUIRED), Length(max=1000)]
    )
