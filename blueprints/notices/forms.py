"""The form of a person's notice preferences."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField
from wtforms.validators import Length, Optional, Regexp, ValidationError

from core.forms import Form

EMAIL_SHAPE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class NoticePreferencesForm(Form):
    """Besides the inbox: SMS to the account's mobile, e-mail to an address of one's choice."""

    email = EmailField(
        _l("E-mail address"),
        validators=[
            Optional(),
            Length(max=254),
            # The form of an address only: the SMTP server's answer tells the rest.
            Regexp(EMAIL_SHAPE, message=_l("Enter an e-mail address such as name@example.com.")),
        ],
        description=_l("Only for notices, if you choose them below."),
    )
    notice_sms = BooleanField(_l("Notices by SMS to my mobile number"))
    notice_email = BooleanField(_l("Notices by e-mail"))

    def validate_notice_email(self, field):
        """E-mail notices need an address."""
        if field.data and not (self.email.data or "").strip():
            raise ValidationError(_l("Enter the e-mail address the notices should go to."))
