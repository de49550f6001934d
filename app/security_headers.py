"""Security headers on every response.

Each header closes a door a browser would otherwise leave open:

- Content-Security-Policy: scripts, styles and images only from this site, no
  inline code, no plugins, no <base> rewriting, forms post only here, and no
  framing (threats: XSS that slipped past escaping, clickjacking);
- Strict-Transport-Security: the browser never tries plain HTTP again, so a
  network attacker cannot strip TLS and read the session cookie;
- X-Content-Type-Options: nosniff, so an upload or a JSON body is never run as script;
- Referrer-Policy: same-origin, so URLs never leak to other sites, while Flask-WTF's
  HTTPS referrer check (which needs a same-origin Referer) keeps working;
- Permissions-Policy, Cross-Origin-Opener-Policy, Cross-Origin-Resource-Policy:
  no powerful features, no window handle for other sites, no embedding of our
  responses by other origins;
- Cache-Control: no-store on every page that is not a static file, so a shared
  computer or proxy never serves one user's page to the next (threat: cache leaks).
"""

from flask import current_app, request

CONTENT_SECURITY_POLICY = "; ".join(
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
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers too old for frame-ancestors
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "accelerometer=(), gyroscope=(), magnetometer=(), browsing-topics=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def init_app(app):
    # The list is made once per app: setting eight headers one by one with
    # setdefault would scan the response's headers sixteen times per request.
    headers = dict(HEADERS)
    if app.config["STRICT_TRANSPORT_SECURITY"]:
        headers["Strict-Transport-Security"] = app.config["STRICT_TRANSPORT_SECURITY"]
    app.extensions["security_headers"] = tuple((name.lower(), name, value) for name, value in headers.items())
    app.after_request(add_security_headers)


def add_security_headers(response):
    """Add each security header the view has not set itself; ``no-store`` on all but static files."""
    present = set(response.headers.keys(lower=True))
    response.headers.extend(
        [(name, value) for lower, name, value in current_app.extensions["security_headers"] if lower not in present]
    )
    # Static files may be cached; an error page never: it may show who is signed in.
    if request.endpoint != "static" or response.status_code >= 400:
        response.headers["Cache-Control"] = "no-store"
    return response
