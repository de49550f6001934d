"""Idle and absolute timeouts on the server, and sliding expiry without a write per request."""

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from app.extensions import db
from tests.support import redis_stats


@pytest.fixture
def app(any_backend_app):
    return any_backend_app


def test_an_idle_session_ends_after_the_idle_timeout(signed_in, clock):
    clock.advance(minutes=29)
    assert signed_in.client.get("/dashboard").status_code == 200
    clock.advance(minutes=30, seconds=1)
    assert signed_in.client.get("/dashboard").status_code == 302


def test_activity_keeps_a_session_alive_past_the_idle_timeout(signed_in, clock):
    for _ in range(4):
        clock.advance(minutes=20)
        assert signed_in.client.get("/dashboard").status_code == 200


def test_timeouts_are_configurable(make_app, clock):
    from tests.conftest import AuthActions

    app = make_app(IDLE_TIMEOUT=120)
    auth = AuthActions(app, app.test_client())
    auth.create_user()
    auth.login()
    clock.advance(seconds=121)
    assert auth.client.get("/dashboard").status_code == 302


def test_a_remembered_sign_in_survives_idleness_until_its_absolute_limit(auth, clock):
    auth.create_user()
    auth.login(remember=True)
    clock.advance(days=3)
    assert auth.client.get("/dashboard").status_code == 200
    clock.advance(days=27, seconds=1)
    assert auth.client.get("/dashboard").status_code == 302


def test_dashboard_shows_both_deadlines(signed_in):
    text = signed_in.client.get("/dashboard").get_data(as_text=True)
    assert "Ends if unused" in text and "after 30 minutes without a request" in text
    assert "Ends at the latest" in text


def test_steady_reads_save_the_session_at_most_once_a_minute(app, signed_in, clock, monkeypatch):
    """Sliding expiry without a write per request, on either store, and no SQL writes."""
    signed_in.client.get("/dashboard")  # the first page after sign-in stores a new CSRF secret
    saves = []
    rewrite = app.session_interface._rewrite
    monkeypatch.setattr(app.session_interface, "_rewrite", lambda *args: saves.append(args) or rewrite(*args))
    with count_sql_writes(app) as sql_writes:
        for _ in range(30):
            assert signed_in.client.get("/dashboard").status_code == 200
        assert saves == [] and sql_writes == []

        clock.advance(seconds=61)
        for _ in range(30):
            assert signed_in.client.get("/dashboard").status_code == 200
        assert len(saves) == 1
        assert len(sql_writes) == 1 and sql_writes[0].upper().startswith("UPDATE SIGN_INS")


def test_steady_reads_send_redis_at_most_one_set_a_minute(make_app, clock):
    """The same, counted by Redis itself."""
    from tests.conftest import AuthActions

    app = make_app()
    auth = AuthActions(app, app.test_client())
    auth.create_user()
    auth.login()
    auth.client.get("/dashboard")  # the first page after sign-in stores a new CSRF secret
    redis_client = app.extensions["redis"]
    redis_stats.reset_stats(redis_client)
    for _ in range(30):
        auth.client.get("/dashboard")
    assert set_calls(redis_client) == 0
    clock.advance(seconds=61)
    for _ in range(30):
        auth.client.get("/dashboard")
    assert set_calls(redis_client) == 1


def set_calls(redis_client):
    return redis_stats.calls(redis_client, "set")


@contextmanager
def count_sql_writes(app):
    writes = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement.strip())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield writes
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_after_an_idle_timeout_the_sign_in_page_says_the_session_ended(signed_in, clock):
    clock.advance(minutes=30, seconds=1)
    response = signed_in.client.get("/dashboard")
    assert response.status_code == 302
    page = signed_in.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your session in this browser has ended. Sessions end after 30 minutes of inactivity" in page
    # Said once: the mark is gone with that page.
    assert "has ended" not in signed_in.client.get("/auth/login").get_data(as_text=True)


def test_after_signing_out_the_sign_in_page_says_nothing_has_ended(signed_in):
    signed_in.logout()
    assert "has ended" not in signed_in.client.get("/auth/login").get_data(as_text=True)
