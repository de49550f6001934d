"""Fixtures: a real Redis for the whole run, a fresh app and database per test."""

import itertools
import os
import re
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flask_migrate
import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text

from app import create_app, redis_connection
from app.extensions import db
from app.models import User
from app.passwords import hash_password
from app.tokens import sha256_hex
from tests.support.mail import Mailbox
from tests.support.processes import RedisCluster, RedisSentinel, RedisServer
from tests.support.tools import require

TEST_SECRET_KEY = "k3Yf0rTh3T3stSu1te-8d1c6b0e2f9a4c7d5e3b1a0f"
NEWEST_REVISIONS = tuple(ScriptDirectory(str(Path(__file__).resolve().parent.parent / "migrations")).get_heads())
CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="session")
def redis_url(request, tmp_path_factory):
    """A real Redis: TEST_REDIS_URL if set (it gets flushed!), else a throwaway one.

    ``TEST_REDIS_TOPOLOGY`` picks what the throwaway one is: ``single`` (the default),
    ``sentinel`` (a primary and a sentinel) or ``cluster`` (three primaries).
    """
    if os.environ.get("TEST_REDIS_URL"):
        return os.environ["TEST_REDIS_URL"]
    require(
        shutil.which("redis-server") is not None,
        "redis-server not found: install it (apt-get install redis-server) or set TEST_REDIS_URL",
    )
    topology = os.environ.get("TEST_REDIS_TOPOLOGY", "single")
    if topology == "cluster":
        cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster")).start()
        request.addfinalizer(cluster.stop)
        return cluster.url
    if topology == "sentinel":
        directory = tmp_path_factory.mktemp("redis-sentinel")
        primary = RedisServer(directory / "primary").start()
        request.addfinalizer(primary.stop)
        sentinel = RedisSentinel(directory / "sentinel", primary.port)
        sentinel.start()
        request.addfinalizer(sentinel.stop)
        return sentinel.url
    server = request.getfixturevalue("redis_proc")
    return f"redis://{server.host}:{server.port}/0"


def flush_redis(url):
    """Empty the suite's Redis, whatever its topology, with the app's own client."""
    client = redis_connection.client_from_config(
        {"REDIS_URL": url, "REDIS_CONNECT_TIMEOUT": 2, "REDIS_SOCKET_TIMEOUT": 2, "REDIS_RETRIES": 1}
    )
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """A SQLite database made by the migrations once per run, for tests to copy."""
    path = tmp_path_factory.mktemp("migrated") / "newest.db"
    app = create_app(
        {"APP_ENV": "testing", "SECRET_KEY": TEST_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"},
        instance_path=path.parent / "instance",
    )
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return path


def empty_database(app):
    """Drop every table, Alembic's own too: a shared TEST_DATABASE_URL may hold an interrupted run's."""
    with app.app_context():
        tables = MetaData()
        tables.reflect(db.engine)
        tables.drop_all(db.engine)


@pytest.fixture(scope="session")
def migrated_this_run():
    """The shared databases (TEST_DATABASE_URL) that this run has migrated already."""
    return set()


def give_newest_schema(app, request):
    """Give the app's database the schema the migrations make, and no rows.

    Running every revision for each app would cost 30 to 50 ms, and more with each
    new revision; so they run once, and each app starts from what they made.
    """
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            # A copy of the run's migrated database.
            migrated = request.getfixturevalue("migrated_sqlite")
            with closing(sqlite3.connect(migrated)) as source, db.engine.connect() as connection:
                source.backup(connection.connection.driver_connection)
            return
        migrated = request.getfixturevalue("migrated_this_run")
        with db.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
        # A migration test may have left it at another revision, or without a schema.
        if db.engine.url in migrated and current == NEWEST_REVISIONS:
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {', '.join(db.metadata.tables)} RESTART IDENTITY"))
        else:
            # Whatever an earlier run, or another checkout's, left there goes.
            empty_database(app)
            flask_migrate.upgrade()
            migrated.add(db.engine.url)


@pytest.fixture
def make_app(tmp_path, request):
    """Build an app with test settings; Redis-backed unless ``embedded=True``.

    Its database has the schema the migrations make, never ``db.create_all()``'s.
    """
    numbers = itertools.count()
    made = []

    def make(embedded=False, create_tables=True, **overrides):
        settings = {
            "APP_ENV": "testing",
            "SECRET_KEY": TEST_SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.db'}",
        }
        if not embedded and "REDIS_URL" not in overrides:
            settings["REDIS_URL"] = request.getfixturevalue("redis_url")
        settings.update(overrides)
        if create_tables and settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            # Made first: the app that runs the migrations binds the process-wide rate
            # limiter to its own storage, which must not be the last binding.
            request.getfixturevalue("migrated_sqlite")
        app = create_app(settings, instance_path=tmp_path / f"instance{next(numbers)}")
        made.append(app)
        if create_tables:
            give_newest_schema(app, request)
        return app

    yield make
    # An app that sent mail stays alive in its sender thread, and with it its pool of
    # database connections: closed here, or a PostgreSQL run runs out of connections.
    for app in made:
        with app.app_context():
            db.engine.dispose()
    # Only the suite's own Redis is wiped; tests may point apps at a dead address.
    if "redis_url" in request.fixturenames:
        flush_redis(request.getfixturevalue("redis_url"))


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture(params=["redis", "embedded"])
def any_backend_app(request, make_app):
    """For behaviour that must hold on Redis and on the embedded file store alike."""
    return make_app(embedded=request.param == "embedded")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def redis_client(app):
    return app.extensions["redis"]


class SessionStore:
    """Looks into whichever session store the app uses, by session id."""

    def __init__(self, app):
        self.interface = app.session_interface

    def holds(self, session_id):
        return self.interface._retrieve_session_data(self.interface._get_store_id(session_id)) is not None

    def count(self):
        if "redis" in self.interface.__class__.__name__.lower():
            return sum(1 for _ in self.interface.client.scan_iter(self.interface.key_prefix + "*"))
        return sum(1 for path in Path(self.interface.cache._path).iterdir() if not path.name.startswith("__"))


@pytest.fixture
def store(app):
    return SessionStore(app)


def store_key(session_id):
    """The Redis key of a session: made from the id's hash, never the id itself."""
    return "session:" + sha256_hex(session_id)


def csrf_token_from(response):
    match = CSRF_PATTERN.search(response.get_data(as_text=True))
    assert match, "the page has no CSRF token"
    return match.group(1)


class FakeClock:
    """Stands in for ``app.clock.utcnow``; ``advance`` moves time without sleeping."""

    def __init__(self):
        self.now = datetime.now(UTC)

    def __call__(self):
        return self.now

    def advance(self, **duration):
        self.now += timedelta(**duration)


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr("app.clock.utcnow", fake)
    return fake


class AuthActions:
    """Sign up, in and out through the real forms, CSRF token included."""

    def __init__(self, app, client):
        self.app = app
        self.client = client

    def create_user(self, username="alice", password="correct horse battery"):
        with self.app.app_context():
            user = User(username=username, password_hash=hash_password(password))
            db.session.add(user)
            db.session.commit()
            return user.id

    def token(self, path="/auth/login"):
        return csrf_token_from(self.client.get(path))

    def login(self, username="alice", password="correct horse battery", remember=False, path="/auth/login"):
        data = {"username": username, "password": password, "csrf_token": self.token()}
        if remember:
            data["remember"] = "y"
        return self.client.post(path, data=data)

    def logout(self):
        token = self.token("/dashboard")
        return self.client.post("/auth/logout", data={"csrf_token": token})

    def session_cookie(self):
        cookie = self.client.get_cookie(self.app.config["SESSION_COOKIE_NAME"])
        return cookie.value if cookie else None


@pytest.fixture
def auth(app, client):
    return AuthActions(app, client)


@pytest.fixture
def signed_in(auth):
    """Alice, signed in with her password a moment ago."""
    auth.create_user()
    auth.login()
    return auth


@pytest.fixture
def mailbox(app):
    return Mailbox(app)
