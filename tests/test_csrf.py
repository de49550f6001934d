"""CSRF: every POST needs the token from this session's form, and a bad one changes nothing."""

import pytest

from app.extensions import db
from app.models import SignIn, User
from app.tokens import sha256_hex
from tests.conftest import csrf_token_from


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


@pytest.mark.parametrize(
    "headers",
    [{}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "same-site"}],
)
def test_logout_without_a_token_is_400_and_keeps_the_user_signed_in(auth, headers):
    """A form on another site must not be able to sign people out either."""
    auth.create_user()
    auth.login()
    assert auth.client.post("/auth/logout", headers=headers).status_code == 400
    assert auth.client.get("/dashboard").status_code == 200


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://localhost"}])
def test_a_sign_out_form_left_open_past_the_idle_timeout_still_signs_out(app, auth, store, headers, caplog):
    """The shared computer: the session ended while the page sat open, remember-me is on."""
    auth.create_user()
    auth.login(remember=True)
    stale_token = auth.token("/dashboard")
    # The idle timeout ended the session in the store; the remember cookie is still there.
    app.session_interface.delete_by_hash(sha256_hex(auth.session_cookie()))
    assert auth.client.get_cookie(app.config["REMEMBER_COOKIE_NAME"]) is not None

    response = auth.client.post("/auth/logout", data={"csrf_token": stale_token}, headers=headers)

    assert response.status_code == 303
    assert auth.client.get_cookie(app.config["REMEMBER_COOKIE_NAME"]) is None
    # The accepted failure is on the record like any other.
    log = [record.getMessage() for record in caplog.records if record.name == "security"]
    assert any('"event": "csrf_failed"' in line and '"accepted": "sign-out from this site"' in line for line in log)
    assert auth.client.get("/dashboard").status_code == 302
    with app.app_context():
        assert db.session.query(SignIn).count() == 0


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


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "https://localhost",  # another scheme
        "http://localhost:8080",  # another port
        "http://localhost.evil.example",
        "http://evil.example@localhost",  # not an origin at all
        "http://localhost:99999",
        "http://[::1",
        "",
    ],
)
def test_a_valid_token_sent_from_another_origin_is_400_and_signs_nobody_in(app, auth, origin):
    """Defence in depth: a leaked token replayed from a page on another site still fails."""
    auth.create_user()
    data = {"username": "alice", "password": "correct horse battery", "csrf_token": auth.token()}
    response = auth.client.post("/auth/login", data=data, headers={"Origin": origin})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.query(SignIn).count() == 0


@pytest.mark.parametrize("origin", ["http://localhost", "HTTP://LOCALHOST:80"])
def test_this_sites_own_origin_passes(auth, origin):
    auth.create_user()
    data = {"username": "alice", "password": "correct horse battery", "csrf_token": auth.token()}
    assert auth.client.post("/auth/login", data=data, headers={"Origin": origin}).status_code == 303


@pytest.mark.parametrize(
    "headers, status",
    [
        # A browser set never to send a Referer still sends Origin: this site's passes.
        ({"Origin": "https://localhost"}, 303),
        ({}, 400),
        ({"Origin": "https://evil.example"}, 400),
        ({"Origin": "http://localhost"}, 400),
        ({"Origin": "null"}, 400),
        ({"Origin": "https://localhost", "Referer": "https://evil.example/"}, 400),
    ],
)
def test_over_https_a_form_without_a_referer_passes_only_with_this_sites_origin(app, auth, headers, status):
    auth.create_user()
    browser = app.test_client()
    page = browser.get("/auth/login", base_url="https://localhost")
    data = {"username": "alice", "password": "correct horse battery", "csrf_token": csrf_token_from(page)}
    response = browser.post("/auth/login", base_url="https://localhost", data=data, headers=headers)
    assert response.status_code == status
