"""What the peers' pages share: the security headers and the facts on the dashboard.

The project's dashboard tells a signed-in user what the server knows about the
session. A peer shows the same facts, computed from what it has at hand: the time
and address of the sign-in, the cookie it was sent, the keys of its session. Unlike
the project, no peer enforces the timeouts it shows; showing them costs the same.
"""

import hashlib
from datetime import UTC, datetime, timedelta

# The project's headers (app/security_headers.py, STRICT_TRANSPORT_SECURITY in
# config.py), written out here so a peer never imports the project; the bench's
# test compares them with what the project sends.
SECURITY_HEADERS = {
    "Content-Security-Policy": "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "accelerometer=(), gyroscope=(), magnetometer=(), browsing-topics=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Cache-Control": "no-store",
}

# The project's defaults, shown on the dashboard.
IDLE_TIMEOUT = timedelta(minutes=30)
SIGN_IN_LIFETIME = timedelta(hours=12)
REAUTH_WINDOW = timedelta(minutes=10)


def moment(when):
    """A time as the project's pages show it: ISO 8601 for machines, minutes in UTC for people."""
    return {"iso": when.isoformat(timespec="seconds"), "text": when.strftime("%Y-%m-%d %H:%M UTC")}


def dashboard_facts(signed_in_at, address, session_cookie, session_keys):
    """The dashboard's facts about one signed-in session, ready for a template."""
    now = datetime.now(UTC)
    return {
        "signed_in_at": moment(signed_in_at),
        "address": address,
        "idle_deadline": moment(now + IDLE_TIMEOUT),
        "idle_minutes": IDLE_TIMEOUT // timedelta(minutes=1),
        "expires_at": moment(signed_in_at + SIGN_IN_LIFETIME),
        "recently_confirmed": now - signed_in_at < REAUTH_WINDOW,
        "reauth_minutes": REAUTH_WINDOW // timedelta(minutes=1),
        "cookie_hash": hashlib.sha256(session_cookie.encode()).hexdigest()[:8],
        "session_keys": sorted(key for key in session_keys if key != "_permanent"),
    }
