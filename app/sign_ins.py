"""Sign-ins: the server-side record that makes a session (or remember cookie) valid.

Flask-Login keeps ``get_id()`` in the session and in the remember cookie. Here that
value is a random per-sign-in token whose hash is a ``SignIn`` row, and the stored
session carries a copy of that row (app/sign_in_state.py), so:

- a signed-in request is authorised by the read that loads its session: no SQL;
  the row's last-seen time is written at most once a minute;
- ending a sign-in (sign-out, revocation, password change, expiry) deletes the row
  and the session entry it names, so any copy of its session or remember cookie is
  dead on every app process at once (threat: hijack with a stolen cookie after logout);
- a request already in flight cannot bring an ended sign-in back: the store only
  rewrites an entry that still exists, and a new entry is made before its row;
- idle and absolute lifetimes are enforced on the server, whatever the cookie says;
- a remember cookie holds no user id that could be replayed for ever; it is checked
  against the row, in SQL, when it restores a sign-in, and replaced: each one works
  once, and an older one coming back means a copy (``_restore``).
"""

import dataclasses

from flask import after_this_request, current_app, request, session
from flask_login import current_user, login_user, logout_user
from sqlalchemy import delete, select, update

from . import clock, cookies, recovery, second_factors, security_log, sessions, sudo, user_agents
from .extensions import db
from .models import EndedSignIn, SignIn, User
from .sign_in_state import SignedInUser, SignInChanged, SignInState, whole_seconds
from .tokens import new_sign_in_token, series_of, sha256_hex


def sign_in(user, remember=False, password_version=None, second_factor=None):
    """Start a new sign-in for ``user`` after a password check, in a fresh session.

    ``password_version`` is the user's version read before the password was checked
    (default: the current one); if the password has changed since, nothing starts and
    ``SignInChanged`` is raised (``_check_password_unchanged``). ``second_factor``
    names the factor checked after the password (app/second_factors/), if any.
    """
    config = current_app.config
    now = clock.utcnow()
    lifetime = config["REMEMBER_COOKIE_DURATION"] if remember else config["PERMANENT_SESSION_LIFETIME"]
    record = SignIn(
        user_id=user.id,
        remember=remember,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        password_version=user.password_version if password_version is None else password_version,
        ip_address=request.remote_addr,
        client=user_agents.describe(request.user_agent.string),
        second_factor=second_factor,
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


def restart_current_sign_in(password_version):
    """Give the current sign-in a new token and session id, and forget remember-me.

    Used after a password change (``password_version`` is the new one): every old
    copy of this device's session or remember cookie dies with the old token, while
    the user stays signed in. The password was just typed, so the sign-in gets the
    lifetime of a new one without remember-me, not what is left of a remembered
    sign-in's 30 days.
    """
    _activate(
        current_user,
        current_user.sign_in,
        remember=False,
        expires_at=clock.utcnow() + current_app.config["PERMANENT_SESSION_LIFETIME"],
        password_version=password_version,
    )


def renew_current_sign_in(**changes):
    """A new token and session id for the current sign-in; remember-me stays as it was.

    Threat: a copy of this device's session or remember cookie, taken by someone who had
    the browser for a moment. It shares this device's row, so it is not on the devices
    list and "sign out everywhere else" would keep it; with the old token it dies.
    ``changes`` go to the sign-in's columns as well (``second_factor`` once it is shown).
    """
    _activate(current_user, current_user.sign_in, remember=current_user.sign_in.remember, **changes)


def renew_session_id():
    """A new session id for the current sign-in (re-authentication).

    Raises ``SignInChanged`` if the sign-in ended meanwhile.
    """
    state = current_user.sign_in
    _move_session(state, from_session_hash=sessions.current_session_hash())
    state.save_to(session)


def _activate(user, record, remember, **changes):
    """Give ``record`` a new token and this browser a new session id, then sign in.

    ``record`` is a new ``SignIn`` of ``user``, or the current sign-in's state with
    ``changes`` to its columns; the latter raises ``SignInChanged`` if another request
    changed its token first.
    """
    # A new series too: copies of the cookies from before are dead, not "copies seen".
    token = new_sign_in_token()
    token_hash, series_hash = sha256_hex(token), sha256_hex(series_of(token))
    if record.id is None:
        record.token_hash, record.series_hash, record.remember = token_hash, series_hash, remember
        old_sid = sessions.move_to_new_id()
        try:
            record.session_hash = sessions.current_session_hash()
            db.session.add(record)
            db.session.flush()
            _check_password_unchanged(user.id, record.password_version)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            sessions.abandon_new_id(old_sid)
            raise
        sessions.forget_old_id(old_sid)
        state = SignInState.of(record, user)
    else:
        replaced = {"series_hash": series_hash, "previous_token_hash": None, "token_rotated_at": None}
        renewal = {"from_session_hash": sessions.current_session_hash(), "token_hash": token_hash, "remember": remember}
        _move_session(record, **renewal, **replaced, **changes)
        state = dataclasses.replace(record, token_hash=token_hash, remember=remember, **changes)
    signed_in = SignedInUser(state, token)
    # A remember cookie lives exactly as long as its sign-in, also when re-issued.
    login_user(signed_in, remember=remember, duration=state.expires_at - clock.utcnow() if remember else None)
    state.save_to(session)
    return state


def _move_session(state, from_session_hash=None, **changes):
    """Move this browser to a new session id and record it, with ``changes``, on the sign-in.

    A sign-in has one stored session at a time: the one its row names. The new entry is
    in the store before the row names it, and the entry the row named before goes only
    after: whichever moment a sign-out from elsewhere lands, it finds and deletes the
    entry that the row names, and nothing is left alive. Threat: a second live session
    for one sign-in (a remember cookie restoring while a copy of the old session is
    still in use), which the row would no longer name, so that no sign-out could end it.

    ``from_session_hash``: a renewal of this browser's own session, which the row must
    still name, else ``SignInChanged``. Of several submits that read the session before
    any of them moved it, one moves it and the rest get the 409 page; each moving it
    in turn deleted the id before, and the answer the browser kept last could name a
    deleted one (signed out by a double click, found from outside). ``None``: whichever
    session the row names is replaced (a remember cookie restoring in another browser).
    """
    old_sid = sessions.move_to_new_id()
    try:
        replaced = from_session_hash or db.session.scalar(
            select(SignIn.session_hash).where(SignIn.id == state.id, SignIn.token_hash == state.token_hash)
        )
        _update_or_raise(state, expected_session_hash=replaced, session_hash=sessions.current_session_hash(), **changes)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        sessions.abandon_new_id(old_sid)
        raise
    sessions.forget_old_id(old_sid)
    sessions.delete_stored_sessions([replaced])


def _check_password_unchanged(user_id, password_version):
    """Raise ``SignInChanged`` if the password changed since version ``password_version``.

    Threat: a sign-in with the old password that is still being checked when the owner
    changes it. The change ends every sign-in it can see; this row is written after,
    so it must see the change itself. The shared row lock makes the two meet in one
    order on PostgreSQL: either the change sees this row, or this sees the change
    (SQLite has one writer at a time).
    """
    current = db.session.scalar(select(User.password_version).where(User.id == user_id).with_for_update(read=True))
    if current != password_version:
        raise SignInChanged()


def _update_or_raise(record, expected_session_hash=None, **values):
    """Change ``record`` only while it still holds the token this request came with.

    With ``expected_session_hash``, also only while it still names that session.
    """
    query = update(SignIn).where(SignIn.id == record.id, SignIn.token_hash == record.token_hash)
    if expected_session_hash is not None:
        query = query.where(SignIn.session_hash == expected_session_hash)
    changed = db.session.execute(query.values(**values)).rowcount
    if not changed:
        raise SignInChanged()


def sign_out(response):
    """End the current sign-in: its row, its session entry and both cookies."""
    if current_user.is_authenticated:
        end([current_user.sign_in])
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


def end(records, commit=True, keep_series=True):
    """End sign-ins: delete their rows and their entries in the session store.

    Returns how many were still there to end. With ``commit=False`` the rows go with
    the caller's transaction, so that a change made together with them (a new
    password) lands all at once or not at all. With ``keep_series`` (the default),
    what identifies a copied remember cookie outlives the row (``_keep_restored_series``).
    """
    # One statement: a row that another request ended a moment ago is simply not
    # deleted again, and its session was ended by that request.
    ids = [record.id for record in records]
    ended = db.session.execute(delete(SignIn).where(SignIn.id.in_(ids)).returning(*_ENDED_COLUMNS)).all()
    sessions.delete_stored_sessions([row.session_hash for row in ended])
    if keep_series:
        _keep_restored_series(ended)
    if commit:
        db.session.commit()
    return len(ended)


# What ``end`` reads from the rows it deletes: the session to delete, and the series to keep.
_KEPT_COLUMNS = ("user_id", "series_hash", "token_hash", "previous_token_hash", "token_rotated_at", "expires_at")
_ENDED_COLUMNS = (SignIn.session_hash, *(getattr(SignIn, name) for name in _KEPT_COLUMNS))


def _keep_restored_series(ended):
    """Keep the series of ended sign-ins whose tokens restores replaced (``EndedSignIn``).

    Only those: without a restore, no token of the series but the last one ever left
    the server, and that one is an ordinary stale cookie.
    """
    now = clock.utcnow()
    for row in ended:
        if row.series_hash and row.previous_token_hash and row.expires_at > now:
            db.session.add(EndedSignIn(**{name: getattr(row, name) for name in _KEPT_COLUMNS}))


def forget_account(user_id):
    """Account deletion: what is kept of its ended sign-ins goes too (the caller commits).

    Explicitly, not by the foreign key alone: SQLite does not enforce it, and hands the
    deleted account's id to the next new one.
    """
    db.session.execute(delete(EndedSignIn).where(EndedSignIn.user_id == user_id))


def purge_ended():
    """Retention: forget ended sign-ins past the time they would have expired; returns how many."""
    return db.session.execute(delete(EndedSignIn).where(EndedSignIn.expires_at <= clock.utcnow())).rowcount


def end_all_for(user, keep=None, commit=True, keep_series=True):
    """End every sign-in of ``user`` except ``keep``; return how many ended (the rest as for ``end``)."""
    query = select(SignIn).where(SignIn.user_id == user.id)
    if keep is not None:
        query = query.where(SignIn.id != keep.id)
    others = db.session.scalars(query).all()
    end(others, commit=commit, keep_series=keep_series)
    return len(others)


def live_sign_ins(user):
    """The user's sign-ins that have not timed out, most recently used first."""
    records = db.session.scalars(select(SignIn).where(SignIn.user_id == user.id).order_by(SignIn.last_seen_at.desc()))
    now = clock.utcnow()
    return [record for record in records if not has_timed_out(record, now) and not predates_password_change(record)]


def load_user(token):
    """Flask-Login's user loader: the user of a live sign-in, or ``None``.

    From the session's own copy of the sign-in when it has one (every signed-in
    request); from the database when a remember cookie brings the token.
    """
    if not session.stored:
        return _restore(token)
    state = SignInState.from_session(session)
    if state is None or state.token_hash != sha256_hex(token):
        # Not a session this app wrote: drop it (a remember cookie may still restore).
        sessions.end_stored_session()
        return None
    now = clock.utcnow()
    if has_timed_out(state, now):
        end([state])
        sessions.end_stored_session()
        return None
    if now - state.last_seen_at >= current_app.config["LAST_SEEN_RESOLUTION"]:
        # A statement, not an ORM change: a sign-out that deleted the row meanwhile wins.
        seen = db.session.execute(
            update(SignIn).where(SignIn.id == state.id, SignIn.token_hash == state.token_hash).values(last_seen_at=now)
        ).rowcount
        db.session.commit()
        if not seen:
            sessions.end_stored_session()
            return None
        # Saving the session again also renews its idle lifetime in the store.
        state.last_seen_at = now
        state.save_to(session)
    return SignedInUser(state, token)


def _restore(token):
    """The user of the sign-in that ``token`` (from a remember cookie) belongs to, in a new session.

    The sign-in moves to a fresh session id (threat: session fixation through whatever
    the browser had before) and gets a fresh token, which the response's new remember
    cookie carries: a remember cookie works once.

    Threat: a copy of the remember cookie (OWASP's persistent-login theft). With one
    token for good, each use of the copy moved the sign-in into the copy's session and
    ended the owner's, again and again, and nothing noticed two browsers taking turns.
    Now every token of a sign-in shares a series that restores keep: a token of the
    series that is not the current one means two browsers hold the cookie, and the
    sign-in ends (``_replaced_token_came_back``), however many restores the copy missed.
    Each restore is on the owner's activity page, with its address and browser.

    Two tabs that open at once both restore: the one that finds the sign-in moved by
    the other reads it again and is served within the grace. If the sign-in ended
    meanwhile, this request goes on as a visitor's rather than failing: it is only
    loading the user.

    Threat: a remember cookie from before the account got a second factor, or from a
    sign-in that never completed one. It would skip the factor for 30 days, so it
    restores nothing and its sign-in ends.
    """
    token_hash = sha256_hex(token)
    for _attempt in range(2):
        record = SignIn.find_by_token(token)
        now = clock.utcnow()
        if record is not None and (
            has_timed_out(record, now)
            or predates_password_change(record)
            or (record.second_factor is None and second_factors.enabled_for(record.user_id))
        ):
            end([record])
            record = None
        if record is None:
            break
        if record.token_hash != token_hash:
            return _replaced_token_came_back(record, token_hash, now)
        state = SignInState.of(record, record.user)
        # The same series (a token from before series existed starts one).
        fresh_token = new_sign_in_token(series_of(token))
        fresh_hash = sha256_hex(fresh_token)
        rotation = {"series_hash": sha256_hex(series_of(fresh_token)), "previous_token_hash": token_hash}
        try:
            _move_session(state, token_hash=fresh_hash, last_seen_at=now, token_rotated_at=now, **rotation)
        except SignInChanged:
            continue
        state = dataclasses.replace(state, token_hash=fresh_hash, last_seen_at=whole_seconds(now))
        user = SignedInUser(state, fresh_token)
        # Flask-Login sets the new remember cookie: same end as the sign-in, new token.
        login_user(user, remember=True, duration=state.expires_at - now, fresh=False)
        state.save_to(session)
        security_log.record("remember_me_restored", user_id=state.user_id, sign_in=state.id)
        return user
    _forget_user_keys()
    if record is None:
        # A cookie of no live sign-in (ended, expired, never ours): the browser drops it,
        # unless it may still turn out to be a copy.
        verdict, kept = _judge_ended_series(token, token_hash)
        if verdict == COPY:
            _report_copy_of_ended_sign_in(kept)
        if verdict != UNDECIDED:
            after_this_request(_forget_dead_remember_cookie)
    return None


# What a token of no live sign-in is (``_judge_ended_series``).
STALE, COPY, UNDECIDED = "stale", "copy", "undecided"


def _judge_ended_series(token, token_hash):
    """Whether ``token``, which names no live sign-in, is a copy of an ended one's cookie.

    Returns the verdict and the ``EndedSignIn`` of the token's series, or ``None``.

    Threat: a thief restores from a copy, then signs out before the owner's browser
    comes back with the token the restore replaced; with the sign-in gone, that token
    looked like any stale cookie, and nobody heard of the copy. So for a token of a
    series kept by ``end``:

    - the token current at the end is ``STALE`` (a lost sign-out answer, say);
    - the one its last restore replaced, within the grace, is ``UNDECIDED``: a tab of
      the browser that signed out, or the owner's right after a thief's quick restore
      and sign-out; the browser keeps it, and it is judged when it comes back;
    - any other is a ``COPY``.

    Tokens of no kept series are ``STALE``.
    """
    series = series_of(token)
    kept = series and db.session.get(EndedSignIn, sha256_hex(series))
    if not kept or kept.token_hash == token_hash:
        return STALE, kept
    if _within_grace(kept, token_hash, clock.utcnow()):
        return UNDECIDED, kept
    return COPY, kept


def _report_copy_of_ended_sign_in(kept):
    """Tell the owner of the ended sign-in ``kept`` (an ``EndedSignIn``) about the copy, once."""
    # Of several requests that bring copies at once, the one that deletes the row reports.
    forgotten = db.session.execute(delete(EndedSignIn).where(EndedSignIn.series_hash == kept.series_hash)).rowcount
    db.session.commit()
    if forgotten:
        user = db.session.get(User, kept.user_id)
        security_log.record("remember_cookie_reused_after_end", user_id=user.id)
        recovery.after_remember_cookie_reused(user, device=None, already_ended=True)


def _within_grace(record, token_hash, now):
    """True for the token that the last restore of ``record`` replaced, within the grace."""
    rotated_at = record.token_rotated_at
    return (
        record.previous_token_hash == token_hash
        and rotated_at is not None
        and now - rotated_at < current_app.config["REMEMBER_TOKEN_REUSE_GRACE"]
    )


def _forget_dead_remember_cookie(response):
    forget_remember_cookie(response)
    return response


def _replaced_token_came_back(record, token_hash, now):
    """A remember cookie with a token of ``record``'s series that restores replaced: a tab or a copy.

    The token the last restore replaced, within ``REMEMBER_TOKEN_REUSE_GRACE`` of that
    restore, is a tab that set off with it: a GET or HEAD is served as the user, with
    the session left as it came and no cookie set (the restoring response sets them; a
    cookie set here could overwrite its new token with the old one). Any other method
    goes on as a visitor's.

    Otherwise one browser restored and holds a newer token, and another holds an older
    one: a copy, however many restores ago it was taken. Which is the owner's cannot be
    told, so the sign-in ends for both (its row, its session) and the owner is told, on
    the activity page and by email. The thief's copy is then worth nothing; the owner
    signs in again.
    """
    _forget_user_keys()
    if _within_grace(record, token_hash, now):
        if request.method not in ("GET", "HEAD"):
            return None
        # In the log only: the owner's activity page would fill with every tab.
        security_log.record("remember_cookie_grace", sign_in=record.id)
        sessions.discard_changes()
        return SignedInUser(SignInState.of(record, record.user), token=None)
    user = record.user
    # Of several requests that bring copies at once, the one that ended it reports it;
    # and once: ended for the copy, it keeps no series that could report it again.
    if end([record], keep_series=False):
        security_log.record("remember_cookie_reused", user_id=user.id, sign_in=record.id)
        recovery.after_remember_cookie_reused(user, record.client)
    after_this_request(_forget_both_cookies)
    return None


def _forget_both_cookies(response):
    forget_remember_cookie(response)
    _forget_signed_in(response)
    return response


def _forget_user_keys():
    """Drop what Flask-Login wrote into the session before it asked for the user."""
    for key in ("_user_id", "_fresh"):
        session.pop(key, None)


def idle_deadline(record):
    """When this sign-in ends if unused, or ``None`` for remember-me sign-ins."""
    if record.remember:
        return None
    return record.last_seen_at + current_app.config["IDLE_TIMEOUT"]


def predates_password_change(record):
    """True for a sign-in made with a password that has been changed since."""
    return record.password_version != record.user.password_version


def has_timed_out(record, now):
    """True when ``record`` (a ``SignIn`` row or its state) is past either deadline."""
    deadline = idle_deadline(record)
    return record.expires_at <= now or (deadline is not None and deadline <= now)
