"""The state of every service the app depends on: what ``/healthz`` answers, and one log line per change.

Threat: a silent outage. With its Redis stopped, Flask-Limiter counts in each
process's memory instead (a guesser spread over N processes gets N times every
limit) and says so only to a logger that has nothing but a NullHandler; the
health check said "ok". Now each dependency has a state:

- ``redis``, the session store: ``ok``, ``unreachable``, or ``embedded`` (files,
  the development setup);
- ``rate_limits``, Flask-Limiter's storage (RATE_LIMIT_REDIS_URL's server, else
  REDIS_URL's): ``ok``, ``unreachable``, ``fallback`` (it answers again, but
  Flask-Limiter still counts per process until its next probe, which a request
  makes 1, 2, 4 ... 32 s after the one before), ``embedded`` (memory, the
  development setup) or ``disabled`` (RATELIMIT_ENABLED=False);
- ``database``: ``ok`` or ``unreachable``;
- ``mail``: how the last message went, since mail is sent off the request path
  (app/mail/): ``ok`` (or none sent yet), ``unreachable`` (the mail server refused
  or did not answer), ``unconfigured`` (no sender address or base URL), or
  ``outbox`` (files in instance/outbox/, the development setup).

On a Redis Cluster, ``ok`` means that every primary answers: one stopped primary
holds a share of the sessions and counters, so the cluster is degraded.

``check()`` probes all three, for ``/healthz``: ``{"status": "ok" or "degraded",
"redis": ..., "rate_limits": ..., "database": ..., "mail": ...}``, degraded (and a 503) as soon
as one state is not in ``HEALTHY``.

Each process remembers the last state it saw of each dependency and logs a WARNING
when one degrades and an INFO when it recovers, on the logger ``app.health``: one
line per change, never one per request. Changes are seen when ``/healthz`` probes,
and for the rate limiter also at the end of every request, because Flask-Limiter
switches to its fallback, and back, inside ordinary requests.
"""

import logging
import threading

from flask import current_app
from limits.storage import MemoryStorage
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from . import redis_connection
from .extensions import db, limiter

HEALTHY = {"ok", "embedded", "disabled", "outbox"}


def init_app(app):
    logger = app.logger.getChild("health")
    # The app's logger passes WARNING and up only; a recovery is worth its line too.
    logger.setLevel(logging.INFO)
    app.extensions["health"] = Health(logger)
    app.teardown_request(_notice_the_limiter_switching)


class Health:
    """The last state this process saw of each dependency, logged when it changes health."""

    def __init__(self, logger):
        self.logger = logger
        self.states = {}
        self.limiter_in_fallback = False
        # gunicorn threads share this object: each change is logged by one of them.
        self.lock = threading.Lock()

    def observe(self, name, state):
        with self.lock:
            self._observe(name, state)

    def observe_limiter(self, in_fallback):
        with self.lock:
            if in_fallback != self.limiter_in_fallback:
                self.limiter_in_fallback = in_fallback
                # Flask-Limiter leaves its fallback only after its storage answered a probe.
                self._observe("rate_limits", "fallback" if in_fallback else "ok")

    def _observe(self, name, state):
        # Never seen counts as healthy: a process that starts during an outage says so.
        was_healthy = self.states.get(name, "ok") in HEALTHY
        self.states[name] = state
        if was_healthy and state not in HEALTHY:
            self.logger.warning("%s degraded: %s", name, state)
        elif not was_healthy and state in HEALTHY:
            self.logger.info("%s recovered: %s", name, state)


def check():
    """Probe every dependency: ``({"status": ..., name: state, ...}, healthy)``."""
    health = current_app.extensions["health"]
    states = {
        "redis": _session_store(),
        "rate_limits": _rate_limits(),
        "database": _database(),
        "mail": _mail(health),
    }
    for name, state in states.items():
        health.observe(name, state)
    healthy = all(state in HEALTHY for state in states.values())
    return {"status": "ok" if healthy else "degraded", **states}, healthy


def _session_store():
    client = current_app.extensions.get("redis")
    if client is None:
        return "embedded"
    return "ok" if _answers(client) else "unreachable"


def _rate_limits():
    # Disabled, Flask-Limiter has no storage at all: limiter.limiter raises AssertionError.
    if not limiter.enabled:
        return "disabled"
    if isinstance(limiter.storage, MemoryStorage):
        return "embedded"
    if not _answers(limiter.storage.get_connection()):
        return "unreachable"
    if _counting_in_fallback():
        return "fallback"
    return "ok"


def _answers(client):
    # On a cluster, every primary: each holds a share of the sessions and counters.
    try:
        redis_connection.ping(client)
    except redis_connection.ERRORS:
        return False
    return True


def _database():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return "unreachable"
    return "ok"


def _mail(health):
    if current_app.config["MAIL_BACKEND"] == "app.mail.outbox":
        return "outbox"
    # Probing the mail server here would open an SMTP connection per health check.
    return health.states.get("mail", "ok")


def _counting_in_fallback():
    # Public API only: while its storage is dead, Flask-Limiter's ``limiter`` is the
    # in-memory fallback strategy, whose storage is not the configured one.
    return limiter.limiter.storage is not limiter.storage


def _notice_the_limiter_switching(_error):
    if limiter.enabled:
        current_app.extensions["health"].observe_limiter(_counting_in_fallback())
