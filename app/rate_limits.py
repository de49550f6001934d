"""The rate limits, in one place. Counters live in Redis, shared by every process.

Threats: password guessing (brute force, credential stuffing) and mass sign-up.
Only failures count, so a user who signs in correctly is never slowed down; the
limit is checked before the password is, so a guess past it is never tested.
"""

from flask import current_app
from flask_login import current_user

from . import redis_connection
from .extensions import limiter


def init_app(app):
    """Bind the limiter, its counters in the Redis the config names (memory when embedded)."""
    if app.config["SESSION_TYPE"] == "redis":
        app.config["RATELIMIT_STORAGE_OPTIONS"] = redis_connection.limiter_storage_options(
            app.config, app.extensions["redis"]
        )
    # Flask-Limiter 4.1 merges the storage options of every init_app in a process into
    # the ones before: an earlier app's Sentinel or pool options would reach this one.
    limiter._storage_options = {}
    limiter.init_app(app)


def _config(name):
    return lambda: current_app.config[name]


def _rejected(response):
    # A wrong password answers 401, an invalid form 400: both count. (A missing or
    # forged CSRF token is refused earlier, before any password is looked at.)
    return response.status_code in (400, 401)


def _signed_in_user():
    # Anonymous requests are sent to sign in by login_required; an empty key
    # tells Flask-Limiter not to count them here.
    return f"user:{current_user.id}" if current_user.is_authenticated else ""


failed_logins = limiter.limit(_config("LOGIN_RATE_LIMIT"), methods=["POST"], deduct_when=_rejected)

registrations = limiter.limit(_config("REGISTER_RATE_LIMIT"), methods=["POST"])

# Re-authentication, password change and account deletion all test the password of
# the signed-in user: one budget per account, whatever address the guesses come from.
password_checks = limiter.shared_limit(
    _config("REAUTH_RATE_LIMIT"),
    scope="password_check",
    key_func=_signed_in_user,
    methods=["POST"],
    deduct_when=_rejected,
)
