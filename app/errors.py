"""Friendly error pages: a clear status and a sentence, never a traceback."""

from flask import g, render_template, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    SecurityError,
    ServiceUnavailable,
    TooManyRequests,
)

from . import security_log
from .extensions import db, login_manager
from .sessions import SessionStoreUnavailable

# Title and sentence per status code; the title is ours, not Werkzeug's English name.
PAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    404: (_l("Page not found"), _l("There is no page at this address.")),
    405: (_l("Method not allowed"), _l("This page does not accept that kind of request.")),
    413: (_l("Request too large"), _l("That request was too large.")),
    429: (_l("Too many attempts"), _l("Too many attempts. Please wait a little and try again.")),
    500: (_l("Server error"), _l("Something went wrong on our side. It has been logged.")),
    503: (
        _l("Service unavailable"),
        _l("The site cannot reach its session store or database right now. Please try again shortly."),
    ),
}


def init_app(app):
    app.register_error_handler(HTTPException, render_http_error)
    app.register_error_handler(CSRFError, render_csrf_error)
    app.register_error_handler(SecurityError, render_untrusted_host)
    app.register_error_handler(TooManyRequests, render_too_many_requests)
    # Outages raised inside a view: the same 503 as a store that failed to open.
    app.register_error_handler(RedisError, render_unavailable)
    app.register_error_handler(OperationalError, render_unavailable)
    app.register_error_handler(InternalServerError, render_internal_error)


def render_http_error(error):
    title, message = PAGES.get(error.code, (error.name, error.description))
    return render_template("errors/error.html", code=error.code, title=title, message=message), error.code


def render_untrusted_host(error):
    # Threat: Host header injection. TRUSTED_HOSTS refused the name before routing.
    return render_template("errors/bad_host.html"), 400


def render_too_many_requests(error):
    security_log.record("rate_limited", user_id=_signed_in_user_id(), path=request.path)
    return render_http_error(error)


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


def render_internal_error(error):
    # The session store can also fail while the response is being saved, after the
    # view ran; Flask reports that as a 500 wrapping the original exception.
    if isinstance(error.original_exception, SessionStoreUnavailable):
        # Do not try to save the same session again with the 503 page.
        session.store_unavailable = True
    if isinstance(error.original_exception, (SessionStoreUnavailable, RedisError, OperationalError)):
        return render_unavailable(error)
    return render_http_error(error)


def _signed_in_user_id():
    return current_user.id if current_user.is_authenticated else None
