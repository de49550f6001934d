"""The half-signed-in state: the password was right, the second factor is still due.

It grants nothing. The browser is still a visitor (no sign-in, no stored session),
so every page but the second-factor step answers as for a visitor. The state lives
in the session store under a random id that only this browser's signed visitor
cookie holds, and:

- it is created only after the password was right: a visitor costs the store nothing;
- it lasts ``SECOND_FACTOR_PENDING_LIFETIME`` (5 minutes), checked against the app's
  clock, with the store's own expiry behind it;
- it counts wrong codes on the server (``HINCRBY`` in Redis), and ends at
  ``SECOND_FACTOR_MAX_ATTEMPTS`` (5). Threat: a replayed visitor cookie. A counter in
  the cookie could be reset by sending an older copy; this one cannot;
- it is used up by the request that completes it (one ``DEL`` wins), so two tabs
  cannot turn one password check into two sign-ins.
"""

import secrets
from dataclasses import dataclass

from flask import current_app, session

from .. import clock
from ..tokens import sha256_hex

SESSION_KEY = "_second_factor_pending"
_KEY_PREFIX = "second-factor:"

_CREATE = """
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return redis.call('EXPIRE', KEYS[1], ARGV[1])
"""

# Counts a wrong code only while the state exists: HINCRBY alone would bring an
# expired state back, without an expiry.
_COUNT_FAILURE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HINCRBY', KEYS[1], 'failures', 1)
"""


@dataclass
class Pending:
    """Who typed the right password, and what the sign-in is to be once the factor is in."""

    user_id: int
    password_version: int
    remember: bool
    next_path: str
    expires_at: int
    failures: int = 0

    @property
    def expired(self):
        return clock.utcnow().timestamp() >= self.expires_at


def begin(user, remember, password_version, next_path):
    """Start the state for ``user`` in this browser, replacing one it had."""
    discard()
    pending_id = secrets.token_urlsafe(32)
    lifetime = current_app.config["SECOND_FACTOR_PENDING_LIFETIME"]
    state = Pending(
        user_id=user.id,
        password_version=password_version,
        remember=remember,
        next_path=next_path or "",
        expires_at=int((clock.utcnow() + lifetime).timestamp()),
    )
    _store().create(_key(pending_id), state, lifetime)
    session[SESSION_KEY] = pending_id
    return state


def current():
    """This browser's state, or ``None`` (none, expired, or ended by wrong codes)."""
    pending_id = session.get(SESSION_KEY)
    if not isinstance(pending_id, str):
        return None
    state = _store().read(_key(pending_id))
    if state is None or state.expired:
        discard()
        return None
    return state


def count_failure():
    """Count one wrong code; returns how many wrong codes are left (0: the state has ended)."""
    pending_id = session.get(SESSION_KEY)
    failures = _store().count_failure(_key(pending_id)) if isinstance(pending_id, str) else -1
    left = current_app.config["SECOND_FACTOR_MAX_ATTEMPTS"] - failures
    if failures < 0 or left <= 0:
        discard()
        return 0
    return left


def take():
    """Use the state up; True for the one request that does."""
    pending_id = session.pop(SESSION_KEY, None)
    return isinstance(pending_id, str) and _store().delete(_key(pending_id))


def discard():
    pending_id = session.pop(SESSION_KEY, None)
    if isinstance(pending_id, str):
        _store().delete(_key(pending_id))


def _key(pending_id):
    # The hash, as for sessions: a copy of the store's keys names no usable id.
    return _KEY_PREFIX + sha256_hex(pending_id)


def _store():
    client = current_app.extensions.get("redis")
    if client is not None:
        return _RedisStore(client)
    return _EmbeddedStore(current_app.session_interface.cache)


class _RedisStore:
    def __init__(self, client):
        self.client = client

    def create(self, key, state, lifetime):
        values = {**vars(state), "remember": int(state.remember)}
        fields = [item for pair in values.items() for item in pair]
        # One script, one key: the state never exists without its expiry, and a Redis
        # Cluster runs it on the key's own node.
        self.client.eval(_CREATE, 1, key, int(lifetime.total_seconds()), *fields)

    def read(self, key):
        values = self.client.hgetall(key)
        if not values:
            return None
        values = {name.decode(): value.decode() for name, value in values.items()}
        return Pending(
            user_id=int(values["user_id"]),
            password_version=int(values["password_version"]),
            remember=values["remember"] == "1",
            next_path=values["next_path"],
            expires_at=int(values["expires_at"]),
            failures=int(values["failures"]),
        )

    def count_failure(self, key):
        return int(self.client.eval(_COUNT_FAILURE, 1, key))

    def delete(self, key):
        return self.client.delete(key) == 1


class _EmbeddedStore:
    """Files, for ``make run``: one process, so a read and a write in a row are enough."""

    def __init__(self, cache):
        self.cache = cache

    def create(self, key, state, lifetime):
        self.cache.set(key, vars(state), timeout=int(lifetime.total_seconds()))

    def read(self, key):
        values = self.cache.get(key)
        return Pending(**values) if values else None

    def count_failure(self, key):
        values = self.cache.get(key)
        if not values:
            return -1
        values["failures"] += 1
        self.cache.set(key, values, timeout=max(1, int(values["expires_at"] - clock.utcnow().timestamp())))
        return values["failures"]

    def delete(self, key):
        return bool(self.cache.delete(key)) if self.cache.has(key) else False
