"""Credentials at rest: Fernet keys from REGCRED_ENCRYPTION_KEYS, newest first.

MultiFernet encrypts with the first key and decrypts with any, so a new key can be put in
front, ``manage.py rotate_encryption_keys`` run, and the old key dropped afterwards.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "REGCRED_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes)."
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.REGCRED_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # Say which setting to look at, never what the token or value was.
        raise ImproperlyConfigured(
            "A stored credential cannot be decrypted with any key in REGCRED_ENCRYPTION_KEYS; "
            "was a key removed before rotate_encryption_keys ran?"
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt one stored token with the newest key."""
    return fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text column whose value is stored Fernet-encrypted and read back in plaintext.

    Empty strings are stored as empty strings so "no secret set" stays visible to queries.
    """

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)
