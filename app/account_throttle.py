"""Per-account limit on sign-in attempts that cannot lock the owner out.

Threat: password guessing against one account from many addresses (a botnet walks
around any per-IP limit). So every attempt on a username counts against that
username, from wherever it comes: ``ACCOUNT_LOGIN_RATE_LIMIT`` (10 per 15 minutes).

The trade-off: a per-account limit is also a tool to lock a victim out, by sending
ten wrong passwords every quarter of an hour. To keep the owner in, a browser that
has signed in to the account before carries a signed device cookie, and its
attempts count in a bucket of its own (OWASP's "device cookies"): an attacker's
failures never block the owner's known browsers. A new browser of the owner's can
be blocked for at most one window while an attack is going on.

The slot is taken atomically before the password is checked, so concurrent guesses
cannot overshoot the limit; a successful sign-in empties the bucket again. A device
cookie names the password it signed in with (``password_version``): someone who once
knew the password cannot keep the cookies they collected then as extra buckets for
guessing the new one. It names the account by its random ``public_id``, never by its
integer id: cookies collected on an account that was then deleted buy nothing against
the next account to get that id.
"""

import hashlib
import secrets

from flask import current_app, request
from itsdangerous import Signer
from limits import parse_many

from . import cookies, rate_limits, security_log
from .extensions import limiter

DEVICE_COOKIE_SALT = "device-cookie"


def take_attempt(username, user):
    """Count one attempt on this account, or raise 429 if its bucket is full.

    Returns the bucket's key (a string) for ``forget_attempts``. With rate limiting
    switched off (``RATELIMIT_ENABLED=False``) nothing is counted.
    """
    bucket = _bucket(username, user)
    rate_limits.take(current_app.config["ACCOUNT_LOGIN_RATE_LIMIT"], "account-login", bucket)
    return bucket


def take_successful_sign_in(user):
    """Count one successful sign-in to ``user``, or raise 429 past ``ACCOUNT_SUCCESSFUL_LOGIN_RATE_LIMIT``.

    Threat: someone who knows the password (or shares it) signing in again and again:
    each sign-in costs a hash, a row, a session and a device cookie.
    """
    rate_limits.take(current_app.config["ACCOUNT_SUCCESSFUL_LOGIN_RATE_LIMIT"], "account-sign-in", user.public_id)


def forget_attempts(bucket):
    """The owner got in: this bucket starts from zero again."""
    if not _limits_enabled():
        return
    for item in parse_many(current_app.config["ACCOUNT_LOGIN_RATE_LIMIT"]):
        limiter.limiter.clear(item, "account-login", bucket)


def remember_device(response, user, password_version=None):
    """Mark this browser as one that has signed in to ``user`` (with ``password_version``).

    The cookie is opaque: a random nonce and a MAC over it, the account's random
    ``public_id`` and the password version. It names neither the account nor how often
    its password changed, and it fits no other account, even one that later gets the
    same integer id (SQLite hands out a deleted account's id again).
    """
    version = user.password_version if password_version is None else password_version
    nonce = secrets.token_urlsafe(16)
    value = f"{nonce}.{_signer().get_signature(_binding(nonce, user, version)).decode()}"
    cookies.set_cookie(
        response, current_app.config["DEVICE_COOKIE_NAME"], value, current_app.config["DEVICE_COOKIE_DURATION"]
    )


def is_known_device(user):
    """True if this browser carries a device cookie made for ``user`` and its current password."""
    return _known_device(user) is not None


def _bucket(username, user):
    device = _known_device(user)
    if device:
        return f"device:{device}"
    # A keyed fingerprint, not the name typed: that may be a password typed into the
    # wrong field, and the key lives in Redis for the whole window.
    return f"account:{security_log.fingerprint(username.lower())}"


def _known_device(user):
    """The nonce of this browser's device cookie if it was made for ``user`` as it is now."""
    cookie = request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"])
    if not cookie or user is None:
        return None
    nonce, _, signature = cookie.rpartition(".")
    # Made for this account and its current password; one from before a password
    # change, or for any other account, does not verify.
    if not nonce or not _signer().verify_signature(_binding(nonce, user, user.password_version), signature):
        return None
    return nonce


def _binding(nonce, user, password_version):
    return f"{nonce}|{user.public_id}|{password_version}"


def _limits_enabled():
    # Flask-Limiter's own switch; with it off, ``limiter.limiter`` raises AssertionError.
    return current_app.config["RATELIMIT_ENABLED"]


def _signer():
    # A list of keys: signs with the newest, still accepts cookies made before a rotation.
    keys = [*reversed(current_app.config.get("SECRET_KEY_FALLBACKS") or ()), current_app.config["SECRET_KEY"]]
    return Signer(keys, salt=DEVICE_COOKIE_SALT, digest_method=hashlib.sha256)
