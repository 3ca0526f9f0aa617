"""The e-licence's QR code and typed-code delays (rules/licencecode.py): a fixed test vector,
the shape and strength of the code, and its independence from the typed code."""

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules import licencecode, totp

# The RFC 6238 seed ("12345678901234567890"), as the e-licence stores secrets: base32.
SEED_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
# Computed once for this project, and checked below against an independent derivation:
# HMAC-SHA256(seed, b"jiaoguan/e-licence/qr-code/v1" || 0x00 || step as 8 bytes big-endian),
# its first 100 bits in Crockford base32. Step 1 is t = 30..59 s, step 37037036 is t = 1111111109
# (RFC 6238's own test times).
VECTORS = [
    (0, "XWFYZ64ZTEVEB5BPCBT8"),
    (1, "ARRBCYCA9DQWCPSGW4Q6"),
    (37037036, "NTMX1PSAKCK8RQVX16PF"),
]


@pytest.mark.parametrize(("step", "expected"), VECTORS)
def test_fixed_vectors(step, expected):
    assert licencecode.qr_code(SEED_B32, step) == expected


def independent_qr_code(secret_b32: str, step: int) -> str:
    """The same derivation written another way: RFC 4648 base32 of 15 bytes, re-lettered."""
    key = base64.b32decode(secret_b32)
    mac = hmac.new(key, licencecode.QR_PURPOSE + b"\0" + step.to_bytes(8, "big"), hashlib.sha256)
    rfc4648 = base64.b32encode(mac.digest()[:15]).decode()[:20]
    return rfc4648.translate(
        str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", licencecode.CROCKFORD)
    )


@given(step=st.integers(min_value=0, max_value=2**40))
def test_matches_an_independent_derivation(step):
    assert licencecode.qr_code(SEED_B32, step) == independent_qr_code(SEED_B32, step)


def test_the_code_is_at_least_96_bits_of_crockford_base32():
    code = licencecode.qr_code(SEED_B32, 12345)
    assert len(code) == licencecode.QR_CODE_LENGTH == 20 and licencecode.QR_CODE_BITS >= 96
    assert set(code) <= set(licencecode.CROCKFORD) and not set(code) & set("ILOU")


def test_the_qr_code_is_not_the_typed_codes_mac():
    """Another purpose: the typed code's HMAC (SHA-1 over the bare step) never appears in it."""
    for step in range(50):
        typed = totp.totp(SEED_B32, step=licencecode.CODE_STEP_SECONDS).generate_otp(step)
        assert typed not in licencecode.qr_code(SEED_B32, step)
        sha1 = hmac.new(base64.b32decode(SEED_B32), step.to_bytes(8, "big"), hashlib.sha1)
        assert licencecode.crockford(sha1.digest(), 20) != licencecode.qr_code(SEED_B32, step)


def test_own_step_and_the_one_before_only():
    now = 1000
    assert licencecode.matching_qr_step(SEED_B32, licencecode.qr_code(SEED_B32, 1000), now) == 1000
    assert licencecode.matching_qr_step(SEED_B32, licencecode.qr_code(SEED_B32, 999), now) == 999
    assert licencecode.matching_qr_step(SEED_B32, licencecode.qr_code(SEED_B32, 998), now) is None
    assert licencecode.matching_qr_step(SEED_B32, licencecode.qr_code(SEED_B32, 1001), now) is None
    older = licencecode.qr_code(SEED_B32, 990)
    assert licencecode.matching_qr_step(SEED_B32, older, now, back=20) == 990


def test_case_hyphens_and_look_alikes_are_forgiven():
    code = licencecode.qr_code(SEED_B32, 7)
    sloppy = "-".join((code[:10].lower(), code[10:])).replace("0", "O").replace("1", "l")
    assert licencecode.matching_qr_step(SEED_B32, sloppy, 7) == 7


@pytest.mark.parametrize("code", ["", None, "123456", "A" * 19, "A" * 21, "U" * 20, "!" * 20])
def test_malformed_codes_match_nothing(code):
    assert licencecode.matching_qr_step(SEED_B32, code, 7) is None


def test_old_format_is_six_digits():
    assert licencecode.is_old_format("123456") and licencecode.is_old_format(" 123 456 ")
    assert not licencecode.is_old_format("12345") and not licencecode.is_old_format("A23456")
    assert not licencecode.is_old_format(licencecode.qr_code(SEED_B32, 1))


def test_typed_delays_start_free_then_double_to_a_ceiling():
    delays = [licencecode.typed_delay(n) for n in range(1, 14)]
    assert delays[:3] == [0, 0, 0]
    assert delays[3:8] == [5, 10, 20, 40, 80]
    assert max(delays) == licencecode.TYPED_MAX_DELAY == delays[-1]
    # One client gets about ten tries in ten minutes: far below the per-key ceiling.
    waited, tries = 0, 0
    while waited <= 600:
        tries += 1
        waited += licencecode.typed_delay(tries)
    assert tries <= 11


@pytest.mark.parametrize(
    ("addr", "network"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2::5", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("", ""),
        ("cli", "cli"),
    ],
)
def test_client_network(addr, network):
    assert licencecode.client_network(addr) == network
