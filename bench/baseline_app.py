"""The baseline for the benchmark: Flask's own signed-cookie session, no store at all.

One route reads the signed-in name from the session, so every request still pays
for what a cookie session costs (verifying the HMAC, decoding the payload) but
never leaves the process. ``bench/run.py`` serves it with the same gunicorn
settings as the app and compares the app's dashboard against it.

    BASELINE_SECRET_KEY=... gunicorn --config gunicorn.conf.py "bench.baseline_app:create_app()"
"""

import os

from flask import Flask, session


def create_app(secret_key=None):
    """Build the baseline; the key comes from ``BASELINE_SECRET_KEY`` unless given."""
    app = Flask(__name__)
    app.secret_key = secret_key or os.environ["BASELINE_SECRET_KEY"]

    @app.get("/")
    def whoami():
        return f"Signed in as {session.get('name', 'nobody')}\n"

    return app


def session_cookie(app, name):
    """The cookie value Flask would set after ``session["name"] = name``."""
    return app.session_interface.get_signing_serializer(app).dumps({"name": name})
