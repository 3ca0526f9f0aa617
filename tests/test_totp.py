"""The TOTP configuration against RFC 6238 and the once-per-step rule's window."""

import hashlib

import pytest

from rules import totp

# RFC 6238 Appendix B: the 20-byte ASCII seed "12345678901234567890", SHA-1, 8 digits.
SEED_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("when", "expected"), VECTORS)
def test_rfc6238_appendix_b_vectors(when, expected):
    generator = totp.totp(SEED_B32, step=30, digits=8, digest=hashlib.sha1)
    assert generator.at(when) == expected
    assert generator.generate_otp(totp.step_at(when, step=30)) == expected


def test_code_accepted_for_its_step_and_the_one_before_only():
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    now = 1_700_000_015.0
    step = totp.step_at(now, step=30)
    g = totp.totp(secret, step=30)
    assert totp.matching_step(secret, g.generate_otp(step), now, step=30) == step
    assert totp.matching_step(secret, g.generate_otp(step - 1), now, step=30) == step - 1
    assert totp.matching_step(secret, g.generate_otp(step - 2), now, step=30) is None
    assert totp.matching_step(secret, g.generate_otp(step + 1), now, step=30) is None
    assert totp.matching_step(secret, "12345", now, step=30) is None
    assert totp.matching_step(secret, "abcdef", now, step=30) is None


def test_provisioning_uri_is_standard():
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "admin", "jiaoguan")
    assert uri.startswith("otpauth://totp/jiaoguan:admin?")
    assert "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in uri and "issuer=jiaoguan" in uri


def test_the_authenticator_step_is_the_apps_30_seconds():
    """Authenticator apps ignore a URI's period: the staff step is theirs, and the URI says
    nothing else (pyotp writes `period=` only for other steps)."""
    assert totp.AUTHENTICATOR_STEP_SECONDS == 30
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "admin", "jiaoguan")
    assert "period=" not in uri
