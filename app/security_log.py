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

from . import activity_log, clock, user_agents
from .extensions import db
from .models import SecurityEvent


def init_app(app):
    logger = logging.getLogger(app.config["SECURITY_LOG_NAME"])
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def record(event, user_id=None, **fields):
    """Write one security event, e.g. ``record("login_failed", user_id=3)``.

    Events of an account are also stored for its owner's activity page.
    """
    now = clock.utcnow()
    entry = {"time": now.isoformat(timespec="seconds"), "event": event}
    ip_address = client = None
    if has_request_context():
        ip_address = entry["ip"] = request.remote_addr
        client = user_agents.describe(request.user_agent.string)
    if user_id is not None:
        entry["user_id"] = user_id
        db.session.add(
            SecurityEvent(user_id=user_id, event=event, created_at=now, ip_address=ip_address, client=client)
        )
        activity_log.prune(user_id)
        db.session.commit()
    entry.update(fields)
    logging.getLogger(current_app.config["SECURITY_LOG_NAME"]).info(json.dumps(entry))


def fingerprint(value):
    """A short keyed hash of ``value``: stable for correlation, useless to a reader."""
    key = current_app.secret_key.encode() if isinstance(current_app.secret_key, str) else current_app.secret_key
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:12]
