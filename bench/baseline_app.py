"""The two reference apps of the benchmark: one route, no template, no extension but one.

``create_app`` is the baseline the targets are measured against: Flask's own
signed-cookie session, no store at all. Its one route reads the signed-in name from
the session, so every request still pays for what a cookie session costs (verifying
the HMAC, decoding the payload) but never leaves the process.

``create_redis_app`` is the same route with Flask-Session keeping the session in
Redis, configured like nothing but that: one ``GET`` per request. It is the floor
for any app whose sessions live in Redis, ours included: whatever the dashboard does
on top (loading the sign-in from SQL, rendering the page, headers, rate limiter)
can only make it slower than this.

``bench/run.py`` serves both with the same gunicorn settings as the app::

    BASELINE_SECRET_KEY=... gunicorn --config gunicorn.conf.py "bench.baseline_app:create_app()"
    BASELINE_SECRET_KEY=... BASELINE_REDIS_URL=redis://... gunicorn ... "bench.baseline_app:create_redis_app()"
"""

import os

import redis
from flask import Flask, session
from flask_session import Session

NAME_KEY = "name"


def create_app(secret_key=None):
    """The cookie-session baseline; the key comes from ``BASELINE_SECRET_KEY`` unless given."""
    app = Flask(__name__)
    app.secret_key = secret_key or os.environ["BASELINE_SECRET_KEY"]
    app.add_url_rule("/", view_func=whoami)
    return app


def create_redis_app(secret_key=None, redis_url=None):
    """The same route with Flask-Session on Redis (``BASELINE_REDIS_URL`` unless given)."""
    app = create_app(secret_key)
    app.config.update(
        SESSION_TYPE="redis",
        SESSION_REDIS=redis.Redis.from_url(redis_url or os.environ["BASELINE_REDIS_URL"]),
        # Its own key prefix, so the bench can count the app's sessions apart.
        SESSION_KEY_PREFIX="baseline:",
        # As in the app: a session is written when it changes, not on every request.
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    Session(app)
    return app


def whoami():
    return f"Signed in as {session.get(NAME_KEY, 'nobody')}\n"


def session_cookie(app, name):
    """The cookie value after ``session["name"] = name``, for either app.

    For the cookie baseline this is the signed payload itself; for the Redis app it
    is the id of a session that this call stores in Redis.
    """
    client = app.test_client()
    with client.session_transaction() as new_session:
        new_session[NAME_KEY] = name
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
