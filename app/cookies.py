"""Setting and deleting the site's own cookies, always with every protective flag.

Threats: script access to a cookie (HttpOnly), a cookie sent over plain HTTP
(Secure), cross-site requests carrying it (SameSite). A deletion needs the same
flags as the cookie: browsers ignore a deletion of a "__Host-" cookie that lacks
Secure, and then keep the stale value.
"""

from flask import current_app

# The flags of every cookie set here (the privacy page lists them from these).
HTTPONLY = True
SAMESITE = "Lax"


def set_cookie(response, name, value, lifetime, httponly=HTTPONLY, samesite=SAMESITE):
    """Set a host-only cookie, HttpOnly and SameSite=Lax unless told; Secure wherever sessions are."""
    response.set_cookie(
        name,
        value,
        max_age=int(lifetime.total_seconds()),
        path="/",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=httponly,
        samesite=samesite,
    )


def expire(response, name, httponly=HTTPONLY, samesite=SAMESITE):
    """Delete a cookie of this site, with the flags it was set with."""
    response.set_cookie(
        name,
        "",
        expires=0,
        max_age=0,
        path="/",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=httponly,
        samesite=samesite,
    )


def session_flags(config):
    """The flags of the session and visitor cookies, from ``SESSION_COOKIE_*``."""
    return {"httponly": config["SESSION_COOKIE_HTTPONLY"], "samesite": config["SESSION_COOKIE_SAMESITE"]}
