"""Health: /healthz shows every dependency, and each process logs a change of health once.

Outages here are real: a redis-server of the test's own is stopped and started
again, and a SQLite file in a missing folder cannot be opened until it exists.
"""

import logging
import time

import pytest

from app.extensions import limiter
from app.health import Health
from tests.conftest import AuthActions
from tests.support.processes import RedisServer, wait_until

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once
ALL_OK = {"status": "ok", "redis": "ok", "rate_limits": "ok", "database": "ok", "mail": "ok"}
# Flask-Limiter probes a dead storage 1, 2, 4 ... 32 s after the previous probe.
LIMITER_RECOVERY_DEADLINE = 70


def health_log(caplog):
    return [(record.levelname, record.getMessage()) for record in caplog.records if record.name == "app.health"]


class StoppableRedis:
    """A redis-server of the test's own, stopped and started again on the same port."""

    def __init__(self, directory):
        self.directory = directory
        self.server = RedisServer(directory).start()

    @property
    def url(self):
        return self.server.url

    def stop(self):
        self.server.stop()

    def start(self):
        self.server = RedisServer(self.directory, port=self.server.port).start()


def counting_in_fallback():
    return limiter.limiter.storage is not limiter.storage


@pytest.fixture
def redis_to_stop(tmp_path):
    server = StoppableRedis(tmp_path / "redis-to-stop")
    yield server
    server.stop()


@pytest.fixture
def rate_limit_outage(make_app, redis_to_stop):
    """An app whose rate-limit counters live in ``redis_to_stop``; the sessions' Redis stays up."""
    app = make_app(RATE_LIMIT_REDIS_URL=redis_to_stop.url)
    yield app
    # Flask-Limiter is one object for the whole test run: a test that failed while it
    # counted in memory must not leave the next tests' apps in its fallback.
    if counting_in_fallback():
        if redis_to_stop.server.process.poll() is not None:
            redis_to_stop.start()
        wait_for_the_limiter_to_leave_its_fallback(app.test_client())


def wait_for_the_limiter_to_leave_its_fallback(client):
    wait_until(
        lambda: client.get("/").status_code == 200 and not counting_in_fallback(),
        timeout=LIMITER_RECOVERY_DEADLINE,
        what="Flask-Limiter to use its Redis again",
    )


@pytest.mark.parametrize(
    ("settings", "status", "expected"),
    [
        ({}, 200, {}),
        ({"embedded": True}, 200, {"redis": "embedded", "rate_limits": "embedded"}),
        ({"RATELIMIT_ENABLED": False}, 200, {"rate_limits": "disabled"}),
        ({"REDIS_URL": DEAD_REDIS}, 503, {"redis": "unreachable", "rate_limits": "unreachable"}),
        ({"RATE_LIMIT_REDIS_URL": DEAD_REDIS}, 503, {"rate_limits": "unreachable"}),
        (
            {"create_tables": False, "SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:1/none"},
            503,
            {"database": "unreachable"},
        ),
    ],
)
def test_healthz_reports_every_dependency(make_app, settings, status, expected):
    app = make_app(**settings)
    client = app.test_client()
    response = client.get("/healthz")
    body = {**ALL_OK, **expected, "status": "ok" if status == 200 else "degraded"}
    assert (response.status_code, response.get_json()) == (status, body)
    # Pages still answer, and watching the limiter never breaks a request.
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("states", "lines"),
    [
        (["ok", "ok"], []),
        (["embedded"], []),
        (["disabled"], []),
        (["unreachable"], [("WARNING", "redis degraded: unreachable")]),
        (
            ["ok", "unreachable", "unreachable", "unreachable", "ok", "ok"],
            [("WARNING", "redis degraded: unreachable"), ("INFO", "redis recovered: ok")],
        ),
        # Still down, for another reason: nothing new to say.
        (
            ["unreachable", "fallback", "ok"],
            [("WARNING", "redis degraded: unreachable"), ("INFO", "redis recovered: ok")],
        ),
        (
            ["ok", "unreachable", "ok", "unreachable"],
            [
                ("WARNING", "redis degraded: unreachable"),
                ("INFO", "redis recovered: ok"),
                ("WARNING", "redis degraded: unreachable"),
            ],
        ),
    ],
)
def test_a_change_of_health_is_logged_once(caplog, states, lines):
    logger = logging.getLogger("app.health")
    logger.setLevel(logging.INFO)
    health = Health(logger)
    for state in states:
        health.observe("redis", state)
    assert health_log(caplog) == lines


def test_a_stopped_rate_limit_redis_shows_in_healthz_and_is_logged_once_each_way(
    rate_limit_outage, redis_to_stop, caplog
):
    """The reported outage: limits quietly counted per process, nothing logged, /healthz "ok"."""
    auth = AuthActions(rate_limit_outage, rate_limit_outage.test_client())
    auth.create_user()
    assert auth.client.get("/healthz").get_json() == ALL_OK

    redis_to_stop.stop()
    for _ in range(3):
        response = auth.client.get("/healthz")
        assert response.status_code == 503
        assert response.get_json() == {**ALL_OK, "status": "degraded", "rate_limits": "unreachable"}
        assert auth.login(password="wrong password").status_code == 401
    assert counting_in_fallback()

    # Flask-Limiter probes its storage at a request (any but a static file) once the
    # last probe is 1 s old, then 2 s, 4 s ...: after this one, the next is 2 s away.
    time.sleep(1.1)
    auth.client.get("/")
    redis_to_stop.start()
    # Back, but the limiter counts in memory until its next probe: not "ok" yet.
    response = auth.client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {**ALL_OK, "status": "degraded", "rate_limits": "fallback"}
    wait_for_the_limiter_to_leave_its_fallback(auth.client)
    for _ in range(3):
        assert auth.client.get("/healthz").get_json() == ALL_OK

    assert health_log(caplog) == [
        ("WARNING", "rate_limits degraded: unreachable"),
        ("INFO", "rate_limits recovered: ok"),
    ]


def test_the_limiter_falling_back_is_logged_even_if_nobody_asks_healthz(rate_limit_outage, redis_to_stop, caplog):
    auth = AuthActions(rate_limit_outage, rate_limit_outage.test_client())
    auth.create_user()

    redis_to_stop.stop()
    # Limits still hold, counted in this process: the sixth wrong password in a minute is refused.
    answers = [auth.login(password="wrong password").status_code for _ in range(6)]
    assert answers == [401] * 5 + [429]
    assert health_log(caplog) == [("WARNING", "rate_limits degraded: fallback")]

    redis_to_stop.start()
    wait_for_the_limiter_to_leave_its_fallback(auth.client)
    assert health_log(caplog) == [
        ("WARNING", "rate_limits degraded: fallback"),
        ("INFO", "rate_limits recovered: ok"),
    ]


def test_a_stopped_session_redis_is_logged_once_each_way(make_app, redis_to_stop, caplog):
    app = make_app(REDIS_URL=redis_to_stop.url)
    client = app.test_client()

    redis_to_stop.stop()
    for _ in range(3):
        assert client.get("/healthz").get_json() == {
            **ALL_OK,
            "status": "degraded",
            "redis": "unreachable",
            "rate_limits": "unreachable",
        }
    redis_to_stop.start()
    for _ in range(3):
        assert client.get("/healthz").get_json() == ALL_OK

    assert sorted(health_log(caplog)) == [
        ("INFO", "rate_limits recovered: ok"),
        ("INFO", "redis recovered: ok"),
        ("WARNING", "rate_limits degraded: unreachable"),
        ("WARNING", "redis degraded: unreachable"),
    ]


def test_a_database_that_cannot_be_opened_is_logged_once_each_way(make_app, tmp_path, caplog):
    folder = tmp_path / "not-there-yet"
    app = make_app(create_tables=False, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'app.db'}")
    client = app.test_client()

    for _ in range(3):
        assert client.get("/healthz").get_json() == {**ALL_OK, "status": "degraded", "database": "unreachable"}
    folder.mkdir()
    for _ in range(3):
        assert client.get("/healthz").get_json() == ALL_OK

    assert health_log(caplog) == [("WARNING", "database degraded: unreachable"), ("INFO", "database recovered: ok")]
