"""Forms of proving one's identity: the SMS code, the clerk's counter look-up and activation,
and a new mobile number set at the counter (both confirmed by a second clerk)."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, InputRequired, Regexp

from core.forms import Form, IdNumberField, Normalized, halfwidth
from rules.validators import normalize_mobile, normalize_resident_id

REQUIRED = _l("This field is required.")


def six_digits(label) -> StringField:
    """The six digits of a code sent by SMS."""
    return StringField(
        label,
        filters=[halfwidth],  # ６３０５８６ as a Chinese input method types it
        validators=[
            DataRequired(REQUIRED),
            Regexp(r"^\s*[0-9]{6}\s*$", message=_l("Enter the 6 digits of the message.")),
        ],
    )


def card_number() -> IdNumberField:
    """The ID number the clerk types from the card in front of them."""
    return IdNumberField(
        _l("Resident ID number (from the ID card)"),
        validators=[DataRequired(REQUIRED), Normalized(normalize_resident_id)],
    )


def card_seen() -> BooleanField:
    """The clerk's word that the card was seen and matches the person."""
    return BooleanField(
        _l("I have seen this person's ID card: the photo, name and number match."),
        validators=[DataRequired(_l("Confirm that you have seen the ID card."))],
    )


def second_clerk() -> StringField:
    """The user name of the second clerk who confirms a counter act (countersign)."""
    return StringField(
        _l("Second clerk's user name"),
        description=_l(
            "Another licence or vehicle clerk looks at the ID card too, then types their user "
            "name and their authenticator's current code here."
        ),
        validators=[DataRequired(REQUIRED)],
    )


def second_clerk_code() -> StringField:
    """The second clerk's current authenticator code."""
    return StringField(
        _l("Second clerk's authenticator code"),
        validators=[
            DataRequired(REQUIRED),
            Regexp(r"^\s*\d{6}\s*$", message=_l("Enter the 6 digits of the authenticator.")),
        ],
    )


class SendCodeForm(Form):
    """Ask for a code by SMS (nothing to fill in: the number is the office's, not typed)."""


class SmsCodeForm(Form):
    """The six-digit code from the message."""

    code = six_digits(_l("Code from the message"))


class CounterLookupForm(Form):
    """The clerk types the ID number from the card and the reference the citizen reads out."""

    resident_id = card_number()
    reference = StringField(
        _l("Counter reference"),
        description=_l("Shown on the citizen's own identity page; they read it out."),
        validators=[DataRequired(REQUIRED)],
    )


class CounterActivateForm(Form):
    """The clerk confirms having seen the ID card of the person at the counter."""

    account = HiddenField(validators=[InputRequired()])
    reference = HiddenField(validators=[InputRequired()])
    seen_card = card_seen()
    witness = second_clerk()
    witness_code = second_clerk_code()


class CounterMobileLookupForm(Form):
    """At the counter, for a person who lost the phone: the ID card's number finds the account."""

    resident_id = card_number()


class CounterMobileForm(Form):
    """The account found: the ID card seen, the new number, the second clerk's confirmation."""

    found = HiddenField(validators=[InputRequired()])
    mobile = StringField(
        _l("New mobile number"),
        description=_l("The person must have this phone at the counter: a code is sent to it."),
        validators=[DataRequired(REQUIRED), Normalized(normalize_mobile)],
    )
    seen_card = card_seen()
    witness = second_clerk()
    witness_code = second_clerk_code()


class CounterMobileCodeForm(Form):
    """The code the person reads out from the new phone."""

    ticket = HiddenField(validators=[InputRequired()])
    code = six_digits(_l("Code the person reads out"))
