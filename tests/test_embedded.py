"""The embedded default: the whole site works with no Redis server at all."""

import pytest

from tests.conftest import AuthActions


@pytest.fixture
def embedded_app(make_app, tmp_path):
    return make_app(embedded=True)


def test_embedded_store_needs_no_redis(embedded_app):
    assert embedded_app.config["SESSION_TYPE"] == "cachelib"
    assert "redis" not in embedded_app.extensions


def test_sign_up_in_and_out_on_the_embedded_store(embedded_app):
    auth = AuthActions(embedded_app, embedded_app.test_client())
    auth.create_user()
    auth.client.get("/auth/login")
    anonymous_id = auth.session_cookie()
    assert auth.login().status_code == 303
    signed_in_id = auth.session_cookie()
    assert signed_in_id != anonymous_id
    assert auth.client.get("/dashboard").status_code == 200

    auth.logout()
    replay = embedded_app.test_client()
    replay.set_cookie("__Host-session", signed_in_id)
    assert replay.get("/dashboard").status_code == 302


def test_embedded_sessions_are_files_readable_only_by_the_app(embedded_app):
    import os
    from pathlib import Path

    auth = AuthActions(embedded_app, embedded_app.test_client())
    auth.create_user()
    auth.login()
    files = [
        path for path in (Path(embedded_app.instance_path) / "sessions").iterdir() if not path.name.startswith("__")
    ]
    assert files
    assert all(os.stat(path).st_mode & 0o077 == 0 for path in files)


def test_embedded_rate_limits_count_in_memory(embedded_app):
    auth = AuthActions(embedded_app, embedded_app.test_client())
    auth.create_user()
    for _ in range(5):
        auth.login(password="wrong password")
    assert auth.login(password="wrong password").status_code == 429


def test_health_reports_the_embedded_store(embedded_app):
    response = embedded_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["redis"] == "embedded"
