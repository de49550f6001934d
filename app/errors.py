"""Friendly error pages: a clear status and a sentence, never a traceback."""

import math
import time
from contextlib import suppress

from flask import current_app, g, render_template, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_limiter import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from werkzeug.exceptions import (
    Conflict,
    HTTPException,
    InternalServerError,
    SecurityError,
    ServiceUnavailable,
    TooManyRequests,
)

from . import rate_limits, redis_connection, security_log, sessions, sign_ins
from .extensions import db, limiter, login_manager

# A 429 raised with no wait of its own: what to tell the client, in seconds.
DEFAULT_WAIT_SECONDS = 60

# Title and sentence per status code; the title is ours, not Werkzeug's English name.
PAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    404: (_l("Page not found"), _l("There is no page at this address.")),
    405: (_l("Method not allowed"), _l("This page does not accept that kind of request.")),
    409: (
        _l("Changed at the same moment"),
        _l(
            "Another request from your browser changed this at the same moment, and that change is "
            "the one in effect. Please reload the page to see where things stand."
        ),
    ),
    413: (_l("Request too large"), _l("That request was too large.")),
    429: (_l("Too many attempts"), None),  # the sentence says how long to wait: too_many_requests_message
    500: (_l("Server error"), _l("Something went wrong on our side. It has been logged.")),
    503: (
        _l("Service unavailable"),
        _l("The site cannot reach its session store or database right now. Please try again shortly."),
    ),
}

# A store or the database out of reach: "try again shortly", never a 500.
OUTAGES = (*redis_connection.ERRORS, OperationalError)


def init_app(app):
    app.register_error_handler(HTTPException, render_http_error)
    app.register_error_handler(CSRFError, render_csrf_error)
    app.register_error_handler(SecurityError, render_untrusted_host)
    app.register_error_handler(TooManyRequests, render_too_many_requests)
    # Outages raised inside a view: the same 503 as a store that failed to open.
    for outage in OUTAGES:
        app.register_error_handler(outage, render_unavailable)
    # Two requests changed the same sign-in or account at once: the first one won.
    for conflict in (sign_ins.SignInChanged, StaleDataError, ObjectDeletedError, IntegrityError):
        app.register_error_handler(conflict, render_conflict)
    app.register_error_handler(sessions.SessionMoved, render_moved_session)
    app.register_error_handler(InternalServerError, render_internal_error)


# Pages drawn with the full menu and language switch: the user, the session and the
# database all worked for these. Every other error page is drawn as for a visitor.
FULL_PAGE_ERRORS = {404, 429}


def render_http_error(error, message=None):
    title, default_message = PAGES.get(error.code, (error.name, error.description))
    return (
        render_template(
            "errors/error.html",
            code=error.code,
            title=title,
            message=message or default_message,
            full_page=error.code in FULL_PAGE_ERRORS,
        ),
        error.code,
    )


def render_untrusted_host(error):
    # Threat: Host header injection. TRUSTED_HOSTS refused the name before routing.
    return render_template("errors/bad_host.html"), 400


def render_too_many_requests(error):
    security_log.record("rate_limited", user_id=_signed_in_user_id(), path=request.path)
    seconds = seconds_to_wait(error)
    if getattr(getattr(error, "limit", None), "scope", None) == rate_limits.PASSWORD_CHECK_SCOPE:
        # The owner's way out when a copy of this device's cookies spent the budget.
        message = _(
            "Too many wrong passwords or codes in this session. Sign out, then sign in again: the "
            "new session has its own attempts, and signing out also ends every copy of this one."
        )
    else:
        message = too_many_requests_message(seconds)
    page, code = render_http_error(error, message)
    return page, code, {"Retry-After": str(seconds)}


def seconds_to_wait(error):
    """Whole seconds (at least 1) until the limit that refused ``error``'s request frees a slot.

    Flask-Limiter's refusal (``RateLimitExceeded``) is timed by the limit it found
    full, which it then reports as its current limit. A limit counted by hand
    (``rate_limits.take``) carries its own wait. Never another limit's: Flask-Limiter's
    current limit, when none of its limits refused, is merely the smallest of the
    route, and its reset says nothing about the wait (an hour where a minute applied).
    """
    current = limiter.current_limit
    wait = getattr(error, "retry_after", None) or DEFAULT_WAIT_SECONDS
    if isinstance(error, RateLimitExceeded) and current is not None and current.breached:
        # The limiter's Redis may have gone since it refused: the page answers all the same.
        with suppress(*redis_connection.ERRORS):
            # The window's own reset time: reset_at is a whole second later than it.
            wait = current.window.reset_time - time.time()
    # Whole seconds (RFC 9110, section 10.2.3), rounded up: a client that waits exactly
    # this long finds the slot free, never another 429.
    return max(1, math.ceil(wait))


def too_many_requests_message(seconds):
    # Seconds up to two minutes: "2 minutes" for 61 seconds would nearly double the wait.
    if seconds < 120:
        return ngettext(
            "Too many attempts. Please wait %(num)d second and try again.",
            "Too many attempts. Please wait %(num)d seconds and try again.",
            seconds,
        )
    return ngettext(
        "Too many attempts. Please wait %(num)d minute and try again.",
        "Too many attempts. Please wait %(num)d minutes and try again.",
        math.ceil(seconds / 60),
    )


def render_csrf_error(error):
    security_log.record("csrf_failed", user_id=_signed_in_user_id(), reason=error.description)
    return (
        render_template(
            "errors/error.html",
            code=400,
            title=_("This form has expired"),
            message=_(
                "For your security each form works only for a while and only in this browser. "
                "Please go back, reload the page and try again."
            ),
        ),
        400,
    )


def render_unavailable(error):
    db.session.rollback()
    # Render as a visitor: loading the signed-in user would ask the database that
    # just failed, and fail again inside the error page. (Flask-Login keeps the
    # request's user in g._login_user.)
    g._login_user = login_manager.anonymous_user()
    return render_http_error(ServiceUnavailable())


def render_conflict(error):
    db.session.rollback()
    # What the winning request wrote to the session and the cookie stays in effect.
    sessions.discard_changes()
    return render_http_error(Conflict())


def render_moved_session(error):
    """The 409 page for a session id replaced a moment ago (app/sessions.py ``refuse_moved_session``).

    Drawn as for a visitor: loading the user would restore a sign-in from the remember
    cookie, moving it away from the session the first click just made.
    """
    sessions.discard_changes()
    g._login_user = login_manager.anonymous_user()
    return render_http_error(Conflict())


def render_internal_error(error):
    """The 500 page, which must render whatever failed: the user, the session, the database.

    It is drawn for a visitor (no user or database lookup), shows no flashed messages,
    and if even that fails, a fixed page is sent: never a dropped connection.
    """
    # The session store can also fail while the response is being saved, after the
    # view ran; Flask reports that as a 500 wrapping the original exception.
    if isinstance(error.original_exception, sessions.SessionStoreUnavailable):
        # Do not try to save the same session again with the 503 page.
        session.store_unavailable = True
    if isinstance(error.original_exception, (sessions.SessionStoreUnavailable, *OUTAGES)):
        return render_unavailable(error)
    g._login_user = login_manager.anonymous_user()
    try:
        return render_http_error(error)
    except Exception:  # the page that reports failures must not fail itself
        current_app.logger.exception("the error page failed to render")
        return LAST_RESORT_PAGE, 500, {"Content-Type": "text/html; charset=utf-8"}


# No template, no translation, no session: what is left when all of those failed.
LAST_RESORT_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>500 Server error</title>"
    "<h1>Server error</h1><p>Something went wrong on our side. It has been logged.</p>"
    '<p><a href="/">Back to the home page</a></p></html>'
)


def _signed_in_user_id():
    return current_user.id if current_user.is_authenticated else None
