"""Rotating the secret key signs nobody out and loses no form."""

import pytest

from tests.conftest import TEST_SECRET_KEY, AuthActions, csrf_token_from

NEW_KEY = "n3w-r0t4t3d-k3y-9f8e7d6c5b4a3f2e1d0c9b8a7f6e"


@pytest.fixture
def before_and_after(make_app, tmp_path):
    """The same deployment before and after a rotation: same Redis, same database."""
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    old = make_app(SQLALCHEMY_DATABASE_URI=database)
    new = make_app(SQLALCHEMY_DATABASE_URI=database, SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[TEST_SECRET_KEY])
    return old, new


def test_sessions_survive_a_rotation(before_and_after):
    old, new = before_and_after
    auth = AuthActions(old, old.test_client())
    auth.create_user()
    auth.login()
    rotated = new.test_client()
    rotated.set_cookie("__Host-session", auth.session_cookie())
    assert rotated.get("/dashboard").status_code == 200


def test_remember_cookies_survive_a_rotation_and_are_reissued(before_and_after):
    old, new = before_and_after
    auth = AuthActions(old, old.test_client())
    auth.create_user()
    auth.login(remember=True)
    remember = auth.client.get_cookie("__Host-remember").value

    browser = new.test_client()
    browser.set_cookie("__Host-remember", remember)
    assert browser.get("/dashboard").status_code == 200
    reissued = browser.get_cookie("__Host-remember").value
    assert reissued != remember

    # Signed with the new key alone (its token is new too: every restore replaces it).
    without_fallback = new.test_client()
    new.config["SECRET_KEY_FALLBACKS"] = []
    without_fallback.set_cookie("__Host-remember", reissued)
    assert without_fallback.get("/dashboard").status_code == 200


def test_a_remember_cookie_signed_with_an_unknown_key_gets_nothing(make_app, before_and_after):
    old, new = before_and_after
    auth = AuthActions(old, old.test_client())
    auth.create_user()
    auth.login(remember=True)
    remember = auth.client.get_cookie("__Host-remember").value
    new.config["SECRET_KEY_FALLBACKS"] = []
    browser = new.test_client()
    browser.set_cookie("__Host-remember", remember)
    assert browser.get("/dashboard").status_code == 302


def test_a_form_rendered_before_the_rotation_still_validates(before_and_after):
    old, new = before_and_after
    auth = AuthActions(old, old.test_client())
    auth.create_user()
    token = csrf_token_from(auth.client.get("/auth/login"))

    browser = new.test_client()
    # The visitor cookie that holds the form's CSRF secret was signed with the old key too.
    browser.set_cookie("__Host-visitor", auth.client.get_cookie("__Host-visitor").value)
    response = browser.post(
        "/auth/login", data={"username": "alice", "password": "correct horse battery", "csrf_token": token}
    )
    assert response.status_code == 303


def test_new_forms_are_signed_with_the_new_key(before_and_after):
    from itsdangerous import BadSignature, URLSafeTimedSerializer

    _, new = before_and_after
    token = csrf_token_from(new.test_client().get("/auth/login"))
    URLSafeTimedSerializer(NEW_KEY, salt="wtf-csrf-token").loads(token)
    with pytest.raises(BadSignature):
        URLSafeTimedSerializer(TEST_SECRET_KEY, salt="wtf-csrf-token").loads(token)
