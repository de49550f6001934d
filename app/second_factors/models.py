"""The tables of second factors: an authenticator app and passkeys per account, and recovery codes."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import db
from ..models import UTCDateTime
from ..tokens import new_public_id


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


class Passkey(db.Model):
    """A passkey (WebAuthn credential) of an account; an account may have several.

    Only public material is stored: the credential's id and public key. ``sign_count``
    is the authenticator's counter: one that goes backwards betrays a cloned key
    (most passkeys that sync between devices keep it at 0, which is no signal).
    """

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(22), unique=True, default=new_public_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Base64url of the raw id (at most 1,023 bytes by the WebAuthn spec).
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
