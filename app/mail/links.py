"""Absolute links for messages, built from ``PUBLIC_BASE_URL`` and nothing else.

Threat: Host-header poisoning. ``url_for(..., _external=True)`` inside a request
takes the host from the request, which the client writes: an attacker who asks for
a password reset for the victim with ``Host: evil.example`` would get the victim
sent a real reset link to evil.example, and the token with it when it is clicked.
Messages are composed on the sender thread, where there is no request at all; the
links there can only come from configuration.
"""

from urllib.parse import urlsplit

from flask import current_app


class NoPublicBaseURL(RuntimeError):
    """``PUBLIC_BASE_URL`` is not set: no link can be built, so no message is sent."""


def external_url(endpoint, **values):
    """The absolute URL of ``endpoint`` on the public site, e.g. https://example.org/auth/reset?token=..."""
    base_url = current_app.config["PUBLIC_BASE_URL"]
    if not base_url:
        raise NoPublicBaseURL()
    parts = urlsplit(base_url)
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme)
    return adapter.build(endpoint, values, force_external=True)
