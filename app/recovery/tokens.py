"""The secrets behind emailed links: 256 random bits in the link, only their SHA-256 stored.

Threats: token guessing (2^256 values, and unknown or dead links are rate-limited per
client), a stolen copy of the database (it holds hashes, which open nothing), replay
(``consume`` deletes the row in the same statement that finds it: of two clicks at
once, one wins), and old links (each has an expiry; what else it is bound to is
checked by the module that issued it).
"""

import re

from sqlalchemy import delete, select

from .. import clock
from ..extensions import db
from ..tokens import new_token, sha256_hex
from .models import EmailToken

CONFIRM_ADDRESS = "confirm_address"
UNDO_ADDRESS_CHANGE = "undo_address_change"
RESET_PASSWORD = "reset_password"  # noqa: S105 - a purpose's name, not a password
NOT_ME = "not_me"

# What ``new_token`` makes: 43 URL-safe characters. Anything else is not looked up.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def issue(user_id, purpose, address, lifetime, replace=False, **binding):
    """Store a new token for ``purpose`` and return it, for the link; only its hash stays here.

    ``replace`` deletes the account's earlier tokens of the same purpose first: only the
    newest confirmation link, for instance, confirms anything.
    """
    if replace:
        db.session.execute(delete(EmailToken).where(EmailToken.user_id == user_id, EmailToken.purpose == purpose))
    token = new_token()
    now = clock.utcnow()
    db.session.add(
        EmailToken(
            user_id=user_id,
            purpose=purpose,
            token_hash=sha256_hex(token),
            address=address,
            created_at=now,
            expires_at=now + lifetime,
            **binding,
        )
    )
    db.session.commit()
    return token


def peek(token, purpose):
    """The live row of ``token`` for ``purpose``, or ``None``; the token stays usable."""
    if not isinstance(token, str) or not TOKEN_SHAPE.fullmatch(token):
        return None
    return db.session.scalar(
        select(EmailToken).where(
            EmailToken.token_hash == sha256_hex(token),
            EmailToken.purpose == purpose,
            EmailToken.expires_at > clock.utcnow(),
        )
    )


def consume(token, purpose):
    """Use ``token`` up: its row, deleted (the caller commits), or ``None`` if it was not live."""
    row = peek(token, purpose)
    if row is None:
        return None
    if not db.session.execute(delete(EmailToken).where(EmailToken.id == row.id)).rowcount:
        # Another request used it a moment ago.
        db.session.rollback()
        return None
    return row


def forget(user_id, *purposes):
    """Delete the account's tokens of ``purposes`` (the caller commits)."""
    db.session.execute(delete(EmailToken).where(EmailToken.user_id == user_id, EmailToken.purpose.in_(purposes)))
