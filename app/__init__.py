"""The application factory: one screen that shows everything the app is made of."""

from inspect import iscoroutinefunction
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import load_config

from . import (
    commands,
    errors,
    form_fields,
    health,
    http_input,
    i18n,
    key_rotation,
    mail,
    passwords,
    rate_limits,
    security_headers,
    security_log,
    sessions,
    sign_ins,
    template_translations,
    urls,
)
from .account.views import bp as account_bp
from .auth.views import bp as auth_bp
from .dashboard.views import bp as dashboard_bp
from .extensions import csrf, db, login_manager, migrate
from .main.views import bp as main_bp
from .recovery.views import bp as recovery_bp
from .second_factors.views import bp as second_factors_bp

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_KNOWN_FUNCTIONS = 1024


class SecureSessionsFlask(Flask):
    """Flask, with templates compiled once per language, and a store outage logged as one line.

    The user gets a 503 page either way (app/errors.py); a traceback per request
    during a Redis outage would only bury the one line that matters.
    """

    jinja_environment = template_translations.LanguageEnvironment

    def create_global_jinja_loader(self):
        return template_translations.LanguageLoader(super().create_global_jinja_loader(), i18n.LANGUAGES)

    def log_exception(self, exc_info):
        if isinstance(exc_info[1], sessions.SessionStoreUnavailable):
            self.logger.warning("session store unreachable while saving a session")
            return
        super().log_exception(exc_info)

    def url_for(self, endpoint, **values):
        return urls.url_for(self, endpoint, values)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Function -> whether it is a coroutine function (ensure_sync).
        self.coroutine_functions = {}

    def ensure_sync(self, func):
        # Flask asks inspect whether each hook and view is a coroutine function on every
        # request (eleven times per page); the answer for a function never changes.
        # Hooks, views and error handlers are a fixed set: the bound is only a backstop.
        is_coroutine = self.coroutine_functions.get(func)
        if is_coroutine is None:
            is_coroutine = iscoroutinefunction(func)
            if len(self.coroutine_functions) < MAX_KNOWN_FUNCTIONS:
                self.coroutine_functions[func] = is_coroutine
        return self.async_to_sync(func) if is_coroutine else func


def create_app(overrides=None, instance_path=None):
    """Build the app for ``APP_ENV`` (or ``overrides["APP_ENV"]``, as tests do)."""
    app = SecureSessionsFlask(
        __name__,
        instance_path=str(instance_path or PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    load_config(app, overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    # The guard goes on first so that it checks what ProxyFix made of the headers.
    http_input.init_app(app)
    trust_proxies(app)
    security_log.init_app(app)
    register_extensions(app)
    health.init_app(app)
    register_blueprints(app)
    urls.init_app(app)
    form_fields.init_app(app)
    security_headers.init_app(app)
    errors.init_app(app)
    commands.init_app(app)
    return app


def trust_proxies(app):
    """Believe X-Forwarded-* only from the number of proxies we run ourselves.

    Threat: a client that writes its own X-Forwarded-For to dodge rate limits or
    fake its address in logs. With the default of 0 those headers are ignored.
    """
    count = app.config["TRUSTED_PROXIES"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count)


def register_extensions(app):
    db.init_app(app)
    # An absolute path: `flask db` and the tests find the revisions from any directory.
    migrate.init_app(app, db, directory=PROJECT_ROOT / "migrations")
    sessions.init_app(app)
    key_rotation.init_app(app)
    csrf.init_app(app)
    passwords.init_app(app)
    rate_limits.init_app(app)
    mail.init_app(app)

    i18n.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(sign_ins.load_user)


def register_blueprints(app):
    for blueprint in (main_bp, auth_bp, dashboard_bp, account_bp, recovery_bp, second_factors_bp):
        app.register_blueprint(blueprint)
