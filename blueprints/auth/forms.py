"""Forms of the account pages."""

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from core.forms import REQUIRED, Form, IdNumberField, Normalized, StrongPassword, halfwidth
from rules.validators import normalize_mobile, normalize_person_name, normalize_resident_id


def sms_code() -> StringField:
    """The code an SMS brought, as typed (full-width digits read as meant)."""
    return StringField(
        _l("Code from the SMS"),
        filters=[halfwidth],
        validators=[DataRequired(REQUIRED), Length(max=12)],
    )


class RegisterForm(Form):
    """A citizen's registration: real name, resident ID number, mobile, password."""

    real_name = StringField(
        _l("Real name"), validators=[DataRequired(REQUIRED), Normalized(normalize_person_name)]
    )
    resident_id = StringField(
        _l("Resident ID number"),
        validators=[DataRequired(REQUIRED), Normalized(normalize_resident_id)],
        description=_l("18 characters, as on your resident ID card."),
    )
    mobile = StringField(
        _l("Mobile number"), validators=[DataRequired(REQUIRED), Normalized(normalize_mobile)]
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(REQUIRED), StrongPassword("resident_id", "mobile")],
        description=_l("At least 8 characters; not a common password."),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", _l("The passwords differ."))],
    )


class LoginForm(Form):
    """Citizens give a mobile or ID number; staff give their username."""

    account = IdNumberField(
        _l("Mobile, ID number or staff username"),
        filters=[halfwidth],  # a number as a Chinese input method types it
        validators=[DataRequired(REQUIRED), Length(max=40)],
        mixed=True,
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED)])


class CodeForm(Form):
    """The six digits of the authenticator app."""

    code = StringField(
        _l("Authenticator code"),
        validators=[
            DataRequired(REQUIRED),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("Enter the 6 digits the app shows.")),
        ],
    )


class EnrolForm(CodeForm):
    """A staff member's first login: their own password (the one they were given was chosen by
    the administrator who made the account) and the first code of their authenticator."""

    password = PasswordField(
        _l("Your own password"), validators=[DataRequired(REQUIRED), StrongPassword()]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", _l("The passwords differ."))],
    )


class ChangePasswordForm(Form):
    """Change one's own password (ends every other session)."""

    current = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])
    password = PasswordField(
        _l("New password"), validators=[DataRequired(REQUIRED), StrongPassword()]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", _l("The passwords differ."))],
    )


class ForgotPasswordForm(Form):
    """Step one of a reset: which account (a citizen's mobile or ID number)."""

    account = IdNumberField(
        _l("Mobile or ID number"),
        filters=[halfwidth],
        validators=[DataRequired(REQUIRED), Length(max=40)],
        mixed=True,
    )


class ResetPasswordForm(Form):
    """Step two: the code sent by SMS and the new password (for the account step one named,
    kept in the session; reset.reset_password refuses the account's own details)."""

    code = sms_code()
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(REQUIRED), StrongPassword()],
        description=_l("At least 8 characters; not a common password."),
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(REQUIRED), EqualTo("password", _l("The passwords differ."))],
    )


class ChangeMobileForm(Form):
    """Step one of a new mobile number: the number, and the current password."""

    mobile = StringField(
        _l("New mobile number"),
        validators=[DataRequired(REQUIRED), Normalized(normalize_mobile)],
        description=_l("A code is sent to it: have that phone at hand."),
    )
    password = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])


class MobileCodeForm(Form):
    """Step two: the code the new number received."""

    code = sms_code()
