"""Encryption at rest for OAuth tokens: MultiFernet over `CCADMIN_FERNET_KEYS`.

The first key encrypts; every key decrypts, so a new key is put first, then
`manage.py rotate_token_keys` re-encrypts every token under it, then the old
key is removed. The keys are separate from SECRET_KEY so rotating one does not
rotate the other.

Each ciphertext is bound to its purpose (`context`, e.g. the workspace and
which token): Fernet has no associated data, so the context is sealed inside
and checked on the way out, and a ciphertext copied into another row or column
doesn't decrypt there.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from apps.constantcontact import conf


class TokenDecryptionError(Exception):
    """The stored value can't be read with the configured keys (or was moved)."""


def _keyring() -> MultiFernet:
    keys = conf.fernet_keys()
    if not keys:
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                "Set CCADMIN_FERNET_KEYS (comma-separated Fernet keys, newest first) to store "
                "Constant Contact tokens. Make one with: python -c \"from cryptography.fernet "
                'import Fernet; print(Fernet.generate_key().decode())"'
            )
        # Development only: a key derived from SECRET_KEY so the embedded setup works
        # with no configuration. Production refuses this (above): there the token key
        # must be its own secret, rotatable without touching SECRET_KEY.
        digest = hashlib.sha256(b"ccadmin-dev-fernet:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "CCADMIN_FERNET_KEYS holds a value that is not a Fernet key."
        ) from exc


def seal(value: str, *, context: str) -> str:
    if not value:
        return ""
    return _keyring().encrypt(f"{context}\n{value}".encode()).decode()


def unseal(ciphertext: str, *, context: str) -> str:
    if not ciphertext:
        return ""
    try:
        plain = _keyring().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenDecryptionError("A stored token can't be decrypted with the current keys.")
    found, _, value = plain.partition("\n")
    if found != context:
        raise TokenDecryptionError("A stored token belongs to another record.")
    return value


def rotate(ciphertext: str) -> str:
    """Re-encrypt under the first key (the plaintext, context included, is unchanged)."""
    if not ciphertext:
        return ""
    try:
        return _keyring().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenDecryptionError("A stored token can't be decrypted with the current keys.")
