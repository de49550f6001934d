"""Encryption of the authenticator secrets at rest, with keys derived from ``SECRET_KEY``.

Threat: a copy of the database (a backup, a dump, a read-only SQL injection). An
authenticator's secret is all it takes to make its codes, so it is stored encrypted
(Fernet: AES-128-CBC with HMAC-SHA256) under a key that lives only in the app's
config. The key is derived from ``SECRET_KEY`` with HKDF under a label of its own, so
it is never the key that signs cookies; ``SECRET_KEY_FALLBACKS`` still decrypt after a
rotation, and ``reencrypt`` moves a secret to the newest key when it is next used.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_LABEL = b"flask-secure-sessions authenticator secret v1"


class UndecryptableSecret(Exception):
    """Encrypted under a key the config no longer holds (or altered)."""


def encrypt(secret):
    return _box().encrypt(secret.encode()).decode()


def decrypt(encrypted):
    try:
        return _box().decrypt(encrypted.encode()).decode()
    except InvalidToken as error:
        raise UndecryptableSecret() from error


def needs_reencryption(encrypted):
    """True when ``encrypted`` was made with a key older than the current one."""
    try:
        _fernet(current_app.config["SECRET_KEY"]).decrypt(encrypted.encode())
    except InvalidToken:
        return True
    return False


def _box():
    config = current_app.config
    keys = [config["SECRET_KEY"], *(config.get("SECRET_KEY_FALLBACKS") or ())]
    return MultiFernet([_fernet(key) for key in keys])


def _fernet(secret_key):
    material = secret_key.encode() if isinstance(secret_key, str) else secret_key
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))
