"""CSRF: every POST needs the token from this session's form, and a bad one changes nothing."""

import pytest

from app.extensions import db
from app.models import SignIn, User


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_login_without_a_valid_token_is_400_and_signs_nobody_in(app, auth, token):
    auth.create_user()
    data = {"username": "alice", "password": "correct horse battery"}
    if token is not None:
        data["csrf_token"] = token
    response = auth.client.post("/auth/login", data=data)
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert auth.client.get("/dashboard").status_code == 302
    with app.app_context():
        assert db.session.query(SignIn).count() == 0


def test_register_without_a_token_is_400_and_creates_no_account(app, client):
    response = client.post(
        "/auth/register",
        data={"username": "mallory", "password": "a long password", "confirm": "a long password"},
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_logout_without_a_token_is_400_and_keeps_the_user_signed_in(auth):
    """A cross-site form must not be able to sign people out either."""
    auth.create_user()
    auth.login()
    assert auth.client.post("/auth/logout").status_code == 400
    assert auth.client.get("/dashboard").status_code == 200


def test_a_token_from_another_session_is_rejected(app, auth):
    auth.create_user()
    other_browser = app.test_client()
    from tests.conftest import csrf_token_from

    foreign_token = csrf_token_from(other_browser.get("/auth/login"))
    auth.client.get("/auth/login")
    response = auth.client.post(
        "/auth/login",
        data={"username": "alice", "password": "correct horse battery", "csrf_token": foreign_token},
    )
    assert response.status_code == 400


def test_csrf_failures_are_logged_as_security_events(auth, caplog):
    auth.client.post("/auth/login", data={"username": "alice", "password": "x"})
    assert any('"event": "csrf_failed"' in record.getMessage() for record in caplog.records)
