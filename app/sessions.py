"""Server-side sessions with Flask-Session: Redis in production, files when embedded.

The browser holds only a random 256-bit session id; everything else stays on the
server, where logout can really delete it. On top of Flask-Session this module adds:

- short-lived anonymous sessions, so a flood of anonymous requests (each login page
  stores a CSRF secret) cannot fill Redis with month-long keys;
- deletion cookies that carry the same Secure/SameSite/HttpOnly flags as the cookie
  they delete (browsers ignore a deletion of a ``__Host-`` cookie without Secure);
- store keys made from the SHA-256 of the session id, so a copy of Redis (or its
  key list) holds no usable session id, while the app, which keeps that hash for
  each sign-in, can still delete a user's sessions from anywhere;
- a store outage that becomes a friendly 503 instead of a hung or crashed request.
"""

import redis
from cachelib.file import FileSystemCache
from flask import abort, current_app, request, session
from flask_session.cachelib import CacheLibSessionInterface
from flask_session.redis import RedisSessionInterface

from . import clock, cookies, redis_connection
from .tokens import sha256_hex

# Pages that work without the session store: a visitor can still read the public
# pages and a load balancer can still ask for health while Redis is down.
ENDPOINTS_WITHOUT_SESSION = {"static", "main.index", "main.privacy", "main.tutorial", "main.healthz"}


class SessionStoreUnavailable(Exception):
    """The session store could not be reached; the request is answered with a 503."""


class _HardenedSessions:
    """Behaviour shared by both backends; mixed in before the Flask-Session class."""

    store_errors = ()

    def _get_store_id(self, sid):
        return self.key_prefix + sha256_hex(sid)

    def delete_by_hash(self, session_hash):
        self._delete_session(self.key_prefix + session_hash)

    def lifetime_for(self, app, session):
        # A signed-in session is kept as long as it may sit idle; activity renews
        # it (at most once a minute, see sign_ins.load_user). Absolute limits are
        # checked against the sign-in record, not here.
        if "_user_id" in session:
            return app.config["IDLE_TIMEOUT"] + app.config["LAST_SEEN_RESOLUTION"]
        return app.config["ANONYMOUS_SESSION_LIFETIME"]

    def get_expiration_time(self, app, session):
        return clock.utcnow() + self.lifetime_for(app, session)

    def _upsert_session(self, session_lifetime, session, store_id):
        super()._upsert_session(self.lifetime_for(self.app, session), session, store_id)

    def open_session(self, app, request):
        try:
            return super().open_session(app, request)
        except self.store_errors:
            app.logger.warning("session store unreachable while opening a session")
            placeholder = self.session_class(sid=self._generate_sid(self.sid_length))
            placeholder.store_unavailable = True
            return placeholder

    def save_session(self, app, session, response):
        if getattr(session, "store_unavailable", False) or getattr(session, "discarded", False):
            return
        bound_flashes(session, app.config["FLASHED_MESSAGES_LIMIT"])
        try:
            if not session and session.modified:
                self._delete_session(self._get_store_id(session.sid))
                cookies.expire(response, app.config["SESSION_COOKIE_NAME"])
                response.vary.add("Cookie")
                return
            super().save_session(app, session, response)
        except self.store_errors as error:
            raise SessionStoreUnavailable() from error


class RedisSessions(_HardenedSessions, RedisSessionInterface):
    store_errors = (redis.exceptions.RedisError,)


class FileSessions(_HardenedSessions, CacheLibSessionInterface):
    store_errors = (OSError,)

    def __init__(self, app, **kwargs):
        super().__init__(app, **kwargs)
        # CacheLibSessionInterface drops the app; the lifetime lookup needs it.
        self.app = app


def init_app(app):
    """Install the session interface that the config asks for."""
    config = app.config
    common = {
        "key_prefix": config["SESSION_KEY_PREFIX"],
        "permanent": config["SESSION_PERMANENT"],
    }
    if config["SESSION_TYPE"] == "redis":
        client = redis_connection.client_from_config(config)
        app.session_interface = RedisSessions(app, client=client, **common)
        app.extensions["redis"] = client
    elif config["SESSION_TYPE"] == "cachelib":
        # threshold=0: never evict; cachelib's default of 500 would sign people out.
        store = FileSystemCache(f"{app.instance_path}/sessions", threshold=0, mode=0o600)
        app.session_interface = FileSessions(app, client=store, **common)
    else:
        raise ValueError(f"unsupported SESSION_TYPE {config['SESSION_TYPE']!r}")
    app.before_request(require_session_store)


def require_session_store():
    """Answer 503 when this page needs the session and the store is down."""
    if getattr(session, "store_unavailable", False) and request.endpoint not in ENDPOINTS_WITHOUT_SESSION:
        abort(503)


def bound_flashes(session, limit):
    """Keep at most ``limit`` flashed messages, each once, the newest last.

    Threat: a session that grows without end. A client that repeats a redirecting
    request without following it (Flask-Login's "please sign in" on every protected
    page) would add one message per request: thousands of copies, a session of
    hundreds of kilobytes, and every request slower.
    """
    flashes = session.get("_flashes")
    if not flashes:
        return
    unique = list(dict.fromkeys(tuple(message) for message in flashes))[-limit:]
    if len(unique) != len(flashes):
        session["_flashes"] = unique


def discard_changes():
    """Leave this request's session unsaved: the store and the cookie stay as they are."""
    session.discarded = True


def regenerate_id():
    """Give the current session a new id and delete the old one from the store.

    Threat: session fixation. An attacker who planted or learnt the id before
    sign-in would otherwise share the signed-in session. The CSRF secret is
    renewed too, since whoever knew the old session knew it as well.
    """
    current_app.session_interface.regenerate(session)
    session.pop("csrf_token", None)


def current_session_hash():
    return sha256_hex(session.sid)


def delete_stored_sessions(session_hashes):
    """Delete sessions from the store by the hashes kept in their sign-in records."""
    for session_hash in session_hashes:
        if session_hash:
            current_app.session_interface.delete_by_hash(session_hash)
