"""Idle and absolute timeouts on the server, and sliding expiry without a write per request."""

import pytest
from sqlalchemy import event

from app.extensions import db


@pytest.fixture
def signed_in(auth):
    auth.create_user()
    auth.login()
    return auth


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


def test_steady_reads_write_the_store_at_most_once_a_minute(app, signed_in, redis_client, clock):
    """Sliding expiry without a write per request: count Redis SETs and SQL writes."""
    signed_in.client.get("/dashboard")  # settles Flask-Login's one-time "_id" marker
    sql_writes = []

    def count_writes(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            sql_writes.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count_writes)
    try:
        redis_client.config_resetstat()
        for _ in range(30):
            assert signed_in.client.get("/dashboard").status_code == 200
        assert set_calls(redis_client) == 0
        assert sql_writes == []

        clock.advance(seconds=61)
        for _ in range(30):
            assert signed_in.client.get("/dashboard").status_code == 200
        assert set_calls(redis_client) == 1
        assert len(sql_writes) == 1 and sql_writes[0].lstrip().upper().startswith("UPDATE SIGN_INS")
    finally:
        event.remove(engine, "before_cursor_execute", count_writes)


def set_calls(redis_client):
    return redis_client.info("commandstats").get("cmdstat_set", {}).get("calls", 0)
