"""Forms of the transfer measure: the sale's invoice, the inspection, the archive refusal and
the plate choice. VINs, plates and ID numbers go through the shared normalisers."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.validators import ValidationError as FormError

from core.forms import REQUIRED, Form, IdNumberField, Normalized, halfwidth
from rules.clock import beijing_today
from rules.validators import (
    ValidationError,
    check_invoice_date,
    normalize_plate,
    normalize_resident_id,
    normalize_vin,
)

MAX_PHOTOS = 6
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg", "image/png"}


class CaseForm(Form):
    """The sale's unified invoice (二手车销售统一发票) as the buyer enters it."""

    vin = StringField(
        _l("VIN"),
        validators=[DataRequired(REQUIRED), Normalized(normalize_vin)],
        description=_l("17 characters, as on the registration certificate."),
    )
    plate = StringField(
        _l("Present plate number"),
        validators=[DataRequired(REQUIRED), Normalized(normalize_plate)],
        description=_l(
            "As the vehicle carries it now, in the city where it is registered (e.g. 鲁B·12345)."
        ),
    )
    seller_resident_id = IdNumberField(
        _l("Seller's resident ID number"),
        validators=[DataRequired(REQUIRED), Normalized(normalize_resident_id)],
        description=_l("The registered owner's, as on the registration certificate."),
    )
    invoice_no = StringField(
        _l("Invoice number"),
        filters=[halfwidth],
        validators=[
            DataRequired(REQUIRED),
            Regexp(r"^\s*[0-9]{8,20}\s*$", message=_l("8 to 20 digits, as on the invoice.")),
        ],
    )
    invoice_date = DateField(
        _l("Invoice date"),
        validators=[DataRequired(_l("Enter the date as on the invoice."))],
    )
    price = DecimalField(
        _l("Price (yuan)"),
        places=2,
        validators=[
            # 0 is a price typed (and too low), not one missing.
            InputRequired(_l("Enter the price as on the invoice.")),
            NumberRange(
                min=1,
                max=99_999_999,
                message=_l("Enter the price in yuan, from 1 to 99,999,999."),
            ),
        ],
    )
    destination = SelectField(_l("Register at"), coerce=int)
    residence_permit_no = StringField(
        _l("Residence permit number"),
        filters=[halfwidth],
        validators=[
            Optional(),
            Regexp(r"^[0-9A-Za-z]{6,30}$", message=_l("6 to 30 letters or digits.")),
        ],
        description=_l(
            "Only for a buyer whose household is registered in another city: the number of "
            "the buyer's residence permit of this city."
        ),
    )

    def validate_invoice_date(self, field):
        """A date in the future, or before any registration could be, is said with the other
        fields' faults in the first round (the vehicle's own first registration is checked once
        it is found)."""
        if field.data is None:
            return
        try:
            check_invoice_date(field.data, None, beijing_today())
        except ValidationError as exc:
            raise FormError(str(exc.message)) from exc


class MarketCaseForm(CaseForm):
    """The same invoice issued at a used-car market, which names the buyer."""

    buyer_name = StringField(
        _l("Buyer's name"), validators=[DataRequired(REQUIRED), Length(min=2, max=30)]
    )
    buyer_resident_id = IdNumberField(
        _l("Buyer's resident ID number"),
        validators=[DataRequired(REQUIRED), Normalized(normalize_resident_id)],
    )


class InspectionForm(Form):
    """The inspection (查验): identifiers read off the vehicle itself, the result, photos."""

    vin_read = StringField(
        _l("VIN read on the vehicle"),
        validators=[DataRequired(REQUIRED), Normalized(normalize_vin)],
    )
    plate_read = StringField(
        _l("Plate read on the vehicle"),
        validators=[DataRequired(REQUIRED), Normalized(normalize_plate)],
    )
    result = SelectField(
        _l("Result"),
        # No default: the clerk chooses (an empty first option, as HTML wants of a required
        # select, and no result is taken for "passed" by mistake).
        choices=[
            SelectChoice("", _l("Choose…")),
            SelectChoice("passed", _l("Passed")),
            SelectChoice("failed", _l("Failed")),
        ],
        validators=[DataRequired(REQUIRED)],
    )
    remarks = TextAreaField(
        _l("Remarks"),
        validators=[Length(max=500)],
        description=_l("Required when the vehicle fails: say why."),
    )
    photos = MultipleFileField(
        _l("Photos"), description=_l("JPEG or PNG, at most 6, each up to 5 MB.")
    )
    # Asked only after a reading differed from the record (office_service.ReadingMismatch).
    confirm_mismatch = BooleanField(
        _l("I read it off the vehicle again: it really differs from the record")
    )
    # Set by the view when the step refused a reading that differs (not for an empty field).
    reading_differs = False

    def validate_remarks(self, field):
        """A failed inspection says why."""
        if self.result.data == "failed" and not (field.data or "").strip():
            raise FormError(_l("Say why the vehicle failed."))

    def validate_photos(self, field):
        """At most MAX_PHOTOS files (their content is checked when they are stored)."""
        files = [f for f in field.data or [] if f and f.filename]
        if len(files) > MAX_PHOTOS:
            raise FormError(_l("At most 6 photos."))


class PermitForm(Form):
    """The buyer gives the residence permit number the case waits for."""

    residence_permit_no = StringField(
        _l("Residence permit number"),
        filters=[halfwidth],
        validators=[
            DataRequired(REQUIRED),
            Regexp(r"^[0-9A-Za-z]{6,30}$", message=_l("6 to 30 letters or digits.")),
        ],
        description=_l("The number on your residence permit (居住证) of this city."),
    )


class RefuseArchiveForm(Form):
    """The origin office refuses to send the archive, and says why."""

    reason = TextAreaField(
        _l("Reason for refusing"),
        validators=[DataRequired(REQUIRED), Length(min=4, max=500)],
    )


class WithdrawForm(Form):
    """The destination office stops a confirmed case because the parties asked."""

    reason = TextAreaField(
        _l("What the parties asked, and why"),
        validators=[DataRequired(REQUIRED), Length(min=4, max=500)],
    )


class PlateForm(Form):
    """The buyer picks one of the free plates offered."""

    plate = RadioField(
        _l("Plate"),
        coerce=int,
        validate_choice=False,
        validators=[DataRequired(_l("Choose one of the plates."))],
    )
