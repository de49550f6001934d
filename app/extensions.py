"""The Flask extensions, created unbound: ``create_app`` binds each one to an app.

Nothing here reads the environment or opens a connection, so importing the package
is free of side effects and every test can build its own app.
"""

from flask_babel import gettext
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from .client_network import client_network
from .csrf_protection import RefererSafeCSRFProtect
from .key_rotation import KeyRotatingLoginManager
from .limiter import SafeMethodLimiter


def N_(message):
    """Mark ``message`` for translation without translating it yet."""
    return message


# Rows keep the values they were loaded with after a commit, instead of being read
# again on next use: a row that another request deleted meanwhile would otherwise
# raise in the middle of a request that began while it was valid.
db = SQLAlchemy(session_options={"expire_on_commit": False})
# `flask db ...`: the schema is made and changed only by the revisions in migrations/.
# Batch mode, because SQLite can alter little in place: a changed table is copied.
# Server defaults are compared too, so `flask db migrate` notices a changed default.
migrate = Migrate(render_as_batch=True, compare_server_default=True)
csrf = RefererSafeCSRFProtect()
login_manager = KeyRotatingLoginManager()
login_manager.login_view = "auth.login"
# A plain string, marked for extraction and translated when flashed: a lazy string
# in the session would not survive serialisation.
login_manager.login_message = N_("Please sign in to see that page.")
login_manager.localize_callback = gettext
login_manager.login_message_category = "info"
# Off: Flask-Login's protection hashes the raw X-Forwarded-For header, which the
# client chooses, and "basic" only marks a session non-fresh, which nothing here
# reads. Stolen sessions are handled by what the server controls: the sign-in row
# checked on every request, timeouts, revocation and re-authentication (app/sudo.py).
login_manager.session_protection = None
# Per-address limits count the client's address (its /64 for IPv6), taken from
# request.remote_addr, which only a configured ProxyFix may rewrite: a spoofed
# X-Forwarded-For header cannot dodge a limit. Safe requests that no limit of their
# route counts skip it (app/limiter.py).
limiter = SafeMethodLimiter(key_func=client_network)
# Flask-Mailman, configured by MAIL_*: SMTP in production. Messages are sent by the
# background sender of app/mail/, never inside a request.
mail = Mail()
