"""Peer 4, the bare floor: one route, Flask's signed-cookie session, no page.

What Flask and gunicorn cost on this machine before any app does anything: the
route reads the signed-in name from the session, so every request pays for the
cookie session (verifying the HMAC, decoding the payload), and answers one line.
No real app can be faster; the benchmark shows how far each is from it.

    BENCH_SECRET_KEY=... gunicorn --config gunicorn.conf.py "bench.peers.floor:create_app()"
"""

import os

from flask import Flask, session

NAME_KEY = "name"


def create_app(secret_key=None):
    """The floor; the key comes from ``BENCH_SECRET_KEY`` unless given."""
    app = Flask(__name__)
    app.secret_key = secret_key or os.environ["BENCH_SECRET_KEY"]
    app.add_url_rule("/", view_func=whoami)
    return app


def whoami():
    return f"Signed in as {session.get(NAME_KEY, 'nobody')}\n"


def session_cookie(app, name):
    """The signed cookie that holds ``session["name"] = name``."""
    client = app.test_client()
    with client.session_transaction() as new_session:
        new_session[NAME_KEY] = name
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
