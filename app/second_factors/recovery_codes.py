"""Recovery codes: ten single-use codes for the day the phone is lost.

Each code is 79 random bits (16 characters from 31), shown once as four groups of four characters
(``k7mq-2xfa-9c3d-wr5t``) and stored only as its SHA-256: with that much randomness a
fast hash is enough, and a copy of the database cannot be turned back into codes.
Using a code deletes its row in the statement that checks it, so of two requests with
the same code only one gets in.
"""

import secrets

from sqlalchemy import delete, func, select

from .. import clock
from ..extensions import db
from ..tokens import sha256_hex
from .models import RecoveryCode

COUNT = 10
# Letters and digits without the ones people mix up (0/o, 1/l/i).
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_LENGTH = 16


def replace_all(user_id):
    """Delete the account's codes and make ten new ones; returns them (the caller commits).

    The ten share one creation time, which names the set (``set_id``).
    """
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [_new_code() for _ in range(COUNT)]
    made_at = clock.utcnow()
    db.session.add_all(
        RecoveryCode(user_id=user_id, code_hash=sha256_hex(_normalise(code)), created_at=made_at) for code in codes
    )
    return codes


def set_id(user_id):
    """The name of the account's current set of codes: when it was made ("none" without codes).

    Using a code leaves it unchanged; making new codes changes it.
    """
    made_at = db.session.scalar(select(func.max(RecoveryCode.created_at)).where(RecoveryCode.user_id == user_id))
    return made_at.isoformat() if made_at else "none"


def use(user_id, typed):
    """True if ``typed`` is one of the account's unused codes, which is then used up."""
    used = db.session.execute(
        delete(RecoveryCode).where(
            RecoveryCode.user_id == user_id, RecoveryCode.code_hash == sha256_hex(_normalise(typed))
        )
    ).rowcount
    return used == 1


def remaining(user_id):
    return db.session.scalar(select(func.count()).where(RecoveryCode.user_id == user_id))


def looks_like_one(typed):
    """True for input shaped like a recovery code (not like a six-digit app code)."""
    return len(_normalise(typed)) == _LENGTH


def _normalise(typed):
    # Spaces, dashes and capitals are how people copy codes; none of them matter.
    return "".join(char for char in typed.lower() if char not in " -")


def _new_code():
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _LENGTH, 4))
