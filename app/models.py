"""Database models: the accounts, and one row per live sign-in."""

from datetime import UTC, datetime

from sqlalchemy import ForeignKey, Index, String, func, or_, select
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship
from sqlalchemy.types import DateTime, TypeDecorator

from . import clock
from .extensions import db
from .tokens import new_public_id, series_of, sha256_hex


class UTCDateTime(TypeDecorator):
    """Stores naive UTC (SQLite keeps no zone) and always hands back aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


class User(db.Model):
    """An account. The password is only ever stored as an argon2id hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What binds to the account outside the database (device cookies, limiter keys):
    # random, so never handed to another account, as a recycled integer id can be.
    public_id: Mapped[str] = mapped_column(String(22), unique=True, default=new_public_id)
    username: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Goes up with every password change; a sign-in made with an older password is dead.
    password_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # A lambda, so a test that replaces clock.utcnow moves this default too.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())

    sign_ins: Mapped[list["SignIn"]] = relationship(back_populates="user", cascade="all, delete-orphan")
    events: Mapped[list["SecurityEvent"]] = relationship(cascade="all, delete-orphan")

    @classmethod
    def find_by_username(cls, username):
        return db.session.scalar(select(cls).where(func.lower(cls.username) == username.lower()))


# "Alice" and "alice" are the same account: unique without regard to case.
Index("uq_users_username_lower", func.lower(User.username), unique=True)


class SignIn(db.Model):
    """One successful sign-in (a "device"), alive until sign-out, expiry or revocation.

    Secrets are never stored: only the SHA-256 of the token (which the session and
    the remember cookie carry) and of the session id, so a copy of the database
    cannot be replayed as a session or a remember-me cookie. ``public_id`` is the
    handle shown on the devices page; it grants nothing.
    """

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(22), unique=True, default=new_public_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Hash of the series part of the token, which remember-me restores keep; the token
    # the last restore replaced, and when (app/sign_ins.py ``_restore``). A token of
    # this series that is neither current nor that one within a short grace means a
    # copy of the remember cookie.
    series_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # Indexed: a token from before series existed is found by it (``find_by_token``).
    previous_token_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    token_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Hash of the current session id: what the session store's key is made of.
    session_hash: Mapped[str | None] = mapped_column(String(64))
    remember: Mapped[bool] = mapped_column(default=False)
    # The user's password_version whose password this sign-in was checked against.
    password_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    client: Mapped[str | None] = mapped_column(String(80))
    # The second factor that completed this sign-in ("totp", "recovery_code"), or None
    # for a password alone; a remember cookie restores a sign-in without one only
    # while the account has no second factor (app/sign_ins.py ``_restore``).
    second_factor: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="sign_ins")

    @classmethod
    def find_by_token(cls, token):
        """The sign-in whose token, current or replaced, is ``token``, with its user, or ``None``.

        A replaced token is found by its series (app/tokens.py ``new_sign_in_token``); one
        from before series existed, by the restore that replaced it.
        """
        token_hash = sha256_hex(token)
        series = series_of(token)
        if series is not None:
            match = or_(cls.token_hash == token_hash, cls.series_hash == sha256_hex(series))
        else:
            match = or_(cls.token_hash == token_hash, cls.previous_token_hash == token_hash)
        return db.session.scalar(select(cls).options(joinedload(cls.user)).where(match))


class EndedSignIn(db.Model):
    """What is kept of an ended sign-in whose remember token a restore had replaced.

    Threat: a thief restores from a copied remember cookie, then signs out, so that the
    owner's old token later finds no sign-in and passes as any stale cookie. This row
    keeps the series and the token current at the end, until the sign-in would have
    expired: a token of the series that is not that one is a copy after all, and the
    owner is told (app/sign_ins.py ``_restore``). Hashes only, like ``SignIn``.
    """

    __tablename__ = "ended_sign_ins"

    series_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    previous_token_hash: Mapped[str | None] = mapped_column(String(64))
    token_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SecurityEvent(db.Model):
    """A security event that belongs to an account, for its owner's activity page."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=lambda: clock.utcnow(), index=True)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    client: Mapped[str | None] = mapped_column(String(80))
