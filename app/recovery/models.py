"""The tables of account email: confirmed addresses, and the tokens behind every emailed link."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import db
from ..models import UTCDateTime


class EmailAddress(db.Model):
    """The confirmed address of an account (one at most), unique without regard to case.

    An address is written here only when someone follows the link sent to it. Until
    then it lives in that link's token, so an address typed by mistake, or someone
    else's, never blocks the real owner from using it, and a sign-up form that says
    "taken" cannot be used to learn who has an account.
    """

    __tablename__ = "email_addresses"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(254))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())

    @classmethod
    def of(cls, user_id):
        return db.session.get(cls, user_id)

    @classmethod
    def find(cls, address):
        return db.session.scalar(select(cls).where(func.lower(cls.address) == address.lower()))


Index("uq_email_addresses_address_lower", func.lower(EmailAddress.address), unique=True)


class EmailToken(db.Model):
    """The secret of one emailed link, stored as its SHA-256, with what it is bound to.

    ``purpose`` says what the link does; ``address`` is where it was sent. A reset
    link is also bound to the ``password_version`` it was made for (any password
    change kills it) and works only while ``address`` is still the account's; a
    "this wasn't me" link names its sign-in by ``sign_in_public_id`` and dies with it.
    """

    __tablename__ = "email_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str] = mapped_column(String(254))
    password_version: Mapped[int | None]
    sign_in_public_id: Mapped[str | None] = mapped_column(String(22))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
