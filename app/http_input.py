"""The request as the app sees it: hostile bytes in cookies, addresses and bodies defused.

Flask's request object is where every view, extension and hook reads the client's
input, so the kinds of input that broke the site from outside are made safe
here, once, instead of in each reader:

- **The Host** (and the scheme a proxy vouches for): one that is no host name gets a
  400 before Flask tries to build URLs from it (``HostGuard``).
- **Cookies.** A cookie value with a byte outside RFC 6265's cookie-octets
  (control characters, spaces, quotes, backslashes, anything non-ASCII) is dropped
  as if it had not been sent. Flask-Login's remember-cookie check, for one, raises
  TypeError on a non-ASCII value, and that 500 took the error page down with it.
  The site never sets such a value, so nothing honest is lost.
- **The client address.** ``remote_addr`` is the TCP peer, or what a trusted proxy
  wrote into X-Forwarded-For (``app.trust_proxies``), which some proxies write with
  a port or brackets. ``client_network.canonical_address`` turns it into one
  canonical form, so a port cannot split one client into many rate-limit buckets,
  and an oversized value never reaches a database column.
- **File parts** of a multipart form are dropped: no form here takes a file.
- **Bodies without a Content-Length** (``Transfer-Encoding: chunked``). Werkzeug stops
  reading such a body at ``MAX_CONTENT_LENGTH`` and hands the form parser the first
  bytes, so a form padded past the limit was acted on. Here the body is read up to
  one byte past the limit first: longer bodies get the same 413 as with a length, and
  a body the server cannot decode (a chunk size that is no number, a client gone
  halfway) a 400.
"""

import contextlib
import io
import re

from flask import Request, request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import get_input_stream

from . import security_log
from .client_network import UNKNOWN_ADDRESS, canonical_address

# A body over MAX_CONTENT_LENGTH is read and dropped up to this size before the 413, so
# that the client has finished sending when the answer comes; past it the client may
# see a reset, as RFC 9112 allows a server that will not read a body.
DISCARD_LIMIT = 1024 * 1024

# RFC 6265 section 4.1.1: cookie-octet, optionally inside double quotes.
COOKIE_VALUE = re.compile(r'"?[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*"?')


# RFC 3986 host (a DNS name, IPv4, or [IPv6]) and port; label lengths checked apart.
HOST = re.compile(r"(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]{1,253})(?::(?P<port>\d{1,5}))?")


class SafeRequest(Request):
    """Flask's request with the cookie, address and body rules above."""

    def __init__(self, environ, *args, **kwargs):
        super().__init__(environ, *args, **kwargs)
        self.remote_addr = canonical_address(self.remote_addr)

    @cached_property
    def cookies(self):
        parsed = super().cookies
        valid = [(name, value) for name, value in parsed.items(multi=True) if COOKIE_VALUE.fullmatch(value)]
        return self.dict_storage_class(valid)

    @cached_property
    def stream(self):
        limit = self.max_content_length
        if limit is not None and self.content_length is not None and self.content_length > limit:
            # A length past DISCARD_LIMIT is refused at once: reading it would take long.
            self._too_large(self.content_length if self.content_length <= DISCARD_LIMIT else 0)
        terminated_by_server = "wsgi.input_terminated" in self.environ
        if self.content_length is not None or limit is None or not terminated_by_server:
            return get_input_stream(self.environ, max_content_length=limit)
        body = self._read(limit + 1)
        if len(body) > limit:
            self._too_large(DISCARD_LIMIT)
        return io.BytesIO(body)

    def _read(self, size):
        try:
            return self.environ["wsgi.input"].read(size)
        except Exception as error:
            # The server decodes the chunks as we read: a chunk size that is no number, or
            # a client gone before the last chunk, raises the server's own exception here.
            raise BadRequest("The request body could not be read.") from error

    def _too_large(self, length):
        """Raise 413, after reading (and dropping) up to ``DISCARD_LIMIT`` bytes of the body.

        Answering while the client is still sending makes the server hang up on it, and
        the client sees a reset instead of the 413 (and loses its kept-alive connection).
        """
        remaining = min(length, DISCARD_LIMIT)
        with contextlib.suppress(BadRequest):
            while remaining > 0 and (chunk := self._read(min(remaining, 65536))):
                remaining -= len(chunk)
        raise RequestEntityTooLarge()

    def _load_form_data(self):
        super()._load_form_data()
        # No form of this site takes a file. Flask-WTF hands file parts to the form like
        # text, and a file where a text field is expected crashed WTForms' validators.
        self.__dict__["files"] = self.parameter_storage_class()


class HostGuard:
    """WSGI middleware: a 400 before Flask for a Host or scheme that is none.

    Flask binds its URL map to the Host (and the scheme, both possibly from a trusted
    proxy's X-Forwarded-* headers) before any view or error handler runs. A host with
    a label longer than 63 characters, non-ASCII bytes or a broken port fails that
    binding, and then every ``url_for`` fails, error pages included. Valid: a DNS
    name, an IPv4 address or a bracketed IPv6 address, with an optional port; a valid
    Host goes on in lowercase.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        if environ.get("wsgi.url_scheme") not in ("http", "https") or not valid_host(host):
            return BadRequest("The Host header does not name a valid host.")(environ, start_response)
        if "HTTP_HOST" in environ:
            # Host names are case-insensitive (RFC 3986 3.2.2), Werkzeug's TRUSTED_HOSTS
            # check is not: "LOCALHOST" was refused where "localhost" was trusted.
            environ["HTTP_HOST"] = host.lower()
        return self.wsgi_app(environ, start_response)


def valid_host(host):
    """True for ``example.org``, ``127.0.0.1:8443``, ``[::1]:443``; ``host`` is a str."""
    match = HOST.fullmatch(host)
    if not match or (match.group("port") and int(match.group("port")) > 65535):
        return False
    name = match.group("name")
    return name.startswith("[") or all(0 < len(label) <= 63 for label in name.rstrip(".").split("."))


def init_app(app):
    """Use ``SafeRequest`` for every request, guard the Host, log addresses that are none."""
    app.request_class = SafeRequest
    app.wsgi_app = HostGuard(app.wsgi_app)
    app.before_request(log_unknown_address)


def log_unknown_address():
    # One shared bucket for every such client: the operator should hear about it,
    # since it usually means the proxy count (TRUSTED_PROXIES) is wrong.
    if request.remote_addr == UNKNOWN_ADDRESS:
        raw = request.environ.get("REMOTE_ADDR") or ""
        security_log.record("client_address_unknown", remote_addr=raw[:64])
