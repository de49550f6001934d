"""Random tokens and their hashes."""

import hashlib
import secrets


def new_token():
    """256 random bits, URL-safe: a session token nobody can guess."""
    return secrets.token_urlsafe(32)


def new_sign_in_token(series=None):
    """A sign-in's token: ``"<series>.<secret>"``, 22 + 1 + 43 URL-safe characters.

    The series (128 random bits) stays the same while remember-me restores replace the
    secret (app/sign_ins.py ``_restore``), so that a replaced token is still known as
    this sign-in's: the mark of a copied remember cookie. ``series=None`` starts one.
    """
    return f"{series or secrets.token_urlsafe(16)}.{new_token()}"


def series_of(token):
    """The series of a token from ``new_sign_in_token``, or ``None`` for any other string."""
    series, dot, secret = token.partition(".")
    if dot and len(series) == 22 and len(secret) == 43:
        return series
    return None


def new_public_id():
    """128 random bits: a handle that names a record without granting anything."""
    return secrets.token_urlsafe(16)


def sha256_hex(value):
    # Inputs are 256-bit random values, so a fast unsalted hash is enough here.
    return hashlib.sha256(value.encode()).hexdigest()
