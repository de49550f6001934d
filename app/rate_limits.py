"""The rate limits, in one place. Counters live in Redis, shared by every process.

Threats: password guessing (brute force, credential stuffing) and mass sign-up.
Only failures count, so a user who signs in correctly is never slowed down; the
limit is checked before the password is, so a guess past it is never tested.
"""

import math
import time

from flask import current_app
from flask_login import current_user
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from . import redis_connection
from .client_network import WIDER_IPV6_PREFIXES, wider_ipv6_network
from .extensions import limiter


def init_app(app):
    """Bind the limiter, its counters in the Redis the config names (memory when embedded)."""
    if app.config["SESSION_TYPE"] == "redis":
        app.config["RATELIMIT_STORAGE_OPTIONS"] = redis_connection.limiter_storage_options(
            app.config, app.extensions["redis"]
        )
    # Flask-Limiter 4.1 merges the storage options of every init_app in a process into
    # the ones before: an earlier app's Sentinel or pool options would reach this one.
    # Likewise its note that the storage is dead, which belongs to the earlier storage,
    # and the limits an earlier app's config set for every route (RATELIMIT_DEFAULT,
    # RATELIMIT_APPLICATION, RATELIMIT_META), which it keeps unless the next one sets its own.
    limiter._storage_options = {}
    limiter._storage_dead = False
    limiter.limit_manager.set_default_limits([])
    limiter.limit_manager.set_application_limits([])
    limiter._meta_limits = []
    limiter.init_app(app)


def take(limits, namespace, key):
    """One hit in every window of ``limits`` (e.g. ``"5/hour;20/day"``) for ``key``, or 429.

    For limits counted by hand rather than by a view's decorator; the 429 carries the
    seconds until the full window frees a slot. With rate limiting switched off
    (``RATELIMIT_ENABLED=False``) nothing is counted.
    """
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    strategy = limiter.limiter
    for item in parse_many(limits):
        if not strategy.hit(item, namespace, key):
            reset_at = strategy.get_window_stats(item, namespace, key).reset_time
            # Rounded up: waiting exactly this long finds the slot free.
            raise TooManyRequests(retry_after=max(1, math.ceil(reset_at - time.time())))


PASSWORD_CHECK_SCOPE = "password-check"  # noqa: S105 - a counter's name, not a password


def _config(name):
    return lambda: current_app.config[name]


def _rejected(response):
    # A wrong password answers 401, an invalid form 400: both count. (A missing or
    # forged CSRF token is refused earlier, before any password is looked at.)
    return response.status_code in (400, 401)


def _this_sign_in():
    # Anonymous requests are sent to sign in by login_required; an empty key
    # tells Flask-Limiter not to count them here.
    return f"sign-in:{current_user.sign_in.public_id}" if current_user.is_authenticated else ""


def _this_account():
    return f"account:{current_user.public_id}" if current_user.is_authenticated else ""


def _wider_ipv6_network(prefix):
    return lambda: wider_ipv6_network(prefix)


def _ipv4_client():
    # IPv4 clients are counted by their address alone: the wider limits do not apply.
    return wider_ipv6_network(WIDER_IPV6_PREFIXES[0]) is None


def _limits(*limits):
    """Several limits as one decorator, the first one checked first."""

    def decorator(view):
        for limit in reversed(limits):
            view = limit(view)
        return view

    return decorator


def _per_wider_ipv6_network(setting, **options):
    """``setting`` counted again per IPv6 /48 and /32, from ``{setting}_PER_IPV6_48`` and ``_32``."""
    return [
        limiter.limit(
            _config(f"{setting}_PER_IPV6_{prefix}"),
            key_func=_wider_ipv6_network(prefix),
            scope=f"{setting.lower()}-ipv6-{prefix}",
            exempt_when=_ipv4_client,
            methods=["POST"],
            **options,
        )
        for prefix in WIDER_IPV6_PREFIXES
    ]


# Failed sign-ins per client: its IPv4 address or IPv6 /64, and with larger budgets the
# IPv6 /48 and /32 around it (one customer may hold a /48; a provider a /32).
failed_logins = _limits(
    limiter.limit(_config("LOGIN_RATE_LIMIT"), methods=["POST"], deduct_when=_rejected),
    *_per_wider_ipv6_network("LOGIN_RATE_LIMIT", deduct_when=_rejected),
)

# Successful sign-ins per client address as well: each costs a hash, a row and a session.
successful_logins = limiter.limit(
    _config("SUCCESSFUL_LOGIN_RATE_LIMIT"),
    scope="login-success",
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 303,
)

registrations = _limits(
    limiter.limit(_config("REGISTER_RATE_LIMIT"), methods=["POST"]),
    *_per_wider_ipv6_network("REGISTER_RATE_LIMIT"),
)

# Re-authentication, password change, sign-out everywhere else and account deletion
# all test the password of the signed-in user. Threat: a thief holding a copy of one
# device's cookies spends the budget so that the owner cannot confirm the password and
# throw the thief out. So the budget belongs to the sign-in (a copy shares it, but the
# owner's other devices and any fresh sign-in have their own), under a much higher
# ceiling for the whole account, which only someone holding many sign-ins could reach.
password_checks = _limits(
    limiter.shared_limit(
        _config("REAUTH_RATE_LIMIT"),
        scope=PASSWORD_CHECK_SCOPE,
        key_func=_this_sign_in,
        methods=["POST"],
        deduct_when=_rejected,
    ),
    limiter.shared_limit(
        _config("REAUTH_ACCOUNT_RATE_LIMIT"),
        scope="password-check-account",
        key_func=_this_account,
        methods=["POST"],
        deduct_when=_rejected,
    ),
)
