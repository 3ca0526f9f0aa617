"""Forms of the licence pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from core.forms import REQUIRED, Form, Normalized
from rules.validators import normalize_person_name


class ShareCodeForm(Form):
    """The holder creates a share code for a firm."""

    days = IntegerField(
        _l("Valid for (days)"),
        default=7,
        # InputRequired, not DataRequired: 0 is typed (and falsy), and must get the range's
        # message, not "This field is required".
        validators=[
            InputRequired(REQUIRED),
            NumberRange(1, 21, message=_l("Choose between 1 and 21 days.")),
        ],
    )
    show_points = BooleanField(_l("Also show my penalty points"))
    note = StringField(
        _l("For whom (optional)"),
        validators=[Optional(), Length(max=60)],
        description=_l("For your own list, e.g. the rental company's name."),
    )


class StatusForm(Form):
    """A licence clerk suspends, revokes, cancels or restores a licence, with a reason."""

    action = SelectField(_l("Action"), validators=[DataRequired(REQUIRED)])
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Give the reason; the holder and the audit log will see it.")),
            Length(max=200),
        ],
    )


class PhotoForm(Form):
    """A licence clerk uploads the holder's photo (JPEG or PNG)."""

    photo = FileField(_l("Photo (JPEG or PNG)"), validators=[FileRequired(REQUIRED)])


class RecordCorrectionForm(Form):
    """A licence clerk corrects one field of a record, with a reason."""

    field = SelectField(_l("Field"), validators=[DataRequired(REQUIRED)])
    value = StringField(
        _l("Corrected value"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
        description=_l("Sex as M or F, a date as YYYY-MM-DD."),
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Give the reason; the holder and the audit log will see it.")),
            Length(max=200),
        ],
    )


class NameCorrectionForm(Form):
    """A citizen asks for the name on their account to be corrected."""

    new_name = StringField(
        _l("Correct name"),
        validators=[DataRequired(REQUIRED), Normalized(normalize_person_name)],
        description=_l("As on your ID card."),
    )
    note = StringField(
        _l("Anything the clerk should know (optional)"), validators=[Optional(), Length(max=200)]
    )


class CorrectionDecisionForm(Form):
    """A licence clerk's answer to a name correction request (approve or refuse)."""

    answer = TextAreaField(
        _l("Answer to the citizen"),
        validators=[Length(max=200)],
        description=_l("Required when refusing: say why."),
    )
