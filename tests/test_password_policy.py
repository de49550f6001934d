"""NIST SP 800-63B password rules: long is good, common or personal is not."""

import pytest

from app.password_policy import common_passwords, problem_with
from tests.conftest import csrf_token_from


def test_the_bundled_list_holds_at_least_ten_thousand_passwords():
    assert len(common_passwords()) >= 10_000
    assert {"password", "123456", "qwerty"} <= common_passwords()


@pytest.mark.parametrize("password", ["password1", "iloveyou", "Qwertyuiop", "baseball1"])
def test_common_passwords_are_refused(password):
    assert "most common" in problem_with(password, "alice")


def test_passwords_containing_the_username_are_refused():
    assert "must not contain your username" in problem_with("xxAliceSmithxx", "alicesmith")


@pytest.mark.parametrize("password", ["correct horse battery", "Tr0ub4dor&3-but-longer", "ünïcødé pässwörd"])
def test_long_unusual_passwords_need_no_composition_rules(password):
    assert problem_with(password, "alice") is None


def register(client, username, password):
    token = csrf_token_from(client.get("/auth/register"))
    return client.post(
        "/auth/register", data={"username": username, "password": password, "confirm": password, "csrf_token": token}
    )


def test_sign_up_refuses_a_common_password_with_a_clear_message(client):
    response = register(client, "alice", "password123")
    assert response.status_code == 400
    assert "one of the most common ones" in response.get_data(as_text=True)


def test_sign_up_refuses_a_password_containing_the_username(client):
    response = register(client, "walrus", "my-walrus-is-great")
    assert response.status_code == 400
    assert "must not contain your username" in response.get_data(as_text=True)


def test_sign_up_accepts_128_characters(client):
    assert register(client, "alice", "x1y2" * 32).status_code == 303


def test_password_change_applies_the_same_policy(auth):
    auth.create_user()
    auth.login()
    page = auth.client.get("/account/password")
    response = auth.client.post(
        "/account/password",
        data={
            "current_password": "correct horse battery",
            "new_password": "letmein1",
            "confirm": "letmein1",
            "csrf_token": csrf_token_from(page),
        },
    )
    assert response.status_code == 400
    assert "most common" in response.get_data(as_text=True)
