"""gunicorn settings for the container and for local production-like runs.

Workers and threads come from the environment; the access log is one JSON object
per line, without query strings (they may carry ``next`` targets or tokens).
"""

import gc
import json
import os
from datetime import UTC, datetime

from gunicorn.glogging import Logger

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
# On SIGTERM, finish requests in flight for up to this long before stopping.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# A listening socket per worker (SO_REUSEPORT), so the kernel spreads connections over
# the workers. With one shared socket the workers race to accept: a burst of
# keep-alive connections could all land on one worker while the other idled (3 runs
# of 8 here, at 40% of the throughput; tests/integration/test_worker_balance.py). The price: a
# worker that is restarted drops the connections still waiting in its own queue (with
# a shared socket it drops only those it had already taken).
reuse_port = True
accesslog = "-"
errorlog = "-"
# The app's ProxyFix alone decides which X-Forwarded-* headers to believe.
forwarded_allow_ips = ""


def post_worker_init(worker):
    """Hide what the app built at start-up from Python's cyclic garbage collector.

    The loaded app (modules, routes, extensions) is about 136,000 objects that live as
    long as the worker. Each full collection walked them all: a pause of 70-80 ms every
    few thousand requests here, felt by every request waiting on that worker at the time
    (the p99 of `make bench`). gc.freeze() moves them to a generation that is never
    collected; a full collection then walks only what requests made (3 ms measured).
    """
    gc.freeze()


class JsonAccessLogger(Logger):
    """Access log lines as JSON, so quotes in a user agent cannot break the format."""

    def access(self, resp, req, environ, request_time):
        if not self.cfg.accesslog:
            return
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "remote": environ.get("REMOTE_ADDR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            # resp.status ("400 Bad Request"): gunicorn's own error answers have no status_code.
            "status": int(str(resp.status).split()[0]),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "user_agent": environ.get("HTTP_USER_AGENT", "")[:200],
        }
        self.access_log.info(json.dumps(entry))


logger_class = JsonAccessLogger
