"""The dashboard's filter: a date range and an office, sent with GET (no CSRF: it changes
nothing)."""

import datetime as dt

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import DateField, Form, SelectField
from wtforms.validators import Optional, ValidationError

from core.forms import wtforms_translations

from .figures import MAX_DAYS, Filters

DEFAULT_DAYS = 30


EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


def in_range(day: dt.date | None) -> bool:
    """True for a date between 2000 and 2100."""
    return day is not None and EARLIEST <= day <= LATEST


class StatsFilterForm(Form):
    """From, to (Beijing days, inclusive) and one office or all."""

    class Meta:
        def get_translations(self, form):
            """WTForms' own messages ("Not a valid date value.") in the reader's language."""
            return wtforms_translations(str(get_locale()))

    since = DateField(_l("First day"), validators=[Optional()])
    until = DateField(_l("Last day"), validators=[Optional()])
    office = SelectField(_l("Office"), default="")

    def __init__(self, formdata, offices: list, today: dt.date):
        """Bind the query string; an empty range means the last DEFAULT_DAYS days to today."""
        super().__init__(formdata)
        self.today = today
        self.office.choices = [("", _l("All offices")), *offices]
        if self.until.data is None and not self.until.errors:
            self.until.data = today
        if self.since.data is None and not self.since.errors and in_range(self.until.data):
            self.since.data = self.until.data - dt.timedelta(days=DEFAULT_DAYS - 1)

    def validate_since(self, field):
        """Far-off years are typing mistakes (and would overflow the date arithmetic)."""
        if field.data is not None and not in_range(field.data):
            raise ValidationError(_l("Choose a date between 2000 and 2100."))

    def validate_until(self, field):
        """The range runs forwards, covers at most MAX_DAYS days, and lies in 2000-2100."""
        self.validate_since(field)
        if self.since.data and field.data:
            if field.data < self.since.data:
                raise ValidationError(_l("The end of the range is before its start."))
            if (field.data - self.since.data).days >= MAX_DAYS:
                raise ValidationError(_l("Choose at most %(n)s days.", n=MAX_DAYS))

    def filters(self) -> Filters:
        """The validated filter."""
        return Filters(self.since.data, self.until.data, self.office.data or None)
