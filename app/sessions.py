"""Sessions: a signed cookie for visitors, a server-side session from sign-in on.

A visitor costs the session store nothing. The little a visitor's session holds (the
CSRF secret of the sign-in form, a flashed message) travels in a signed ``__Host-``
cookie, made by Flask's own cookie sessions with ``SECRET_KEY`` and its fallbacks.
Threat: session flooding. A client that fetches the sign-in form in a loop creates
no entry in the store, however fast it goes.

From sign-in on, the session lives on the server with Flask-Session (Redis in
production, files when embedded), and the browser holds only a random 256-bit id.
On top of Flask-Session this module adds:

- a stored session always carries its sign-in (app/sign_in_state.py), so a
  signed-in request is authorised by the one read that loads its session;
- a stored session is written again only while it still exists (``SET ... XX``):
  a request in flight cannot bring back a session that a sign-out or a revocation
  deleted; new ids are created on purpose, before the database records them;
- store keys made from the SHA-256 of the session id, so a copy of Redis (or its
  key list) holds no usable session id, while the app, which keeps that hash for
  each sign-in, can still delete a user's sessions from anywhere;
- deletion cookies that carry the same Secure/SameSite/HttpOnly flags as the cookie
  they delete (browsers ignore a deletion of a ``__Host-`` cookie without Secure);
- a store outage that becomes a friendly 503 instead of a hung or crashed request;
- a session id replaced a moment ago is answered with the 409 "changed at the same
  moment" page, cookies left alone (``refuse_moved_session``).
"""

import warnings

from cachelib.file import FileSystemCache
from flask import abort, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_session.base import ServerSideSession
from flask_session.cachelib import CacheLibSessionInterface
from flask_session.redis import RedisSessionInterface
from itsdangerous import BadSignature

from . import cookies, redis_connection
from .tokens import sha256_hex

# Pages that work without the session store: a visitor can still read the public
# pages and a load balancer can still ask for health while Redis is down.
ENDPOINTS_WITHOUT_SESSION = {"static", "main.index", "main.privacy", "main.tutorial", "main.healthz"}

# What only a stored session may hold: Flask-Login's keys and the sign-in state.
SIGNED_IN_KEYS = ("_user_id", "_fresh", "_id", "_remember", "_remember_seconds", "_sign_in")


class SessionStoreUnavailable(Exception):
    """The session store could not be reached; the request is answered with a 503."""


class Session(ServerSideSession):
    """A visitor's session (``sid`` is ``None``, kept in a signed cookie) or a stored one."""

    def __init__(self, initial=None, sid=None, permanent=None):
        super().__init__(initial, sid=sid, permanent=permanent)
        # Cookies the request came with that this response must delete.
        self.stale_cookies = set()

    @property
    def stored(self):
        return self.sid is not None


class VisitorCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, used only to sign and read the visitor cookie.

    Its own salt keeps a visitor cookie from being accepted as anything else the
    secret key signs. Signed, not encrypted: it holds nothing the visitor may not see.
    """

    salt = "visitor-session"


class _HardenedSessions:
    """Behaviour shared by both backends; mixed in before the Flask-Session class."""

    session_class = Session
    store_errors = ()

    def _get_store_id(self, sid):
        return self.key_prefix + sha256_hex(sid)

    def delete_by_hash(self, session_hash):
        self._delete_session(self.key_prefix + session_hash)

    def lifetime(self, app):
        # Kept as long as it may sit idle; activity renews it at most once a minute
        # (sign_ins.load_user). Absolute limits live in the sign-in state itself.
        return app.config["IDLE_TIMEOUT"] + app.config["LAST_SEEN_RESOLUTION"]

    def open_session(self, app, request):
        visitor = self._open_visitor_session(app, request)
        sid = request.cookies.get(app.config["SESSION_COOKIE_NAME"])
        if not sid:
            return visitor
        try:
            data = self._retrieve_session_data(self._get_store_id(sid))
            moved_away = not data and self._moved_recently(sid)
        except self.store_errors:
            app.logger.warning("session store unreachable while opening a session")
            visitor.store_unavailable = True
            return visitor
        if moved_away:
            visitor.moved_away = True
            return visitor
        if not data or "_sign_in" not in data:
            # Ended, expired or never ours: this browser is a visitor again.
            visitor.stale_cookies.add(app.config["SESSION_COOKIE_NAME"])
            return visitor
        stored = self.session_class(data, sid=sid)
        stored.stale_cookies = visitor.stale_cookies
        if app.config["VISITOR_COOKIE_NAME"] in request.cookies:
            stored.stale_cookies.add(app.config["VISITOR_COOKIE_NAME"])
        return stored

    def _open_visitor_session(self, app, request):
        visitor = self.session_class(permanent=self.permanent)
        value = request.cookies.get(app.config["VISITOR_COOKIE_NAME"])
        if not value:
            return visitor
        serializer = self.visitor_cookies.get_signing_serializer(app)
        max_age = int(app.config["ANONYMOUS_SESSION_LIFETIME"].total_seconds())
        try:
            data = serializer.loads(value, max_age=max_age)
        except BadSignature:
            # Forged, tampered with or too old: start afresh and drop the cookie.
            visitor.stale_cookies.add(app.config["VISITOR_COOKIE_NAME"])
            return visitor
        if isinstance(data, dict):
            visitor.update({key: item for key, item in data.items() if key not in SIGNED_IN_KEYS})
            visitor.modified = False
        return visitor

    def save_session(self, app, session, response):
        if getattr(session, "discarded", False):
            # Cookies stay as they are, but the page still depends on them.
            response.vary.add("Cookie")
            return
        if getattr(session, "store_unavailable", False):
            return
        bound_flashes(session, app.config["FLASHED_MESSAGES_LIMIT"])
        for name in session.stale_cookies:
            cookies.expire(response, name, **cookies.session_flags(app.config))
        if session.accessed or session.stale_cookies:
            response.vary.add("Cookie")
        try:
            if session.stored:
                self._save_stored_session(app, session, response)
            else:
                self._save_visitor_session(app, session, response)
        except self.store_errors as error:
            raise SessionStoreUnavailable() from error

    def _save_visitor_session(self, app, session, response):
        name = app.config["VISITOR_COOKIE_NAME"]
        if not session.modified:
            return
        data = {key: item for key, item in session.items() if key not in SIGNED_IN_KEYS}
        if not session:
            if name in request.cookies:
                cookies.expire(response, name, **cookies.session_flags(app.config))
            return
        value = self.visitor_cookies.get_signing_serializer(app).dumps(data)
        lifetime = app.config["ANONYMOUS_SESSION_LIFETIME"]
        cookies.set_cookie(response, name, value, lifetime, **cookies.session_flags(app.config))

    def _save_stored_session(self, app, session, response):
        name = app.config["SESSION_COOKIE_NAME"]
        if not session:
            if session.modified:
                # Signed out: the entry goes, and so does the cookie.
                self._delete_session(self._get_store_id(session.sid))
                cookies.expire(response, name, **cookies.session_flags(app.config))
            return
        if not session.modified:
            return
        # Only over an entry that still exists: never a session ended meanwhile.
        if not self._rewrite(self._get_store_id(session.sid), session, self.lifetime(app)):
            # Ended or moved to a new id by another request since this one read it. The
            # browser may hold the new id already, from that request's answer: sending
            # this dead one back could overwrite it and sign the user out.
            return
        cookies.set_cookie(response, name, session.sid, self.lifetime(app), **cookies.session_flags(app.config))

    def store_new_id(self, session):
        """Give ``session`` a new id and create its entry; return the old id or ``None``.

        The entry exists before the database names it, so that a sign-out racing this
        request deletes it, and this request's own final save cannot create it again.
        """
        old_sid = session.sid
        if old_sid is None and current_app.config["VISITOR_COOKIE_NAME"] in request.cookies:
            # A visitor signing in: the visitor's cookie has served its purpose.
            session.stale_cookies.add(current_app.config["VISITOR_COOKIE_NAME"])
        session.sid = self._generate_sid(self.sid_length)
        session.modified = True
        try:
            self._create(self._get_store_id(session.sid), session, self.lifetime(current_app))
        except self.store_errors as error:
            raise SessionStoreUnavailable() from error
        return old_sid

    def delete(self, sid):
        try:
            self._delete_session(self._get_store_id(sid))
        except self.store_errors as error:
            raise SessionStoreUnavailable() from error

    def mark_moved(self, sid, lifetime):
        """Remember for ``lifetime`` (a timedelta) that ``sid`` was replaced by a new id."""
        try:
            self._mark(self._moved_key(sid), lifetime)
        except self.store_errors as error:
            raise SessionStoreUnavailable() from error

    def _moved_recently(self, sid):
        return self._marked(self._moved_key(sid))

    def _moved_key(self, sid):
        return f"{self.key_prefix}moved:{sha256_hex(sid)}"


class RedisSessions(_HardenedSessions, RedisSessionInterface):
    store_errors = redis_connection.ERRORS

    def __init__(self, app, client, **kwargs):
        with warnings.catch_warnings():
            # Flask-Session warns that it swaps anything but a plain redis.Redis for a
            # client on localhost; a RedisCluster serves the same commands, and the
            # line below puts it back, so the warning would only mislead.
            warnings.filterwarnings("ignore", "No valid Redis instance provided", RuntimeWarning)
            super().__init__(app, client=client, **kwargs)
        self.client = client
        self.visitor_cookies = VisitorCookies()

    def _create(self, store_id, session, lifetime):
        self.client.set(store_id, self.serializer.encode(session), ex=lifetime, nx=True)

    def _rewrite(self, store_id, session, lifetime):
        """Write ``session`` over its entry if the entry still exists; True if it did."""
        return bool(self.client.set(store_id, self.serializer.encode(session), ex=lifetime, xx=True))

    def _mark(self, key, lifetime):
        self.client.set(key, 1, ex=lifetime)

    def _marked(self, key):
        return bool(self.client.exists(key))

    def ping(self):
        redis_connection.ping(self.client)


class FileSessions(_HardenedSessions, CacheLibSessionInterface):
    store_errors = (OSError,)

    def ping(self):
        """Files are always there for the one process that uses them."""

    def __init__(self, app, **kwargs):
        super().__init__(app, **kwargs)
        self.visitor_cookies = VisitorCookies()

    def _create(self, store_id, session, lifetime):
        self.cache.add(store_id, dict(session), timeout=int(lifetime.total_seconds()))

    def _rewrite(self, store_id, session, lifetime):
        # The embedded store serves one process (`make run`): checking first is
        # enough there, where Redis needs the single SET ... XX.
        if not self.cache.has(store_id):
            return False
        return bool(self.cache.set(store_id, dict(session), timeout=int(lifetime.total_seconds())))

    def _mark(self, key, lifetime):
        self.cache.set(key, 1, timeout=int(lifetime.total_seconds()))

    def _marked(self, key):
        return self.cache.has(key)


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
    app.before_request(refuse_moved_session)


def require_session_store():
    """Answer 503 when this page needs the session and the store is down."""
    if getattr(session, "store_unavailable", False) and request.endpoint not in ENDPOINTS_WITHOUT_SESSION:
        abort(503)


def refuse_moved_session():
    """Answer 409, cookies untouched, to a session id that was replaced a moment ago.

    Threat to the user, not by an attacker: a double click on a form that gives the
    session a new id (re-authentication, password change, a new second factor). The
    second submit leaves with the old id before the first answer arrives; treated as
    signed out, its answer deleted the session cookie, and with it the new id the
    first answer had just set: the user was signed out by their own click. Public
    pages still render, as for a visitor. A copy of the old id gets no more than this
    page either: it names no session.
    """
    if getattr(session, "moved_away", False) and request.endpoint not in ENDPOINTS_WITHOUT_SESSION:
        raise SessionMoved()


class SessionMoved(Exception):
    """This request's session id was replaced a moment ago; answered like ``SignInChanged``."""


def bound_flashes(session, limit):
    """Keep at most ``limit`` flashed messages, each once, the newest last.

    Threat: a session that grows without end. A client that repeats a redirecting
    request without following it (Flask-Login's "please sign in" on every protected
    page) would add one message per request: thousands of copies, a cookie or a
    session of hundreds of kilobytes, and every request slower.
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


def move_to_new_id():
    """Give the session a new id with an entry in the store; return the old id or ``None``.

    Threat: session fixation. An attacker who planted or learnt the id before
    sign-in would otherwise share the signed-in session. A visitor's session moves
    into the store here; its CSRF secret is renewed too, since whoever knew the
    old session knew it as well. The caller records the new id's hash, then calls
    ``forget_old_id``; if that record fails, ``abandon_new_id``.
    """
    session.pop("csrf_token", None)
    return current_app.session_interface.store_new_id(session)


def forget_old_id(old_sid):
    """Delete the entry of the id the session had before ``move_to_new_id``.

    The old id is marked as moved for ``MOVED_SESSION_GRACE`` (``refuse_moved_session``).
    A visitor has no old id, so a sign-in leaves no mark that an id planted before it
    could use (session fixation).
    """
    if old_sid is not None:
        interface = current_app.session_interface
        interface.delete(old_sid)
        interface.mark_moved(old_sid, current_app.config["MOVED_SESSION_GRACE"])


def abandon_new_id(old_sid):
    """Undo ``move_to_new_id`` after the database refused to record the new id."""
    current_app.session_interface.delete(session.sid)
    session.sid = old_sid


def ensure_store_reachable():
    """Raise ``SessionStoreUnavailable`` (a 503) unless the session store answers.

    Threat: a password oracle during an outage. Checked before a password is, at
    sign-in: otherwise the right password would get a 503 (the sign-in cannot be
    kept) and a wrong one a 401, while the rate limiter counts only per process
    (its in-memory fallback).
    """
    interface = current_app.session_interface
    try:
        interface.ping()
    except interface.store_errors as error:
        raise SessionStoreUnavailable() from error


def mark_used_once(key, lifetime):
    """True for the one request that marks ``key`` in the session store, of any number at once.

    For what a session copy or two requests at once could use twice (a passkey
    challenge, a one-time form). ``lifetime`` (a timedelta): how long the mark stays.
    """
    client = current_app.extensions.get("redis")
    if client is not None:
        return bool(client.set(key, 1, nx=True, ex=lifetime))
    return current_app.session_interface.cache.add(key, 1, timeout=int(lifetime.total_seconds()))


def current_session_hash():
    return sha256_hex(session.sid)


def end_stored_session():
    """Make this request's session a visitor's again, deleting its stored entry.

    For a sign-in found dead on arrival (timed out): nothing of it stays in the store
    or the browser, and the rest of the request runs as for a visitor.
    """
    if session.stored:
        current_app.session_interface.delete(session.sid)
        session.stale_cookies.add(current_app.config["SESSION_COOKIE_NAME"])
        session.sid = None
    session.clear()


def delete_stored_sessions(session_hashes):
    """Delete sessions from the store by the hashes kept in their sign-in records."""
    for session_hash in session_hashes:
        if session_hash:
            current_app.session_interface.delete_by_hash(session_hash)
