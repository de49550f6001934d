"""The tables of second factors: an authenticator app per account, and its recovery codes."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import db
from ..models import UTCDateTime


class Authenticator(db.Model):
    """The authenticator app (TOTP, RFC 6238) of an account: one at most.

    ``encrypted_secret`` is the shared secret encrypted with a key derived from
    ``SECRET_KEY`` (secret_box.py): a copy of the database alone yields no codes.
    ``last_used_step`` is the 30-second time step of the newest code accepted; a code
    of that step or an older one is refused, so each code works once.
    """

    __tablename__ = "authenticators"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    encrypted_secret: Mapped[str] = mapped_column(String(255))
    last_used_step: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())


class RecoveryCode(db.Model):
    """One unused recovery code, stored as the SHA-256 of its 79 random bits."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())
