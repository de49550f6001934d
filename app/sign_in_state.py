"""What a signed-in request knows without asking the database.

The stored session carries its sign-in under the key ``_sign_in``, so the one read
that loads the session also authorises the request: no SQL on the hot path. The
database stays the durable record (devices page, audit, export, remember-me), and
every way a sign-in ends deletes the session entry too (app/sign_ins.py), which is
why this copy can be trusted for as long as the entry exists.

Shape in the session (msgpack-friendly: numbers, strings, booleans)::

    {"id": 12, "public_id": "<22 chars>", "token_hash": "<64 hex>", "remember": false, "password_version": 0,
     "user_id": 3, "user_public_id": "<22 chars>", "username": "alice",
     "created_at": 1764748800, "last_seen_at": 1764748800, "expires_at": 1764792000,
     "ip_address": "203.0.113.7", "second_factor": "totp"}

Times are whole seconds since the Unix epoch, UTC.
"""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import cached_property

from flask_login import UserMixin

from .extensions import db
from .models import User

SESSION_KEY = "_sign_in"
_TIMES = ("created_at", "last_seen_at", "expires_at")


@dataclass
class SignInState:
    """The columns of a ``SignIn`` row that a request needs, and its user's name and ids."""

    id: int
    public_id: str
    token_hash: str
    remember: bool
    password_version: int
    user_id: int
    user_public_id: str
    username: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip_address: str | None
    # A session stored before this field existed has none: a password sign-in.
    second_factor: str | None = None

    @classmethod
    def of(cls, record, user):
        """The state of the ``SignIn`` row ``record`` of ``user``."""
        return cls(
            id=record.id,
            public_id=record.public_id,
            token_hash=record.token_hash,
            remember=record.remember,
            password_version=record.password_version,
            user_id=user.id,
            user_public_id=user.public_id,
            username=user.username,
            created_at=whole_seconds(record.created_at),
            last_seen_at=whole_seconds(record.last_seen_at),
            expires_at=whole_seconds(record.expires_at),
            ip_address=record.ip_address,
            second_factor=record.second_factor,
        )

    @classmethod
    def from_session(cls, session):
        """The state kept in ``session``, or ``None`` if it holds none (or a malformed one)."""
        stored = session.get(SESSION_KEY)
        if not isinstance(stored, dict):
            return None
        try:
            values = {**stored, **{name: datetime.fromtimestamp(stored[name], UTC) for name in _TIMES}}
            return cls(**values)
        except (KeyError, TypeError, ValueError, OverflowError):
            return None

    def save_to(self, session):
        values = asdict(self)
        values.update({name: int(getattr(self, name).timestamp()) for name in _TIMES})
        session[SESSION_KEY] = values


class SignedInUser(UserMixin):
    """Flask-Login's ``current_user`` for a live sign-in, built from its state alone.

    ``record`` loads the ``User`` row, for the pages that need more than a name:
    re-authentication, the password change, the export. ``get_id()`` is the sign-in's
    random token, which the session and the remember cookie carry.
    """

    def __init__(self, state, token):
        self.sign_in = state
        self.token = token
        self.id = state.user_id
        self.public_id = state.user_public_id
        self.username = state.username
        self.password_version = state.password_version

    def get_id(self):
        return self.token

    @cached_property
    def record(self):
        """The ``User`` row; raises ``SignInChanged`` if the account was deleted meanwhile.

        The random ``public_id`` must match too: SQLite hands a deleted account's
        integer id to the next new one.
        """
        user = db.session.get(User, self.id)
        if user is None or user.public_id != self.public_id:
            raise SignInChanged()
        return user


class SignInChanged(Exception):
    """Another request ended or renewed this sign-in while this one was running.

    Two clicks at once (two tabs, a double submit) both start from the same token;
    the first to write wins, and the second must neither undo it nor report success.
    Answered with a 409 page, and the session is left as the winner wrote it
    (app/errors.py).
    """


def whole_seconds(moment):
    return moment.replace(microsecond=0)
