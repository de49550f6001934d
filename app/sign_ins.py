"""Sign-ins: the server-side record that makes a session (or remember cookie) valid.

Flask-Login keeps ``User.get_id()`` in the session and in the remember cookie. Here
that value is a random per-sign-in token whose hash is a ``SignIn`` row, so:

- ending a sign-in (sign-out, revocation, password change, expiry) deletes the row,
  and any copy of its session or remember cookie is dead on every app process at
  once (threat: hijack with a stolen cookie after logout);
- a request already in flight cannot bring an ended sign-in back: even if it writes
  the old session into the store again, the token in it no longer resolves;
- idle and absolute lifetimes are enforced on the server, whatever the cookie says;
- a remember cookie holds no user id that could be replayed for ever.
"""

from flask import after_this_request, current_app, request, session
from flask_login import current_user, login_user, logout_user
from sqlalchemy import delete, select, update

from . import clock, cookies, security_log, sessions, sudo, user_agents
from .extensions import db
from .models import SignIn
from .tokens import new_token, sha256_hex

LOGIN_SESSION_KEYS = ("_user_id", "_fresh", "_id")


def sign_in(user, remember=False, password_version=None):
    """Start a new sign-in for ``user`` after a password check, in a fresh session.

    ``password_version`` is the user's version read before the password was checked
    (default: the current one). Threat: a sign-in with the old password that is still
    being checked when the owner changes it. The change ends every sign-in it can see;
    this one is written a moment later, with the old version, and dies on its first
    request (``load_user``).
    """
    config = current_app.config
    now = clock.utcnow()
    lifetime = config["REMEMBER_COOKIE_DURATION"] if remember else config["PERMANENT_SESSION_LIFETIME"]
    record = SignIn(
        user=user,
        remember=remember,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        password_version=user.password_version if password_version is None else password_version,
        ip_address=request.remote_addr,
        client=user_agents.describe(request.user_agent.string),
    )
    _activate(user, record, remember=remember)
    if not remember:
        after_this_request(_mark_signed_in)
    sudo.mark_password_confirmed()
    _end_least_recently_used(user, keep=record)
    return record


def _mark_signed_in(response):
    config = current_app.config
    cookies.set_cookie(response, config["SIGNED_IN_COOKIE_NAME"], "1", config["PERMANENT_SESSION_LIFETIME"])
    return response


def ended_without_sign_out():
    """True when this browser had a sign-in without remember-me that ended without a sign-out.

    The sign-in page then says why (an idle timeout, usually) and forgets the mark.
    """
    if current_user.is_authenticated or not request.cookies.get(current_app.config["SIGNED_IN_COOKIE_NAME"]):
        return False
    after_this_request(_forget_signed_in)
    return True


def _forget_signed_in(response):
    cookies.expire(response, current_app.config["SIGNED_IN_COOKIE_NAME"])
    return response


def _end_least_recently_used(user, keep):
    """End the sign-ins of ``user`` past ``MAX_SIGN_INS_PER_ACCOUNT``, least recently used first.

    Threat: unbounded sign-ins. Each one is a row, a session and a remember cookie that
    lives for weeks; someone signing in again and again would pile them up. The owner
    sees on the activity page which ones ended and why.
    """
    others = db.session.scalars(
        select(SignIn)
        .where(SignIn.user_id == user.id, SignIn.id != keep.id)
        .order_by(SignIn.last_seen_at.desc(), SignIn.id.desc())
    ).all()
    surplus = others[current_app.config["MAX_SIGN_INS_PER_ACCOUNT"] - 1 :]
    end(surplus)
    for record in surplus:
        security_log.record("sign_in_ended_over_limit", user_id=user.id, sign_in=record.id)


def restart_current_sign_in():
    """Give the current sign-in a new token and session id, and forget remember-me.

    Used after a password change: every old copy of this device's session or
    remember cookie dies with the old token, while the user stays signed in. The
    password was just typed, so the sign-in gets the lifetime of a new one without
    remember-me, not what is left of a remembered sign-in's 30 days.
    """
    user = current_user._get_current_object()
    record = user.current_sign_in
    _activate(
        user,
        record,
        remember=False,
        expires_at=clock.utcnow() + current_app.config["PERMANENT_SESSION_LIFETIME"],
        password_version=user.password_version,
    )


def renew_current_sign_in():
    """A new token and session id for the current sign-in; remember-me stays as it was.

    Threat: a copy of this device's session or remember cookie, taken by someone who had
    the browser for a moment. It shares this device's row, so it is not on the devices
    list and "sign out everywhere else" would keep it; with the old token it dies.
    """
    user = current_user._get_current_object()
    _activate(user, user.current_sign_in, remember=user.current_sign_in.remember)


def renew_session_id():
    """A new session id for the current sign-in (re-authentication, remember-me).

    Raises ``SignInChanged`` if the sign-in ended meanwhile.
    """
    sessions.regenerate_id()
    _update_or_raise(current_user.current_sign_in, session_hash=sessions.current_session_hash())
    db.session.commit()


class SignInChanged(Exception):
    """Another request ended or renewed this sign-in while this one was running.

    Two clicks at once (two tabs, a double submit) both start from the same token;
    the first to write wins, and the second must neither undo it nor report success.
    Answered with a 409 page, and the session is left as the winner wrote it
    (app/errors.py).
    """


def _activate(user, record, remember, **changes):
    """Give ``record`` a new token and this browser a new session id, then sign in.

    ``record`` is new, or the current sign-in with ``changes`` to its columns; the
    latter raises ``SignInChanged`` if another request changed its token first.
    """
    token = new_token()
    expires_at = changes.get("expires_at", record.expires_at)
    if record.id is None:
        record.token_hash, record.remember = sha256_hex(token), remember
        db.session.add(record)
        db.session.flush()
    else:
        _update_or_raise(record, token_hash=sha256_hex(token), remember=remember, **changes)
    sessions.regenerate_id()
    db.session.execute(
        update(SignIn).where(SignIn.id == record.id).values(session_hash=sessions.current_session_hash())
    )
    db.session.commit()
    user.current_sign_in, user.current_token = record, token
    # A remember cookie lives exactly as long as its sign-in, also when re-issued.
    login_user(user, remember=remember, duration=expires_at - clock.utcnow() if remember else None)


def _update_or_raise(record, **values):
    """Change ``record`` only while it still holds the token this request came with."""
    changed = db.session.execute(
        update(SignIn).where(SignIn.id == record.id, SignIn.token_hash == record.token_hash).values(**values)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise SignInChanged()


def sign_out(response):
    """End the current sign-in: its row, its session entry and both cookies."""
    if current_user.is_authenticated:
        end([current_user.current_sign_in])
    # Clear first: logout_user() then records that the remember cookie must go.
    session.clear()
    logout_user()
    forget_remember_cookie(response)
    _forget_signed_in(response)


def forget_remember_cookie(response):
    """Delete the remember cookie with every flag it was set with.

    Flask-Login deletes it without Secure, which a browser ignores for a
    "__Host-" name, so its own pending deletion is dropped in favour of this one.
    """
    session.pop("_remember", None)
    cookies.expire(response, current_app.config["REMEMBER_COOKIE_NAME"])


def end(records):
    """End sign-ins: delete their rows and their entries in the session store."""
    # One statement: a row that another request ended a moment ago is simply not
    # deleted again, and its session was ended by that request.
    ids = [record.id for record in records]
    ended = db.session.scalars(delete(SignIn).where(SignIn.id.in_(ids)).returning(SignIn.session_hash)).all()
    sessions.delete_stored_sessions(ended)
    db.session.commit()


def end_all_for(user, keep=None):
    """End every sign-in of ``user`` except ``keep``; return how many ended."""
    others = [record for record in user.sign_ins if record is not keep]
    end(others)
    return len(others)


def live_sign_ins(user):
    """The user's sign-ins that have not timed out, most recently used first."""
    records = db.session.scalars(select(SignIn).where(SignIn.user_id == user.id).order_by(SignIn.last_seen_at.desc()))
    now = clock.utcnow()
    return [record for record in records if not has_timed_out(record, now) and not predates_password_change(record)]


def load_user(token):
    """Flask-Login's user loader: the user of a live sign-in, or ``None``."""
    record = SignIn.find_by_token(token)
    now = clock.utcnow()
    if record is not None and (has_timed_out(record, now) or predates_password_change(record)):
        end([record])
        record = None
    if record is None:
        # A dead sign-in leaves nothing behind: the session falls back to the short
        # anonymous lifetime instead of keeping a useless token.
        for key in LOGIN_SESSION_KEYS:
            session.pop(key, None)
        return None
    if now - record.last_seen_at >= current_app.config["LAST_SEEN_RESOLUTION"]:
        # A statement, not an ORM change: a sign-out that deleted the row meanwhile wins.
        db.session.execute(update(SignIn).where(SignIn.id == record.id).values(last_seen_at=now))
        db.session.commit()
        # Save the session again, which renews its idle lifetime in the store.
        session.modified = True
    user = record.user
    user.current_sign_in, user.current_token = record, token
    return user


def renew_session_after_remember(sender, user, **extra):
    """A remember cookie just restored a sign-in: move it to a fresh session id.

    Threat: session fixation through the anonymous session the visitor already had.
    """
    renew_session_id()


def idle_deadline(record):
    """When this sign-in ends if unused, or ``None`` for remember-me sign-ins."""
    if record.remember:
        return None
    return record.last_seen_at + current_app.config["IDLE_TIMEOUT"]


def predates_password_change(record):
    """True for a sign-in made with a password that has been changed since."""
    return record.password_version != record.user.password_version


def has_timed_out(record, now):
    deadline = idle_deadline(record)
    return record.expires_at <= now or (deadline is not None and deadline <= now)
