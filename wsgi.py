"""Entry point for gunicorn and ``flask --app wsgi``: ``gunicorn wsgi:app``."""

from app import create_app
from config import InsecureConfigError

try:
    app = create_app()
except InsecureConfigError as error:
    # One clear line and a non-zero exit; a traceback would bury the reason.
    raise SystemExit(f"Refusing to start: {error}") from None
