"""Database models: the accounts, and one row per live sign-in."""

import hashlib
import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import DateTime, TypeDecorator

from .clock import utcnow
from .extensions import db


class UTCDateTime(TypeDecorator):
    """Stores naive UTC (SQLite keeps no zone) and always hands back aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


class User(UserMixin, db.Model):
    """An account. The password is only ever stored as an argon2id hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sign_ins: Mapped[list["SignIn"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    # Set by the user loader: the sign-in this request is authenticated by.
    current_sign_in = None
    current_token = None

    def get_id(self):
        """Flask-Login stores this in the session and the remember cookie.

        It is the random token of this sign-in, not the user id: deleting the
        sign-in row revokes the session and any remember cookie made from it.
        """
        return self.current_token

    @classmethod
    def find_by_username(cls, username):
        return db.session.scalar(select(cls).where(func.lower(cls.username) == username.lower()))


# "Alice" and "alice" are the same account: unique without regard to case.
Index("uq_users_username_lower", func.lower(User.username), unique=True)


class SignIn(db.Model):
    """One successful sign-in, alive until sign-out, expiry or revocation.

    The token itself is never stored: only its SHA-256, so a copy of the
    database cannot be replayed as a session or a remember-me cookie.
    """

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="sign_ins")

    @staticmethod
    def new_token():
        return secrets.token_urlsafe(32)

    @staticmethod
    def hash_token(token):
        # The token has 256 random bits, so a fast unsalted hash is enough here.
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def find_by_token(cls, token):
        return db.session.scalar(select(cls).where(cls.token_hash == cls.hash_token(token)))
