"""Tests for rules.validators: IDs, plates, VINs, mobiles and masking."""

import datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rules.validators import (
    ValidationError,
    birth_date_from_resident_id,
    format_plate,
    mask_id,
    normalize_mobile,
    normalize_plate,
    normalize_resident_id,
    normalize_vin,
    resident_id_check_char,
    sex_from_resident_id,
    vin_check_digit,
)

# Fixed "today" so generated data and the future-date rule are deterministic.
TODAY = datetime.date(2024, 6, 15)

PROVINCES = [
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
]
DIGITS = "0123456789"


def make_rid(province: int, area: str, birth: datetime.date, seq: str) -> str:
    """Build an ID number with the correct check character."""
    first17 = f"{province:02d}{area}{birth:%Y%m%d}{seq}"
    return first17 + resident_id_check_char(first17)


valid_rids = st.builds(
    make_rid,
    st.sampled_from(PROVINCES),
    st.text(DIGITS, min_size=4, max_size=4),
    st.dates(datetime.date(1900, 1, 1), TODAY),
    st.text(DIGITS, min_size=3, max_size=3),
)


def fullwidth(text: str) -> str:
    """Return text as full-width characters, as a Chinese IME in that mode types it."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def message_of(excinfo) -> str:
    """Render the lazy message the way a template would."""
    return str(excinfo.value.message)


# --- Resident IDs -------------------------------------------------------------


def test_check_char_matches_hand_computation():
    # Weighted sum of 11010519491231002 is 167; 167 % 11 == 2 -> 'X'.
    assert resident_id_check_char("11010519491231002") == "X"


def test_known_valid_and_invalid_ids():
    assert normalize_resident_id("11010519491231002X") == "11010519491231002X"
    with pytest.raises(ValidationError) as excinfo:
        normalize_resident_id("110105194912310021")
    assert "check digit" in message_of(excinfo)


@given(valid_rids)
def test_valid_ids_normalise_to_themselves(rid):
    assert normalize_resident_id(rid, today=TODAY) == rid


@given(valid_rids, st.integers(0, 16), st.sampled_from(DIGITS))
def test_single_digit_substitution_is_detected(rid, pos, digit):
    assume(rid[pos] != digit)
    changed = rid[:pos] + digit + rid[pos + 1 :]
    # Some substitutions break the area code or date instead; any
    # ValidationError is the expected outcome.
    with pytest.raises(ValidationError):
        normalize_resident_id(changed, today=TODAY)


@given(valid_rids, st.integers(0, 15))
def test_adjacent_transposition_is_detected(rid, pos):
    assume(rid[pos] != rid[pos + 1])
    swapped = rid[:pos] + rid[pos + 1] + rid[pos] + rid[pos + 2 :]
    with pytest.raises(ValidationError):
        normalize_resident_id(swapped, today=TODAY)


@given(valid_rids, st.sampled_from("0123456789X"))
def test_wrong_check_char_is_detected(rid, char):
    assume(rid[17] != char)
    with pytest.raises(ValidationError):
        normalize_resident_id(rid[:17] + char, today=TODAY)


def test_lowercase_x_and_spaces_accepted():
    assert normalize_resident_id(" 110105 19491231 002x ") == "11010519491231002X"


def test_fullwidth_digits_accepted():
    assert normalize_resident_id(fullwidth("11010519491231002X")) == "11010519491231002X"


@pytest.mark.parametrize(
    "value", ["", "1101051949123100", "11010519491231002X1", "110105194912310"]
)
def test_wrong_length_refused(value):
    with pytest.raises(ValidationError):
        normalize_resident_id(value)


def test_length_message_is_specific():
    with pytest.raises(ValidationError) as excinfo:
        normalize_resident_id("1101051949123100")
    assert message_of(excinfo) == "A resident ID number has 18 characters."


def test_non_digit_refused():
    with pytest.raises(ValidationError):
        normalize_resident_id("1101051949123100AX")


def test_leading_zero_and_bad_province_refused():
    for first17 in ("01010519491231002", "99010519491231002", "10010519491231002"):
        with pytest.raises(ValidationError):
            normalize_resident_id(first17 + resident_id_check_char(first17))


def test_future_birth_date_refused():
    rid = make_rid(11, "0105", datetime.date(2024, 6, 16), "002")
    with pytest.raises(ValidationError) as excinfo:
        normalize_resident_id(rid, today=TODAY)
    assert "future" in message_of(excinfo)
    # Born "today" is fine.
    rid = make_rid(11, "0105", TODAY, "002")
    assert normalize_resident_id(rid, today=TODAY) == rid


def test_birth_date_before_1900_refused():
    with pytest.raises(ValidationError) as excinfo:
        normalize_resident_id(make_rid(11, "0105", datetime.date(1899, 12, 31), "001"))
    assert "1900" in message_of(excinfo)


@pytest.mark.parametrize("ymd", ["20230230", "20231301", "20230000", "00000101"])
def test_unreal_birth_date_refused(ymd):
    first17 = f"110105{ymd}002"
    with pytest.raises(ValidationError) as excinfo:
        normalize_resident_id(first17 + resident_id_check_char(first17), today=TODAY)
    assert "not a real date" in message_of(excinfo)


def test_check_char_rejects_bad_input():
    for value in ("1101051949123100", "1101051949123100X", ""):
        with pytest.raises(ValidationError):
            resident_id_check_char(value)


@given(valid_rids)
def test_birth_date_and_sex_extraction(rid):
    assert birth_date_from_resident_id(rid) == datetime.date(
        int(rid[6:10]), int(rid[10:12]), int(rid[12:14])
    )
    assert sex_from_resident_id(rid) == ("M" if int(rid[16]) % 2 else "F")


def test_birth_date_and_sex_known_example():
    assert birth_date_from_resident_id("11010519491231002x") == datetime.date(1949, 12, 31)
    assert sex_from_resident_id("11010519491231002X") == "F"


# --- Messages -------------------------------------------------------------------


def test_lazy_message_renders_without_app_context():
    with pytest.raises(ValidationError) as excinfo:
        normalize_resident_id("123")
    assert str(excinfo.value.message) == "A resident ID number has 18 characters."
    assert str(excinfo.value) == "A resident ID number has 18 characters."
    assert isinstance(excinfo.value, ValueError)


def test_lazy_message_renders_inside_app_context():
    from flask import Flask
    from flask_babel import Babel

    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        with pytest.raises(ValidationError) as excinfo:
            normalize_mobile("12812345678")
        assert "mobile" in str(excinfo.value.message)


# --- Plates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("鲁B12345", "鲁B12345"),
        ("鲁B·12345", "鲁B12345"),
        ("鲁b•12345", "鲁B12345"),
        (" 鲁 B 1234 5 ", "鲁B12345"),
        ("鲁BD12345", "鲁BD12345"),
        ("鲁bd12345", "鲁BD12345"),
        ("鲁BFA1234", "鲁BFA1234"),
        ("鲁B12345D", "鲁B12345D"),
        ("鲁B12345F", "鲁B12345F"),
        ("鲁B1234学", "鲁B1234学"),
        ("粤Z1234港", "粤Z1234港"),
        ("京AZ6X88", "京AZ6X88"),
        ("鲁" + fullwidth("B12345"), "鲁B12345"),
        # The dot as phones and other input methods type it, or a hyphen or stop for it.
        ("鲁B-V5007", "鲁BV5007"),
        ("鲁B－V5007", "鲁BV5007"),
        ("鲁B.V5007", "鲁BV5007"),
        ("鲁B・V5007", "鲁BV5007"),
        ("鲁B。V5007", "鲁BV5007"),
        ("鲁B—V5007", "鲁BV5007"),
    ],
)
def test_valid_plates(value, expected):
    assert normalize_plate(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "鲁I12345",
        "鲁O12345",
        "哈B12345",
        "鲁B1234",
        "鲁B123456",
        "鲁B12I45",
        "鲁B12345A",
        "鲁BI12345",
        "鲁B1234567",
        "鲁B123学4",
        "鲁1B2345",
        "鲁",
    ],
)
def test_invalid_plates(value):
    with pytest.raises(ValidationError):
        normalize_plate(value)


def test_format_plate():
    assert format_plate("鲁b12345") == "鲁B·12345"
    assert format_plate("鲁B·D12345") == "鲁B·D12345"
    assert format_plate("鲁B12345D") == "鲁B·12345D"


PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
PLATE_ALNUM = PLATE_LETTERS + DIGITS

plate_heads = st.tuples(st.sampled_from(PLATE_PROVINCES), st.sampled_from(PLATE_LETTERS))
plate_tails = st.one_of(
    st.text(PLATE_ALNUM, min_size=5, max_size=5),
    st.builds(
        str.__add__,
        st.text(PLATE_ALNUM, min_size=4, max_size=4),
        st.sampled_from("学警挂港澳领试超"),
    ),
    st.builds(
        lambda a, b, c: a + b + c,
        st.sampled_from("DABCEFGHJK"),
        st.sampled_from(PLATE_ALNUM),
        st.text(DIGITS, min_size=4, max_size=4),
    ),
    st.builds(str.__add__, st.text(DIGITS, min_size=5, max_size=5), st.sampled_from("DF")),
)
valid_plates = st.builds(lambda head, tail: "".join(head) + tail, plate_heads, plate_tails)


@given(valid_plates)
def test_generated_plates_round_trip(plate):
    assert normalize_plate(plate) == plate
    assert normalize_plate(plate.lower()) == plate
    assert normalize_plate(format_plate(plate)) == plate


# --- VINs -----------------------------------------------------------------------


def test_known_vins():
    # Hand computation, value*weight summed over positions 1-17:
    # 1M8GDM9AXKP042788 -> 8+28+48+35+16+12+18+10+0+18+56+0+24+10+28+24+16
    #   = 351; 351 % 11 == 10 -> 'X'.
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"
    assert normalize_vin("1M8GDM9AXKP042788") == "1M8GDM9AXKP042788"
    # LSVAM4187C2184847 -> 24+14+30+5+16+12+2+80+0+27+16+7+48+20+32+12+14
    #   = 359; 359 % 11 == 7 -> '7'.
    assert vin_check_digit("LSVAM4187C2184847") == "7"
    assert normalize_vin(" lsvam4187c2184847 ") == "LSVAM4187C2184847"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1M8GDM9AXKP04278",  # 16 chars
        "1M8GDM9AXKP0427888",  # 18 chars
        "1M8GDM9A0KP042788",  # wrong check digit
        "1M8GDM9AXKP04278O",  # letter O
        "IM8GDM9AXKP042788",  # letter I
        "1M8GDM9AXKP04278Q",  # letter Q
        "1M8GDM9AXKP04278-",  # punctuation
    ],
)
def test_invalid_vins(value):
    with pytest.raises(ValidationError):
        normalize_vin(value)


VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_VALUES = dict(
    zip(
        VIN_CHARS,
        [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9, *range(10)],
        strict=True,
    )
)


def with_check_digit(body: str) -> str:
    """Put the computed check digit at position 9 of a 17-char VIN."""
    return body[:8] + vin_check_digit(body) + body[9:]


valid_vins = st.text(VIN_CHARS, min_size=17, max_size=17).map(with_check_digit)


@given(valid_vins)
def test_generated_vins_pass(vin):
    assert normalize_vin(vin) == vin
    assert normalize_vin(vin.lower()) == vin


@given(valid_vins, st.integers(0, 16), st.sampled_from(VIN_CHARS))
def test_vin_single_substitution_is_detected(vin, pos, char):
    assume(VIN_WEIGHTS[pos] != 0)
    assume(VIN_VALUES[char] != VIN_VALUES[vin[pos]])
    with pytest.raises(ValidationError):
        normalize_vin(vin[:pos] + char + vin[pos + 1 :])


@given(valid_vins, st.sampled_from("0123456789X"))
def test_vin_wrong_check_digit_is_detected(vin, char):
    assume(vin[8] != char)
    with pytest.raises(ValidationError):
        normalize_vin(vin[:8] + char + vin[9:])


def test_vin_check_digit_rejects_bad_input():
    for value in ("1M8GDM9AXKP04278", "1M8GDM9AXKP04278O"):
        with pytest.raises(ValidationError):
            vin_check_digit(value)


# --- Mobiles --------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "13812345678",
        "+86 138-1234-5678",
        "86 13812345678",
        "008613812345678",
        "+8613812345678",
        fullwidth("13812345678"),
    ],
)
def test_valid_mobiles(value):
    assert normalize_mobile(value) == "13812345678"


@pytest.mark.parametrize(
    "value",
    ["", "12812345678", "1381234567", "138123456789", "+1 13812345678", "1381234567a"],
)
def test_invalid_mobiles(value):
    with pytest.raises(ValidationError):
        normalize_mobile(value)


@given(st.sampled_from("3456789"), st.text(DIGITS, min_size=9, max_size=9))
def test_generated_mobiles_pass(second, rest):
    number = "1" + second + rest
    assert normalize_mobile(number) == number
    assert normalize_mobile(f"+86 {number[:3]}-{number[3:7]}-{number[7:]}") == number


# --- Masking --------------------------------------------------------------------


def test_mask_id_examples():
    assert mask_id("370203199001011234") == "370203********1234"
    assert mask_id(None) == ""
    assert mask_id("") == ""
    assert mask_id("1234567890") == "**********"
    assert mask_id("12345678901") == "123456*8901"


@given(st.text(min_size=11))
def test_mask_id_keeps_ends_and_hides_middle(value):
    masked = mask_id(value)
    assert len(masked) == len(value)
    assert masked[:6] == value[:6]
    assert masked[-4:] == value[-4:]
    assert set(masked[6:-4]) == {"*"}


@given(st.text(max_size=10))
def test_mask_id_hides_short_values_entirely(value):
    assert mask_id(value) == "*" * len(value)


def test_invoice_dates_between_first_registration_and_today():
    from rules.validators import INVOICE_DATE_FLOOR, check_invoice_date

    today = datetime.date(2025, 6, 1)
    first = datetime.date(2014, 3, 1)
    for fine in (first, today, datetime.date(2020, 1, 1)):
        check_invoice_date(fine, first, today)
    for bad, registered in (
        (datetime.date(2001, 1, 1), first),
        (first - datetime.timedelta(days=1), first),
        (today + datetime.timedelta(days=1), first),
        (today + datetime.timedelta(days=1), None),
        (INVOICE_DATE_FLOOR - datetime.timedelta(days=1), None),  # no first registration known
    ):
        with pytest.raises(ValidationError):
            check_invoice_date(bad, registered, today)
    check_invoice_date(INVOICE_DATE_FLOOR, None, today)


@pytest.mark.parametrize(
    "typed, name",
    [
        ("李娜", "李娜"),
        (" 艾力•买买提 ", "艾力·买买提"),
        ("阿依古丽.买买提", "阿依古丽·买买提"),
        ("ＪＯＨＮ  SMITH", "JOHN SMITH"),
        ("Anne-Marie DUPONT", "Anne-Marie DUPONT"),
    ],
)
def test_a_name_is_kept_as_an_id_card_prints_it(typed, name):
    from rules.validators import normalize_person_name

    assert normalize_person_name(typed) == name


@pytest.mark.parametrize("typed", ["", "  ", "Xie123!", "李娜2", "·李娜", "李", "王" * 31, "李@娜"])
def test_a_name_with_digits_or_signs_is_refused(typed):
    from rules.validators import normalize_person_name

    with pytest.raises(ValidationError):
        normalize_person_name(typed)
