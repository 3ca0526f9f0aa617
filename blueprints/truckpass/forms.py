"""Forms of the truck-pass pages: the application's steps, the clerk's decisions, the rule book."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from core.forms import REQUIRED, CheckboxesField, Form, choices
from models import TruckPass
from rules.truckrules import EMISSION_STANDARDS, MAX_PASS_DAYS, TRUCK_CLASSES

from .labels import CLASS_LABELS, DAY_LABELS, EMISSION_LABELS

STEPS = 5


class ApplyForm(Form):
    """Every field of the application; each step shows its own and carries the earlier ones.

    The fields have no validators of their own: the view checks the steps one by one, so that
    a refusal is shown at the step where it happens.
    """

    step = HiddenField(default="1")
    plate = StringField(_l("Plate number"))
    truck_class = SelectField(_l("Truck class"))
    emission = SelectField(
        _l("Emission standard"),
        choices=choices((e, EMISSION_LABELS[e]) for e in EMISSION_STANDARDS),
    )
    zones = CheckboxesField(_l("Zones"), coerce=int)
    start_date = DateField(_l("First day"))
    end_date = DateField(_l("Last day"))
    windows = StringField(
        _l("Daily time windows"),
        description=_l(
            "When the truck will be in the zone, e.g. 09:00-16:00 or 22:00-05:00; first filled "
            "with the hours the zones restrict this truck."
        ),
    )
    purpose = TextAreaField(
        _l("Purpose"),
        description=_l("What the truck carries and where, in up to 200 characters."),
        render_kw={"maxlength": TruckPass.purpose.max_length},
    )
    document = FileField(
        _l("Document (optional)"),
        description=_l(
            "A PDF, JPEG or PNG of at most 5 MB. A clerk reads it before the pass is issued "
            "(usually within a working day); without one, an application the rules allow is "
            "issued at once."
        ),
    )


class DecisionForm(Form):
    """A clerk approves or refuses an application, or revokes a pass, with a reason."""

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=300)])


class ZoneForm(Form):
    """A restricted zone."""

    name = StringField(_l("Zone name"), validators=[DataRequired(REQUIRED), Length(max=60)])
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=60)])
    description = TextAreaField(
        _l("What the zone covers"), validators=[Optional(), Length(max=2000)]
    )
    description_en = TextAreaField(
        _l("What the zone covers, in English"), validators=[Optional(), Length(max=2000)]
    )
    active = BooleanField(_l("In force"), default=True)
    map_image = FileField(
        _l("Map (optional)"), description=_l("A PNG or JPEG of the zone, at most 2 MB.")
    )
    # Checked by the service (rules.zonegeo), whose message names what is wrong.
    boundary = TextAreaField(
        _l("Boundary (GeoJSON)"),
        validators=[Optional()],
        description=_l(
            "A GeoJSON Polygon or MultiPolygon in longitude, latitude (WGS-84), as exported by "
            "a map tool; each ring closed. Leave empty for none."
        ),
    )


class RuleForm(Form):
    """One rule of a zone."""

    classes = CheckboxesField(
        _l("Restricted truck classes"), choices=choices((c, CLASS_LABELS[c]) for c in TRUCK_CLASSES)
    )
    days = CheckboxesField(_l("Days"), coerce=int, choices=choices(DAY_LABELS.items()))
    windows = StringField(
        _l("Restricted time windows"),
        validators=[DataRequired(REQUIRED)],
        description=_l("e.g. 07:00-09:00, 17:00-19:00; 22:00-06:00 runs past midnight."),
    )
    emissions = CheckboxesField(
        _l("Emission standards that may get a pass"),
        choices=choices((e, EMISSION_LABELS[e]) for e in EMISSION_STANDARDS),
    )
    max_days = IntegerField(
        _l("Longest validity of a pass (days)"),
        default=30,
        validators=[DataRequired(REQUIRED), NumberRange(1, MAX_PASS_DAYS)],
    )
    needs_review = BooleanField(_l("A clerk reviews every application"))
    # The preview's 6-hour warnings the clerk saw ("heavy:1 heavy:2"), and the clerk's
    # confirmation that the rule is to be published anyway.
    seen = HiddenField()
    confirm = BooleanField(_l("Publish anyway: I have read the warning"))


class MayEnterForm(Form):
    """The public question: may truck X enter zone Y at time T? (a GET form, no CSRF)."""

    class Meta:
        csrf = False

    zone = SelectField(_l("Zone"), coerce=int)
    # The truck's own class, and hazardous goods as well as it (rules.truckrules.counts_as).
    truck_class = SelectField(
        _l("Truck class"),
        choices=choices((c, CLASS_LABELS[c]) for c in TRUCK_CLASSES if c != "hazardous"),
    )
    hazardous = BooleanField(_l("It carries hazardous goods"))
    emission = SelectField(
        _l("Emission standard"),
        choices=choices((e, EMISSION_LABELS[e]) for e in EMISSION_STANDARDS),
    )
    at = DateTimeLocalField(_l("Date and time"), format="%Y-%m-%dT%H:%M")
