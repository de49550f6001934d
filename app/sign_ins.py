"""Sign-ins: the server-side record that makes a session (or remember cookie) valid.

Flask-Login keeps ``User.get_id()`` in the session and in the remember cookie. Here
that value is a random per-sign-in token whose hash is a ``SignIn`` row, so:

- logout deletes the row, and a copied session or remember cookie is dead on every
  app process at once (threat: hijack with a stolen cookie after logout);
- an absolute lifetime is enforced on the server, whatever the cookie says;
- a remember cookie holds no user id that could be replayed for ever.
"""

from flask import current_app, session
from flask_login import current_user, login_user, logout_user

from . import sessions
from .clock import utcnow
from .extensions import db
from .models import SignIn, User


def sign_in(user, remember=False):
    """Start a new sign-in for ``user`` in a fresh session."""
    sessions.regenerate_id()
    lifetime = (
        current_app.config["REMEMBER_COOKIE_DURATION"]
        if remember
        else current_app.permanent_session_lifetime
    )
    token = SignIn.new_token()
    now = utcnow()
    record = SignIn(user=user, token_hash=SignIn.hash_token(token), remember=remember,
                    created_at=now, expires_at=now + lifetime)
    db.session.add(record)
    db.session.commit()
    user.current_sign_in, user.current_token = record, token
    login_user(user, remember=remember)
    return record


def sign_out(response):
    """End the current sign-in: its row, its session entry and both cookies."""
    record = getattr(current_user, "current_sign_in", None)
    if record is not None:
        db.session.delete(record)
        db.session.commit()
    # Clear first: logout_user() then records that the remember cookie must go.
    session.clear()
    logout_user()
    # Flask-Login would delete the remember cookie without its Secure flag, which
    # a browser ignores for a "__Host-" name; delete it here with every flag.
    session.pop("_remember", None)
    config = current_app.config
    sessions.expire_cookie(response, config["REMEMBER_COOKIE_NAME"], config, "REMEMBER")


def load_user(token):
    """Flask-Login's user loader: the user of a live sign-in, or ``None``."""
    record = SignIn.find_by_token(token)
    if record is not None and record.expires_at <= utcnow():
        db.session.delete(record)
        db.session.commit()
        record = None
    if record is None:
        # A dead sign-in leaves nothing behind: the session falls back to the short
        # anonymous lifetime instead of keeping a useless token for hours.
        for key in ("_user_id", "_fresh", "_id"):
            session.pop(key, None)
        return None
    user = db.session.get(User, record.user_id)
    user.current_sign_in, user.current_token = record, token
    return user


def renew_session_after_remember(sender, user, **extra):
    """A remember cookie just restored a sign-in: move it to a fresh session id.

    Threat: session fixation through the anonymous session the visitor already had.
    """
    sessions.regenerate_id()

