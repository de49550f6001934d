"""Sign-up, sign-in and sign-out through the real forms, with CSRF on."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import SignIn, User
from app.passwords import hash_password
from tests.conftest import csrf_token_from

GOOD_PASSWORD = "correct horse battery"


def register(client, username="alice", password=GOOD_PASSWORD, confirm=None):
    token = csrf_token_from(client.get("/auth/register"))
    return client.post(
        "/auth/register",
        data={
            "username": username,
            "password": password,
            "confirm": password if confirm is None else confirm,
            "csrf_token": token,
        },
    )


def test_register_signs_the_new_user_in(client):
    response = register(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard"
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "Hello, alice" in page.get_data(as_text=True)


def test_register_stores_an_argon2id_hash_not_the_password(app, client):
    register(client)
    with app.app_context():
        stored = User.find_by_username("alice").password_hash
    assert stored.startswith("$argon2id$")
    assert GOOD_PASSWORD not in stored


def test_usernames_are_unique_without_regard_to_case(app, client):
    register(client, "Alice")
    client.post("/auth/logout", data={"csrf_token": csrf_token_from(client.get("/dashboard"))})
    response = register(client, "aLICE")
    assert response.status_code == 400
    assert "That username is taken." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(User).count() == 1


@pytest.mark.parametrize(
    ("username", "password", "confirm", "message"),
    [
        ("al", GOOD_PASSWORD, None, "between 3 and 32"),
        ("a" * 33, GOOD_PASSWORD, None, "between 3 and 32"),
        ("alice smith", GOOD_PASSWORD, None, "Use only letters"),
        ("<script>", GOOD_PASSWORD, None, "Use only letters"),
        ("alice\x00", GOOD_PASSWORD, None, "Use only letters"),
        ("alice", "short", None, "between 8 and 256"),
        ("alice", "x" * 257, None, "between 8 and 256"),
        ("alice", GOOD_PASSWORD, "something else", "The passwords do not match."),
        ("alice", "pass\x00word12", None, "not allowed"),
        ("", GOOD_PASSWORD, None, "This field is required."),
    ],
)
def test_register_rejects_bad_input_with_a_400(app, client, username, password, confirm, message):
    response = register(client, username, password, confirm)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_long_passwords_are_accepted_and_never_truncated(auth):
    password = "p" * 200
    auth.create_user(password=password)
    assert auth.login(password=password[:-1]).status_code == 401
    assert auth.login(password=password).status_code == 303


def test_login_with_valid_credentials_goes_to_the_dashboard(auth):
    auth.create_user()
    response = auth.login()
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard"
    assert auth.client.get("/dashboard").status_code == 200


def test_login_ignores_case_of_the_username(auth):
    auth.create_user("Alice")
    assert auth.login("ALICE").status_code == 303


def test_unknown_user_and_wrong_password_get_the_same_answer(auth):
    auth.create_user()
    unknown = auth.login("nobody")
    wrong = auth.login("alice", "wrong password")
    assert unknown.status_code == wrong.status_code == 401
    assert "Invalid username or password." in unknown.get_data(as_text=True)
    # Same page, apart from the per-request CSRF token.
    strip = lambda response: csrf_pattern_sub(response.get_data(as_text=True))  # noqa: E731
    assert strip(unknown) == strip(wrong)


def csrf_pattern_sub(html):
    import re

    return re.sub(r'value="[^"]*"', "", html)


def test_login_rehashes_a_password_made_with_old_parameters(app, auth):
    from argon2 import PasswordHasher

    with app.app_context():
        old_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(GOOD_PASSWORD)
        db.session.add(User(username="alice", password_hash=old_hash))
        db.session.commit()
    assert auth.login().status_code == 303
    with app.app_context():
        new_hash = User.find_by_username("alice").password_hash
    assert new_hash != old_hash
    assert "m=8192,t=1,p=1" in new_hash


def test_logout_is_a_post_and_ends_the_sign_in(app, auth):
    auth.create_user()
    auth.login()
    assert auth.client.get("/auth/logout").status_code == 405
    response = auth.logout()
    assert response.status_code == 303
    assert auth.client.get("/dashboard").status_code == 302
    with app.app_context():
        assert db.session.query(SignIn).count() == 0


def test_signed_in_user_visiting_login_goes_to_the_dashboard(auth):
    auth.create_user()
    auth.login()
    response = auth.client.get("/auth/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_dashboard_requires_login_and_remembers_where_to_return(client):
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=%2Fdashboard"


def test_login_follows_a_local_next_path(auth):
    auth.create_user()
    response = auth.login(path="/auth/login?next=/dashboard%3Ftab%3D1")
    assert response.headers["Location"] == "/dashboard?tab=1"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "/\\evil.com",
        "https://evil.com",
        "https:evil.com",
        "%2F%2Fevil.com",
        "javascript:alert(1)",
        "/\t/evil.com",
        "/\n/evil.com",
        "/\r\n/evil.com",
        "\x00/evil.com",
        "evil.com",
        "///evil.com",
    ],
)
def test_login_never_redirects_off_site(auth, target):
    from urllib.parse import quote

    auth.create_user()
    response = auth.login(path="/auth/login?next=" + quote(target, safe=""))
    assert response.status_code == 303
    assert response.headers["Location"] == "/dashboard"


def test_two_sign_ups_for_one_name_at_once_give_one_account_and_a_400(app, client, monkeypatch):
    """Both pass the form's "taken?" check; the database's unique index picks one."""
    from app.auth import forms

    token = csrf_token_from(client.get("/auth/register"))
    data = {"username": "Alice", "password": "a long passphrase", "confirm": "a long passphrase", "csrf_token": token}
    # The other request commits between this one's check and its insert.
    monkeypatch.setattr(forms.User, "find_by_username", classmethod(lambda cls, name: None))
    with app.app_context():
        db.session.add(User(username="alice", password_hash=hash_password("something else entirely")))
        db.session.commit()

    response = client.post("/auth/register", data=data)

    assert response.status_code == 400
    assert "That username is taken." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_sign_out_is_confirmed_without_creating_a_session(app, auth, store):
    auth.create_user()
    auth.login()
    response = auth.logout()
    assert response.headers["Location"] == "/?signed_out=1"
    sessions_before = store.count()
    page = auth.client.get(response.headers["Location"])
    assert "You are signed out." in page.get_data(as_text=True)
    assert "Set-Cookie" not in page.headers
    assert auth.session_cookie() is None
    assert store.count() == sessions_before
