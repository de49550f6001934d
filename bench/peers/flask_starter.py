"""Peers 1 and 2: the typical Flask starter, and the same with Flask-Session on Redis.

Peer 1 is what tutorials and cookiecutters build: Flask-Login loading the user from
SQL (Flask-SQLAlchemy) on every request, Flask-WTF forms with a CSRF token, and
Flask's own signed-cookie session. Peer 2 is the same app with Flask-Session's
defaults on Redis, as the guides set it up: sessions are permanent and refreshed on
every request, so each request reads its session with a ``GET`` and writes it back
with a ``SET``.

Both serve ``/dashboard`` and ``/auth/login`` as the project does (templates in
``bench/peers/templates``), with its security headers, behind the same pretend TLS
proxy (``ProxyFix``, one hop). They enforce none of the project's timeouts and
cannot revoke a session: that is what the comparison is about.

    BENCH_SECRET_KEY=... BENCH_DATABASE_URL=sqlite:///... \\
        gunicorn --config gunicorn.conf.py "bench.peers.flask_starter:create_app()"
    ... BENCH_REDIS_URL=redis://... gunicorn ... "bench.peers.flask_starter:create_redis_session_app()"
"""

import os
from datetime import UTC, datetime
from pathlib import Path

import redis
from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_session import Session
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect, FlaskForm
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from bench.peers.page import SECURITY_HEADERS, dashboard_facts

PROJECT_ROOT = Path(__file__).resolve().parents[2]

db = SQLAlchemy()
login_manager = LoginManager()
csrf = CSRFProtect()
bp = Blueprint("starter", __name__)


class User(UserMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(32), unique=True, nullable=False)
    password_hash = db.Column(db.String(256), nullable=False)


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=32)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    remember = BooleanField("Keep me signed in on this device")


def create_app(secret_key=None, database_url=None):
    """Peer 1; settings from ``BENCH_SECRET_KEY`` and ``BENCH_DATABASE_URL`` unless given."""
    app = Flask(__name__, static_folder=str(PROJECT_ROOT / "static"))
    app.config.update(
        SECRET_KEY=secret_key or os.environ["BENCH_SECRET_KEY"],
        SQLALCHEMY_DATABASE_URI=database_url or os.environ["BENCH_DATABASE_URL"],
        SESSION_COOKIE_SECURE=True,
        REMEMBER_COOKIE_SECURE=True,
    )
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "starter.login"
    app.register_blueprint(bp)
    app.after_request(add_security_headers)
    return app


def create_redis_session_app(secret_key=None, database_url=None, redis_url=None):
    """Peer 2: peer 1 with Flask-Session's defaults on Redis (``BENCH_REDIS_URL`` unless given)."""
    app = create_app(secret_key, database_url)
    app.config.update(
        SESSION_TYPE="redis",
        SESSION_REDIS=redis.Redis.from_url(redis_url or os.environ["BENCH_REDIS_URL"]),
    )
    Session(app)
    return app


def create_user(app, username, password):
    """Make the table and one user (the bench does this before serving the app)."""
    with app.app_context():
        db.create_all()
        db.session.add(User(username=username, password_hash=generate_password_hash(password)))
        db.session.commit()


@login_manager.user_loader
def load_user(user_id):
    return db.session.get(User, int(user_id))


def add_security_headers(response):
    response.headers.update(SECURITY_HEADERS)
    if request.endpoint == "static":
        del response.headers["Cache-Control"]
    return response


@bp.route("/auth/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("starter.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).filter_by(username=form.username.data))
        if user is not None and check_password_hash(user.password_hash, form.password.data):
            login_user(user, remember=form.remember.data)
            session["signed_in_at"] = datetime.now(UTC)
            session["signed_in_from"] = request.remote_addr
            return redirect(url_for("starter.dashboard"), 303)
        flash("Invalid username or password.")
        return render_template("login.html", form=form), 401
    return render_template("login.html", form=form)


@bp.post("/auth/logout")
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("starter.login"), 303)


@bp.get("/dashboard")
@login_required
def dashboard():
    facts = dashboard_facts(
        signed_in_at=session["signed_in_at"],
        address=session["signed_in_from"],
        session_cookie=request.cookies[current_app.config["SESSION_COOKIE_NAME"]],
        session_keys=session.keys(),
    )
    return render_template("dashboard.html", **facts)
