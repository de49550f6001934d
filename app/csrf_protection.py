"""Flask-WTF's CSRF protection, with the Origin header checked too and a malformed Referer refused.

Threat: cross-site request forgery, which ``CSRFProtect`` stops with a token in every
form and, on HTTPS, a Referer that must name this site. Two additions:

- An ``Origin`` header (RFC 6454, sent by browsers with every POST) that names another
  site, or ``null`` (a sandboxed frame, a redirect from elsewhere), is refused as well,
  whatever the token and Referer say. Defence in depth: a leaked token alone, replayed
  from a page on another site, still fails. Clients that send no Origin are judged by
  the token and Referer alone, as before.
- Flask-WTF's Referer check parses the port with ``urlparse(...).port``, which raises
  ValueError for a port that is not a number or is out of range
  (``https://127.0.0.1:99999/``, ``https://host:8443.evil/``, or a Host made odd by
  X-Forwarded-Port): that was a 500.

Either is refused like any other failed check: a ``CSRFError``, a 400 page, a security event.

One thing is accepted that Flask-WTF refuses: a POST with a valid token and no
Referer, when its Origin names this site. Some browsers are set never to send a
Referer; they still send Origin, the header OWASP's CSRF guidance checks first, and
refusing them left those users unable to submit any form. No Referer and no Origin
is still refused.
"""

from urllib.parse import urlsplit

from flask import g, request
from flask_wtf.csrf import CSRFError, CSRFProtect

MALFORMED_REFERRER = "The referrer header is malformed."
FOREIGN_ORIGIN = "The request came from another site."
# Flask-WTF's words when it finds no Referer, checked after the token passed.
MISSING_REFERRER = "The referrer header is missing."
DEFAULT_PORTS = {"http": 80, "https": 443}


class RefererSafeCSRFProtect(CSRFProtect):
    def protect(self, apply_exemptions=False):
        try:
            super().protect(apply_exemptions)
        except CSRFError as error:
            origin = request.headers.get("Origin")
            if error.description != MISSING_REFERRER or not _same_origin(origin, request.host_url):
                raise
            # Flask-WTF looks for the Referer only after the token passed.
            g.csrf_valid = True
        except ValueError:
            # Only the same-origin comparison raises ValueError here: the token check
            # turns its own errors into CSRFError already.
            self._error_response(MALFORMED_REFERRER)
        # Flask-WTF marks the requests it checked (not the safe methods, not exempt views).
        origin = request.headers.get("Origin")
        if g.get("csrf_valid") and origin is not None and not _same_origin(origin, request.host_url):
            g.csrf_valid = False
            self._error_response(FOREIGN_ORIGIN)


def _same_origin(origin, host_url):
    """True if the Origin header ``origin`` names the site at ``host_url`` (scheme, host, port)."""
    if origin is None:
        return False
    try:
        theirs, ours = urlsplit(origin), urlsplit(host_url)
        their_site = (theirs.scheme, theirs.hostname, theirs.port or DEFAULT_PORTS.get(theirs.scheme))
        our_site = (ours.scheme, ours.hostname, ours.port or DEFAULT_PORTS.get(ours.scheme))
    except ValueError:
        return False
    # An origin is a scheme, a host and a port; anything more (a user, a path) is not one.
    bare = not (theirs.username or theirs.password or theirs.path or theirs.query or theirs.fragment)
    return bare and theirs.hostname is not None and their_site == our_site
