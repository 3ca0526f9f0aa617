"""Password hashing (scrypt, memory-hard) and the password policy."""

import gzip
import os
from functools import lru_cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from rules.validators import ValidationError

MIN_LENGTH = 8
MAX_LENGTH = 128
_COMMON = os.path.join(os.path.dirname(os.path.dirname(__file__)), "rules", "data")


# The most common passwords (Django's list) and Chinese-style ones (rules/data/README.md).
COMMON_LISTS = ("common-passwords.txt.gz", "common-passwords-cn.txt.gz")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset:
    """The lists of the most common passwords, loaded once per process."""
    words = set()
    for name in COMMON_LISTS:
        with gzip.open(os.path.join(_COMMON, name), "rt") as fh:
            words.update(line.strip() for line in fh if line.strip())
    return frozenset(words)


def check_policy(password: str, *personal: str) -> None:
    """Raise ValidationError when the password is too short, too common or personal data."""
    if len(password) < MIN_LENGTH:
        raise ValidationError(_l("Use at least %(n)d characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise ValidationError(_l("Use at most %(n)d characters.", n=MAX_LENGTH))
    if password.lower() in common_passwords() or len(set(password)) < 3:
        raise ValidationError(_l("This password is too common; choose another."))
    for value in personal:
        if value and value.lower() in password.lower():
            raise ValidationError(
                _l(
                    "The password must not contain the account's own details (ID number, "
                    "mobile or user name)."
                )
            )


def hash_password(password: str) -> str:
    """Hash with the configured KDF (werkzeug's scrypt by default)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(password_hash: str, password: str) -> bool:
    """Constant-time check of a password against its stored hash."""
    return check_password_hash(password_hash, password)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to check against when the account does not exist, so timing tells nothing."""
    return generate_password_hash("not-a-real-password", method="scrypt")
