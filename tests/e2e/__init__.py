"""End-to-end tests: the production app under gunicorn over HTTPS, driven by headless Chromium."""
