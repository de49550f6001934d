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
guessing the new one.
"""

import secrets
import time

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from . import cookies
from .extensions import limiter

DEVICE_COOKIE_SALT = "device-cookie"


def take_attempt(username, user):
    """Count one attempt on this account, or raise 429 if its bucket is full.

    Returns the bucket's key (a string) for ``forget_attempts``. With rate limiting
    switched off (``RATELIMIT_ENABLED=False``) nothing is counted.
    """
    bucket = _bucket(username, user)
    if not _limits_enabled():
        return bucket
    strategy = limiter.limiter
    for item in parse_many(current_app.config["ACCOUNT_LOGIN_RATE_LIMIT"]):
        if not strategy.hit(item, "account-login", bucket):
            reset_at = strategy.get_window_stats(item, "account-login", bucket).reset_time
            raise TooManyRequests(retry_after=max(1, int(reset_at - time.time())))
    return bucket


def forget_attempts(bucket):
    """The owner got in: this bucket starts from zero again."""
    if not _limits_enabled():
        return
    for item in parse_many(current_app.config["ACCOUNT_LOGIN_RATE_LIMIT"]):
        limiter.limiter.clear(item, "account-login", bucket)


def remember_device(response, user, password_version=None):
    """Mark this browser as one that has signed in to ``user`` (with ``password_version``)."""
    version = user.password_version if password_version is None else password_version
    value = _serializer().dumps({"user": user.id, "password": version, "nonce": secrets.token_urlsafe(16)})
    cookies.set_cookie(
        response, current_app.config["DEVICE_COOKIE_NAME"], value, current_app.config["DEVICE_COOKIE_DURATION"]
    )


def _bucket(username, user):
    device = _known_device(user)
    if device:
        return f"device:{device}"
    return f"account:{username.lower()}"


def _known_device(user):
    cookie = request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"])
    if not cookie or user is None:
        return None
    try:
        payload = _serializer().loads(cookie)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("user") != user.id:
        return None
    # Cookies from before versions were recorded name none: they belong to version 0.
    if payload.get("password", 0) != user.password_version:
        return None  # made before the password changed
    return payload.get("nonce")


def _limits_enabled():
    # Flask-Limiter's own switch; with it off, ``limiter.limiter`` raises AssertionError.
    return current_app.config["RATELIMIT_ENABLED"]


def _serializer():
    # A list of keys: signs with the newest, still accepts cookies made before a rotation.
    keys = [*reversed(current_app.config.get("SECRET_KEY_FALLBACKS") or ()), current_app.config["SECRET_KEY"]]
    return URLSafeSerializer(keys, salt=DEVICE_COOKIE_SALT)
