"""What the site stores about people, generated from the configuration itself.

The /privacy page and the data export read from here, so the page cannot drift
from what the code does: a cookie added without an entry here fails a test
(tests/test_privacy.py), and lifetimes come from the live config.
"""

from flask import current_app
from flask_babel import lazy_gettext as _l

from . import cookies


def cookie_inventory():
    """Every cookie the site can set: name, purpose, lifetime and flags."""
    config = current_app.config
    idle = config["IDLE_TIMEOUT"] + config["LAST_SEEN_RESOLUTION"]
    session_flags = _flags(
        config["SESSION_COOKIE_SECURE"], config["SESSION_COOKIE_HTTPONLY"], config["SESSION_COOKIE_SAMESITE"]
    )
    return [
        {
            "name": config["SESSION_COOKIE_NAME"],
            "purpose": _l(
                "Set when you sign in: keeps you signed in and protects forms against forgery. Holds only a random id."
            ),
            "lifetime": _l("%(duration)s after the last request", duration=_duration(idle)),
            "flags": session_flags,
        },
        {
            "name": config["VISITOR_COOKIE_NAME"],
            "purpose": _l(
                "Before you sign in: protects the sign-in and sign-up forms against forgery and carries a "
                "message to the next page; while a sign-in waits for its second factor, a random id, and "
                "for a passkey, its challenge. Signed by the server; it holds nothing about you."
            ),
            "lifetime": _duration(config["ANONYMOUS_SESSION_LIFETIME"]),
            "flags": session_flags,
        },
        {
            "name": config["REMEMBER_COOKIE_NAME"],
            "purpose": _l('Only if you tick "keep me signed in": signs you in again on this device.'),
            "lifetime": _duration(config["REMEMBER_COOKIE_DURATION"]),
            "flags": _flags(
                config["REMEMBER_COOKIE_SECURE"], config["REMEMBER_COOKIE_HTTPONLY"], config["REMEMBER_COOKIE_SAMESITE"]
            ),
        },
        {
            "name": config["DEVICE_COOKIE_NAME"],
            "purpose": _l(
                "Set when you sign up or sign in: marks this browser as one you used before, so that "
                "someone guessing your password elsewhere cannot lock you out. It holds a random value "
                "and a signature, nothing about you."
            ),
            "lifetime": _duration(config["DEVICE_COOKIE_DURATION"]),
            "flags": _flags(config["SESSION_COOKIE_SECURE"], cookies.HTTPONLY, cookies.SAMESITE),
        },
        {
            "name": config["SIGNED_IN_COOKIE_NAME"],
            "purpose": _l(
                'Only while you are signed in without "keep me signed in": holds no data, and lets the '
                "sign-in page tell you when your session ended without you signing out."
            ),
            "lifetime": _duration(config["PERMANENT_SESSION_LIFETIME"]),
            "flags": _flags(config["SESSION_COOKIE_SECURE"], cookies.HTTPONLY, cookies.SAMESITE),
        },
        {
            "name": config["LANGUAGE_COOKIE_NAME"],
            "purpose": _l("Only if you pick a language with the switch at the bottom of the page."),
            "lifetime": _duration(config["LANGUAGE_COOKIE_DURATION"]),
            "flags": _flags(config["SESSION_COOKIE_SECURE"], cookies.HTTPONLY, cookies.SAMESITE),
        },
    ]


def stored_data():
    """What the server keeps, where, and for how long."""
    config = current_app.config
    return [
        {
            "what": _l("Session (one per signed-in browser)"),
            "fields": _l(
                "sign-in token, a copy of the sign-in (times, address, username), CSRF secret, "
                "when you last typed your password, flash messages"
            ),
            "where": _l("Redis (or files in development), under a hash of the session id"),
            "how_long": _l("Deleted at sign-out; otherwise expires with the cookie"),
        },
        {
            "what": _l("Account"),
            "fields": _l("username, argon2id hash of the password, creation time"),
            "where": _l("SQL database"),
            "how_long": _l("Until you delete the account"),
        },
        {
            "what": _l("Sign-ins (devices)"),
            "fields": _l(
                "random public id, hashes of the session token and id, start, last activity, expiry, "
                "IP address, browser and system name"
            ),
            "where": _l("SQL database"),
            "how_long": _l(
                "Deleted when the sign-in ends; address and browser are erased after %(period)s at the latest",
                period=_duration(config["SESSION_METADATA_RETENTION"]),
            ),
        },
        {
            "what": _l("Ended “keep me signed in” sign-ins"),
            "fields": _l(
                "hashes of the cookie's series and of its last tokens, and when the sign-in would have "
                "expired: only to recognise a copied cookie"
            ),
            "where": _l("SQL database"),
            "how_long": _l("Until the sign-in would have expired, or a copy of its cookie is reported"),
        },
        {
            "what": _l("Security events"),
            "fields": _l("event (sign-in, failed sign-in, password change...), time, IP address, browser name"),
            "where": _l("SQL database, and the server log"),
            "how_long": _duration(config["SECURITY_EVENT_RETENTION"]),
        },
        {
            "what": _l("Email address"),
            "fields": _l("the address you confirmed, and when"),
            "where": _l("SQL database"),
            "how_long": _l("Until you change it or delete the account"),
        },
        {
            "what": _l("Links in emails"),
            "fields": _l("a hash of the link's secret, what it does, the address it was sent to, its expiry"),
            "where": _l("SQL database"),
            "how_long": _l(
                "Deleted when used; otherwise when it expires (%(reset)s for a password reset, %(confirm)s to "
                "confirm an address, %(undo)s to undo a change of address)",
                reset=_duration(config["PASSWORD_RESET_LIFETIME"]),
                confirm=_duration(config["EMAIL_CONFIRMATION_LIFETIME"]),
                undo=_duration(config["ADDRESS_CHANGE_UNDO_LIFETIME"]),
            ),
        },
        {
            "what": _l("Second factor"),
            "fields": _l(
                "the authenticator app's secret (encrypted), the time step of the last code used, hashes of "
                "unused recovery codes; for each sign-in, which factor completed it"
            ),
            "where": _l("SQL database"),
            "how_long": _l("Until you remove it or delete the account"),
        },
        {
            "what": _l("Unfinished sign-in (password right, code still due)"),
            "fields": _l("account, your keep-me-signed-in choice, the page to return to, wrong codes so far"),
            "where": _l("Redis (or files in development), under a hash of a random id in the visitor cookie"),
            "how_long": _l(
                "Deleted when the code is right or wrong too often; otherwise after %(duration)s",
                duration=_duration(config["SECOND_FACTOR_PENDING_LIFETIME"]),
            ),
        },
        {
            "what": _l("Emails sent"),
            "fields": _l(
                "No copy is kept. An alert about a sign-in from a new browser is recorded as a security event."
            ),
            "where": _l("SQL database, and the server log"),
            "how_long": _duration(config["SECURITY_EVENT_RETENTION"]),
        },
    ]


def _flags(secure, httponly, samesite):
    flags = [name for name, on in (("Secure", secure), ("HttpOnly", httponly)) if on]
    return ", ".join([*flags, f"SameSite={samesite}"])


def _duration(delta):
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0:
        return _l("%(num)d days", num=seconds // 86400) if seconds != 86400 else _l("1 day")
    if seconds % 3600 == 0:
        return _l("%(num)d hours", num=seconds // 3600) if seconds != 3600 else _l("1 hour")
    return _l("%(num)d minutes", num=seconds // 60)
