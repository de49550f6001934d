"""Integration tests: the app under gunicorn, over TLS, against real Redis and databases."""
