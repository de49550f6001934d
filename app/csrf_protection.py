"""Flask-WTF's CSRF protection, with a malformed Referer refused instead of crashing.

Threat: cross-site request forgery, which ``CSRFProtect`` stops with a token in every
form and, on HTTPS, a Referer that must name this site. Its Referer check parses the
port with ``urlparse(...).port``, which raises ValueError for a port that is not a
number or is out of range (``https://127.0.0.1:99999/``, ``https://host:8443.evil/``,
or a Host made odd by X-Forwarded-Port): that was a 500. Such a request is refused like
any other failed check: a ``CSRFError``, a 400 page, a security event.
"""

from flask_wtf.csrf import CSRFProtect

MALFORMED_REFERRER = "The referrer header is malformed."


class RefererSafeCSRFProtect(CSRFProtect):
    def protect(self, apply_exemptions=False):
        try:
            super().protect(apply_exemptions)
        except ValueError:
            # Only the same-origin comparison raises ValueError here: the token check
            # turns its own errors into CSRFError already.
            self._error_response(MALFORMED_REFERRER)
