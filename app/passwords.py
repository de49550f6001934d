"""Password hashing with argon2id.

Threats: a stolen database (stops offline guessing at scale: argon2id is slow and
memory-hard, with a salt per hash) and user enumeration by timing (an unknown
username costs the same hash as a wrong password, see ``verify_dummy``).
"""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def init_app(app):
    app.extensions["password_hasher"] = PasswordHasher(
        time_cost=app.config["PASSWORD_HASH_TIME_COST"],
        memory_cost=app.config["PASSWORD_HASH_MEMORY_COST"],
        parallelism=app.config["PASSWORD_HASH_PARALLELISM"],
    )


def _hasher():
    return current_app.extensions["password_hasher"]


def hash_password(password):
    return _hasher().hash(password)


def verify_password(password_hash, password):
    """True when ``password`` matches; never raises on a wrong or damaged hash."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash):
    """True when the hash was made with other parameters than the current ones."""
    return _hasher().check_needs_rehash(password_hash)


def verify_dummy(password):
    """Spend the time of a real verification when the username does not exist.

    Without it an unknown username answers in microseconds and a known one in tens
    of milliseconds, which tells an attacker which accounts exist.
    """
    extension = current_app.extensions
    if "password_dummy_hash" not in extension:
        extension["password_dummy_hash"] = _hasher().hash("not a password of anyone")
    verify_password(extension["password_dummy_hash"], password)
