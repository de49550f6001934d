"""Secret-key rotation that signs nobody out.

Rotate by moving the current key into ``FLASK_SECRET_KEY_FALLBACKS`` (a JSON list,
newest first) and setting a new ``FLASK_SECRET_KEY``. Then:

- sessions are unaffected: their ids are random, not signed;
- remember cookies signed with an old key are still accepted (Flask-Login knows only
  one key; this subclass adds the fallbacks); the restore replaces the cookie, as
  every restore does (app/sign_ins.py), and the new one is signed with the new key;
- CSRF tokens in forms rendered before the rotation still validate: itsdangerous
  verifies with every key in a list and signs with the last one;
- a remember cookie that no key verifies (damaged, forged, or signed with a key
  dropped from the fallbacks) is deleted from the browser rather than checked again
  on every request.

Once every remember cookie has been re-issued or has expired (REMEMBER_COOKIE_DURATION),
drop the old key from the fallbacks. Threat: a leaked key; rotating must be cheap
enough that nobody hesitates to do it.
"""

from flask import after_this_request, current_app
from flask_login import LoginManager
from flask_login.utils import decode_cookie, encode_cookie

from . import cookies


class KeyRotatingLoginManager(LoginManager):
    """A LoginManager whose remember cookies survive a secret-key rotation."""

    def _load_user_from_remember_cookie(self, cookie):
        user = super()._load_user_from_remember_cookie(cookie)
        if user is not None or decode_cookie(cookie) is not None:
            return user
        for old_key in current_app.config.get("SECRET_KEY_FALLBACKS") or ():
            token = decode_cookie(cookie, key=old_key)
            if token is not None:
                return super()._load_user_from_remember_cookie(encode_cookie(token))
        after_this_request(_forget_unverified_cookie)
        return None


def _forget_unverified_cookie(response):
    cookies.expire(response, current_app.config["REMEMBER_COOKIE_NAME"])
    return response


def init_app(app):
    """Sign CSRF tokens with the current key; accept the fallbacks too."""
    fallbacks = list(app.config.get("SECRET_KEY_FALLBACKS") or ())
    app.config["WTF_CSRF_SECRET_KEY"] = [*reversed(fallbacks), app.config["SECRET_KEY"]]
