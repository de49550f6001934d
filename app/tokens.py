"""Random tokens and their hashes."""

import hashlib
import secrets


def new_token():
    """256 random bits, URL-safe: a session token nobody can guess."""
    return secrets.token_urlsafe(32)


def new_public_id():
    """128 random bits: a handle that names a record without granting anything."""
    return secrets.token_urlsafe(16)


def sha256_hex(value):
    # Inputs are 256-bit random values, so a fast unsalted hash is enough here.
    return hashlib.sha256(value.encode()).hexdigest()
