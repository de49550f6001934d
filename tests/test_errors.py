"""Every error is a friendly page with the right status, never a traceback."""

import pytest


def test_404_is_friendly(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "There is no page at this address." in response.get_data(as_text=True)


def test_405_is_friendly(client):
    response = client.delete("/auth/login")
    assert response.status_code == 405
    assert "does not accept" in response.get_data(as_text=True)


def test_oversized_body_is_413_and_changes_nothing(app, client):
    from app.extensions import db
    from app.models import User

    response = client.post("/auth/register", data={"username": "alice", "password": "x" * 100_000})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(User).count() == 0


@pytest.mark.parametrize("cookie", ["", "x", "a" * 4000, "../../etc/passwd", "\u00e9t\u00e9", "' OR 1=1 --"])
def test_tampered_session_cookies_are_treated_as_anonymous(client, cookie):
    client.set_cookie("__Host-session", cookie)
    assert client.get("/dashboard").status_code == 302
    assert client.get("/auth/login").status_code == 200


def test_unexpected_errors_are_a_friendly_500(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "secret detail" not in body and "Traceback" not in body


def test_database_outage_is_a_503(make_app, tmp_path):
    app = make_app(create_tables=False, SQLALCHEMY_DATABASE_URI="postgresql://nobody@127.0.0.1:1/none")
    from tests.conftest import csrf_token_from

    client = app.test_client()
    token = csrf_token_from(client.get("/auth/login"))
    response = client.post("/auth/login", data={"username": "alice", "password": "whatever1", "csrf_token": token})
    assert response.status_code == 503
    assert client.get("/").status_code == 200
    assert client.get("/healthz").get_json()["database"] == "unreachable"


def test_404_keeps_the_signed_in_menu_and_the_language_switch(auth):
    auth.create_user()
    auth.login()
    body = auth.client.get("/no-such-page").get_data(as_text=True)
    assert "Signed in as" in body and 'action="/auth/logout"' in body
    assert 'hreflang="de"' in body


def test_a_500_still_shows_a_visitors_page_without_the_menu(make_app):
    from tests.conftest import AuthActions

    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("failed")

    auth = AuthActions(app, app.test_client())
    auth.create_user()
    auth.login()
    body = auth.client.get("/boom").get_data(as_text=True)
    assert "Signed in as" not in body and 'hreflang="de"' not in body
