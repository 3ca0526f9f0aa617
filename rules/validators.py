"""Validate and normalise the identifiers people type into our forms.

Covers mainland China resident ID numbers (GB 11643-1999), licence plates
(GA 36-2018), vehicle identification numbers (ISO 3779 / GB 16735) and
mainland mobile numbers, plus masking of IDs for display.

Everything here is a pure function: no Flask app, database or request is
needed. Normalisers return the canonical form to store, or raise
``ValidationError`` whose ``.message`` is a lazy translatable string that a
view can show to the user as-is.
"""

import datetime
import re
import unicodedata

from flask_babel import lazy_gettext as _l

__all__ = [
    "ValidationError",
    "birth_date_from_resident_id",
    "check_invoice_date",
    "format_plate",
    "mask_id",
    "mask_mobile",
    "normalize_mobile",
    "normalize_plate",
    "normalize_resident_id",
    "normalize_vin",
    "resident_id_check_char",
    "sex_from_resident_id",
    "vin_check_digit",
]


class ValidationError(ValueError):
    """Bad input; .message is a translatable (lazy) string meant for the user."""

    def __init__(self, message):
        """Keep the lazy message so it is rendered in the user's locale later."""
        super().__init__(str(message))
        self.message = message


def _canonical(value: str | None) -> str:
    """Return value NFKC-normalised with all whitespace removed.

    NFKC folds the full-width digits and letters (U+FF10-U+FF5A) that Chinese
    input methods produce into ASCII, so users are not rejected for the state
    of their IME. Whitespace is dropped everywhere because people
    group long numbers with spaces when copying them from cards.
    """
    text = unicodedata.normalize("NFKC", value or "")
    return "".join(text.split())


# --- Resident ID numbers (GB 11643-1999) -----------------------------------

# Weight of position i (1-based) is 2**(18 - i) mod 11; precomputed.
_RID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character indexed by (weighted sum mod 11), per the standard's table.
_RID_CHECK_CHARS = "10X98765432"
# First two digits of the administrative division code (GB/T 2260).
_PROVINCE_CODES = frozenset(
    {
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        83,
        91,
    }
)
_EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)
# Explicit [0-9] rather than \d: \d also matches non-ASCII digits like "٣".
_RID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_DIGITS_17 = re.compile(r"[0-9]{17}")


def resident_id_check_char(first17: str) -> str:
    """Return the GB 11643-1999 MOD 11-2 check character for 17 digits.

    The result is '0'-'9' or 'X'. Raises ValidationError if ``first17`` is
    not exactly 17 ASCII digits.
    """
    if not _DIGITS_17.fullmatch(first17 or ""):
        raise ValidationError(_l("The first 17 characters of an ID number must be digits."))
    total = sum(int(d) * w for d, w in zip(first17, _RID_WEIGHTS, strict=True))
    return _RID_CHECK_CHARS[total % 11]


def normalize_resident_id(value: str, today: datetime.date | None = None) -> str:
    """Return the canonical 18-character resident ID number or raise.

    Spaces are removed and a trailing lowercase 'x' is uppercased. The area
    code must start with a real province code, the embedded birth date must
    be a real date between 1900-01-01 and ``today`` (default: the current
    date), and the check character must match.
    """
    rid = _canonical(value).upper()
    if not rid:
        raise ValidationError(_l("Enter a resident ID number."))
    if len(rid) != 18:
        raise ValidationError(_l("A resident ID number has 18 characters."))
    if not _RID_SHAPE.fullmatch(rid):
        raise ValidationError(_l("A resident ID number has 17 digits followed by a digit or X."))
    if rid[0] == "0":
        raise ValidationError(_l("A resident ID number cannot start with 0."))
    if int(rid[:2]) not in _PROVINCE_CODES:
        raise ValidationError(_l("The first two digits of this ID number are not a province code."))
    try:
        birth = datetime.date(int(rid[6:10]), int(rid[10:12]), int(rid[12:14]))
    except ValueError:
        raise ValidationError(_l("The birth date in this ID number is not a real date.")) from None
    if birth > (today or datetime.date.today()):
        raise ValidationError(_l("The birth date in this ID number is in the future."))
    if birth < _EARLIEST_BIRTH_DATE:
        raise ValidationError(_l("The birth date in this ID number is before 1900."))
    if resident_id_check_char(rid[:17]) != rid[17]:
        raise ValidationError(
            _l("The last character of this ID number does not match (check digit).")
        )
    return rid


def birth_date_from_resident_id(rid: str) -> datetime.date:
    """Return the birth date encoded in a resident ID number.

    The ID is validated first, so garbage raises ValidationError instead of
    yielding a plausible-looking but wrong date.
    """
    rid = normalize_resident_id(rid)
    return datetime.date(int(rid[6:10]), int(rid[10:12]), int(rid[12:14]))


def sex_from_resident_id(rid: str) -> str:
    """Return 'M' if the 17th digit of the ID is odd, else 'F' (GB 11643)."""
    rid = normalize_resident_id(rid)
    return "M" if int(rid[16]) % 2 else "F"


SEX_WORDS = {"M": "M", "F": "F", "男": "M", "女": "F"}


def sex_code(text: str) -> str | None:
    """'M' or 'F' for a sex as people write it (M, F, 男, 女; any case, full-width letters too),
    else None."""
    return SEX_WORDS.get(unicodedata.normalize("NFKC", text or "").strip().upper())


# --- Licence plates (GA 36-2018) --------------------------------------------

_PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Plate letters exclude I and O so they cannot be mistaken for 1 and 0.
_PLATE_LETTER = "A-HJ-NP-Z"
_PLATE_SUFFIXES = "学警挂港澳领试超"
_PLATE_RE = re.compile(
    rf"[{_PLATE_PROVINCES}][{_PLATE_LETTER}]"
    rf"(?:[{_PLATE_LETTER}0-9]{{5}}"  # ordinary
    rf"|[{_PLATE_LETTER}0-9]{{4}}[{_PLATE_SUFFIXES}]"  # special-use suffix
    rf"|[DABCEFGHJK][{_PLATE_LETTER}0-9][0-9]{{4}}"  # new-energy, small
    r"|[0-9]{5}[DF])"  # new-energy, large
)
# Separators people copy from the physical plate, which shows a dot there.
# The dot as people type it (·, •, the Japanese ・, ‧), or a hyphen, dash or full stop (Latin
# or Chinese) in its place.
_PLATE_SEPARATORS = str.maketrans("", "", "·•・‧-‐–—.。")


def normalize_plate(value: str) -> str:
    """Return a Chinese licence plate number in canonical form or raise.

    Spaces and the middle dot (or a hyphen or full stop in its place) are removed and Latin
    letters are uppercased, e.g. ' 鲁b·12345 ' or '鲁B-12345' -> '鲁B12345'. Accepts ordinary
    plates, plates ending in a special-use character (学, 警, ...) and both small and large
    new-energy plates.
    """
    plate = _canonical(value).translate(_PLATE_SEPARATORS).upper()
    if not plate:
        raise ValidationError(_l("Enter a plate number."))
    if plate[0] not in _PLATE_PROVINCES:
        raise ValidationError(
            _l("A plate number starts with a province abbreviation such as 京 or 粤.")
        )
    if len(plate) < 2 or not re.fullmatch(f"[{_PLATE_LETTER}]", plate[1]):
        raise ValidationError(
            _l("The second character of a plate number must be a letter (I and O are not used).")
        )
    if "I" in plate or "O" in plate:
        raise ValidationError(_l("Plate numbers do not use the letters I or O."))
    if len(plate) not in (7, 8):
        raise ValidationError(_l("A plate number has 7 characters, or 8 for a new-energy vehicle."))
    if not _PLATE_RE.fullmatch(plate):
        raise ValidationError(_l("This is not a valid plate number."))
    return plate


def normalize_plate_prefix(value: str) -> str:
    """A city's plate prefix (鲁B: the province's character and the city's letter) in canonical
    form, or raise."""
    prefix = _canonical(value).upper()
    if not re.fullmatch(rf"[{_PLATE_PROVINCES}][{_PLATE_LETTER}]", prefix):
        raise ValidationError(
            _l("A plate prefix is a province abbreviation and a letter, such as 鲁B.")
        )
    return prefix


def format_plate(value: str) -> str:
    """Return the plate for display with a dot after the 2nd char: 鲁B·12345."""
    plate = normalize_plate(value)
    return f"{plate[:2]}·{plate[2:]}"


def display_plate(value: str | None) -> str:
    """A plate as people write it on every page (鲁B·12345, the `plate` filter); what was
    stored, when it is no plate of the mainland's form; '' for none."""
    if not value:
        return ""
    try:
        return format_plate(value)
    except ValidationError:
        return value


# --- Vehicle identification numbers (ISO 3779 / GB 16735) -----------------

_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_SHAPE = re.compile(r"[A-Z0-9]{17}")


def vin_check_digit(vin: str) -> str:
    """Return the check digit ('0'-'9' or 'X') for a 17-character VIN.

    The character currently at position 9 is ignored (its weight is 0), so
    this works on a VIN whose check digit is unknown or wrong. Raises
    ValidationError for characters a VIN cannot contain.
    """
    vin = (vin or "").upper()
    if len(vin) != 17:
        raise ValidationError(_l("A VIN has 17 characters."))
    try:
        total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    except KeyError:
        raise ValidationError(
            _l("A VIN contains only digits and letters other than I, O and Q.")
        ) from None
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def normalize_vin(value: str) -> str:
    """Return the canonical (uppercase, 17-character) VIN or raise.

    The check digit at position 9 is mandatory for vehicles sold in China
    (GB 16735) and must match.
    """
    vin = _canonical(value).upper()
    if not vin:
        raise ValidationError(_l("Enter a VIN."))
    if len(vin) != 17:
        raise ValidationError(_l("A VIN has 17 characters."))
    if not _VIN_SHAPE.fullmatch(vin):
        raise ValidationError(_l("A VIN contains only letters and digits."))
    # Separate message: I/O/Q are excluded because they look like 1 and 0,
    # so the user most likely misread the plate and should re-check it.
    if any(c in "IOQ" for c in vin):
        raise ValidationError(_l("A VIN never contains the letters I, O or Q; check for 1 or 0."))
    if vin_check_digit(vin) != vin[8]:
        raise ValidationError(_l("The 9th character of this VIN does not match (check digit)."))
    return vin


# --- Mobile numbers -----------------------------------------------------------

# Optional country code as +86, 0086 or bare 86; a bare "86" cannot be
# confused with the number itself because mainland mobiles start with 1.
_MOBILE_RE = re.compile(r"(?:\+86|0086|86)?(1[3-9][0-9]{9})")


# The separator between the parts of a name as ID cards print it (艾力·买买提), and the marks
# people type for it (after NFKC, which has made a full-width "．" a ".").
NAME_DOT = "·"
_NAME_DOTS = str.maketrans({"•": NAME_DOT, "・": NAME_DOT, ".": NAME_DOT})


def normalize_person_name(value: str) -> str:
    """Return a person's name as an ID card prints it, or raise: letters of any script (Chinese
    characters, the Latin letters of a foreigner's permanent residence card), the middle dot
    between parts, single spaces and hyphens; no digits or other signs. NFKC folds what an
    input method types full-width; the dots people type for "·" become it:
    ' 艾力•买买提 ' -> '艾力·买买提'."""
    name = " ".join(unicodedata.normalize("NFKC", value or "").translate(_NAME_DOTS).split())
    if not name:
        raise ValidationError(_l("Enter the name as on the ID card."))
    allowed = all(unicodedata.category(c)[0] in "LM" or c in (NAME_DOT, " ", "-") for c in name)
    if not allowed or not unicodedata.category(name[0]).startswith("L"):
        raise ValidationError(
            _l("A name has letters only, with a middle dot (·) between its parts if it has one.")
        )
    if not 2 <= len(name) <= 30:
        raise ValidationError(_l("Enter the name as on the ID card (2 to 30 characters)."))
    return name


def normalize_mobile(value: str) -> str:
    """Return an 11-digit mainland China mobile number or raise.

    Spaces and hyphens are removed and an optional +86 / 86 / 0086 country
    code is dropped: '+86 138-1234-5678' -> '13812345678'.
    """
    number = _canonical(value).replace("-", "")
    if not number:
        raise ValidationError(_l("Enter a mobile number."))
    match = _MOBILE_RE.fullmatch(number)
    if not match:
        raise ValidationError(_l("Enter an 11-digit mainland mobile number, such as 13812345678."))
    return match.group(1)


# --- Invoice dates --------------------------------------------------------------

# The earliest invoice date of a sale of a vehicle whose first registration is not recorded: a
# floor no genuine invoice of a used-car sale (二手车销售统一发票) predates.
INVOICE_DATE_FLOOR = datetime.date(2000, 1, 1)


def check_invoice_date(
    day: datetime.date, first_registered_on: datetime.date | None, today: datetime.date
) -> None:
    """Raise ``ValidationError`` unless a sale's invoice date is possible: not after ``today``
    (Beijing) and not before the vehicle was first registered (before INVOICE_DATE_FLOOR when
    that date is not recorded)."""
    if day > today:
        raise ValidationError(_l("The invoice date cannot be in the future."))
    if first_registered_on is not None and day < first_registered_on:
        raise ValidationError(
            _l("The invoice date cannot be before the vehicle's first registration.")
        )
    if first_registered_on is None and day < INVOICE_DATE_FLOOR:
        raise ValidationError(
            _l(
                "The invoice date cannot be before %(date)s.",
                date=INVOICE_DATE_FLOOR.isoformat(),
            )
        )


# --- Display ------------------------------------------------------------------


def mask_id(value: str | None) -> str:
    """Mask an identifier for display, keeping the first 6 and last 4 chars.

    Strings of 11 or more characters become first 6 + '*' * (len - 10) +
    last 4, preserving the length. Shorter strings are fully masked, since
    revealing 10 characters of them would reveal almost everything.
    None or '' give ''.
    """
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_mobile(value: str | None) -> str:
    """Mask a mobile number the way Chinese services show one: 138****5678.

    Enough for its owner to recognise it, too little for anyone else to call it.
    """
    if not value:
        return ""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
