"""Security events as one JSON object per line, for a log pipeline to collect.

Threat: a log that leaks what it records. No password, token or session id is ever
written; where two events must be linked, ``fingerprint`` gives a short keyed hash
that cannot be reversed without the secret key.
"""

import hashlib
import hmac
import json
import logging

from flask import current_app, has_request_context, request

from .clock import utcnow


def init_app(app):
    logger = logging.getLogger(app.config["SECURITY_LOG_NAME"])
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def record(event, **fields):
    """Write one security event, e.g. ``record("login_failed", user_id=3)``."""
    entry = {"time": utcnow().isoformat(timespec="seconds"), "event": event}
    if has_request_context():
        entry["ip"] = request.remote_addr
    entry.update(fields)
    logging.getLogger(current_app.config["SECURITY_LOG_NAME"]).info(json.dumps(entry))


def fingerprint(value):
    """A short keyed hash of ``value``: stable for correlation, useless to a reader."""
    key = current_app.secret_key.encode() if isinstance(current_app.secret_key, str) else current_app.secret_key
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:12]
