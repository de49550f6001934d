"""Per-account limits: guesses from many addresses are capped, the owner is not locked out."""

import math

import pytest

from app import account_throttle
from tests.conftest import AuthActions, csrf_token_from


def from_address(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return AuthActions(app, client)


@pytest.fixture
def owner(app):
    actions = from_address(app, "192.0.2.1")
    actions.create_user()
    return actions


def spray(app, count, username="alice"):
    """Wrong passwords from ``count`` different addresses, one each."""
    return [from_address(app, f"198.51.100.{n}").login(username, "wrong password").status_code for n in range(count)]


def test_guesses_from_many_addresses_are_capped_per_account(app, owner):
    assert spray(app, 11) == [401] * 10 + [429]


def test_the_429_says_when_to_retry(app, owner):
    spray(app, 10)
    response = from_address(app, "203.0.113.1").login("alice", "wrong password")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60


def test_the_429_page_and_its_retry_after_name_the_same_wait(app, owner):
    # The account's bucket (15 minutes) refuses, not the new address's own limit (a minute).
    spray(app, 10)
    response = from_address(app, "203.0.113.1").login("alice", "wrong password")
    wait = int(response.headers["Retry-After"])
    assert 14 * 60 < wait <= 15 * 60
    assert f"Please wait {math.ceil(wait / 60)} minutes" in response.get_data(as_text=True)


def test_unknown_usernames_are_limited_the_same_way(app, owner):
    """Otherwise the limit itself would tell which accounts exist."""
    assert spray(app, 11, username="nobody") == [401] * 10 + [429]


def test_a_known_device_is_not_locked_out_by_an_attack(app, owner):
    assert owner.login().status_code == 303
    assert owner.client.get_cookie("__Host-device") is not None
    owner.logout()
    spray(app, 12)
    assert owner.login().status_code == 303


def test_a_new_device_waits_during_an_attack(app, owner):
    spray(app, 10)
    assert from_address(app, "203.0.113.9").login().status_code == 429


def test_a_device_cookie_of_another_account_grants_no_bucket(app, owner):
    owner.login()
    device_cookie = owner.client.get_cookie("__Host-device").value
    owner.logout()
    mallory = from_address(app, "203.0.113.50")
    mallory.create_user("mallory", "another long password")
    spray(app, 10, username="mallory")
    mallory.client.set_cookie("__Host-device", device_cookie)
    assert mallory.login("mallory", "another long password").status_code == 429


def test_a_forged_device_cookie_is_ignored(app, owner):
    spray(app, 10)
    attacker = from_address(app, "203.0.113.66")
    attacker.client.set_cookie("__Host-device", "eyJ1c2VyIjoxLCJub25jZSI6Inh4In0.forged")
    assert attacker.login().status_code == 429


def test_device_cookie_flags(app, owner):
    response = owner.login()
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("__Host-device="))
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header


def test_a_successful_sign_in_empties_the_bucket(app, owner):
    assert spray(app, 9) == [401] * 9
    assert owner.login().status_code == 303  # no device cookie yet: the account's own bucket
    assert [from_address(app, f"203.0.113.{n}").login(password="wrong password").status_code for n in range(11)] == [
        401
    ] * 10 + [429]


def test_device_cookies_from_before_a_password_change_grant_no_bucket(app, owner):
    """Someone who once knew the password kept the device cookie they got then."""
    former = from_address(app, "203.0.113.70")
    assert former.login().status_code == 303
    former.logout()
    assert owner.login().status_code == 303
    page = owner.client.get("/account/password")
    new_password = "a brand new passphrase"
    owner.client.post(
        "/account/password",
        data={
            "current_password": "correct horse battery",
            "new_password": new_password,
            "confirm": new_password,
            "csrf_token": csrf_token_from(page),
        },
    )
    spray(app, 10)
    # Their old device cookie now counts in the account's bucket, which is full.
    assert former.login(password="a guess at the new one").status_code == 429
    # The owner's browser got a new cookie with the new password: it still has its own.
    owner.logout()
    assert owner.login(password=new_password).status_code == 303


def test_a_device_cookie_in_the_old_readable_format_grants_no_bucket(app, owner):
    """Cookies that named the user id in readable JSON are no longer accepted (they told
    how many accounts exist); a browser that had one is known again after its next sign-in."""
    from itsdangerous import URLSafeSerializer

    with app.test_request_context():
        old_style = URLSafeSerializer(app.config["SECRET_KEY"], salt=account_throttle.DEVICE_COOKIE_SALT).dumps(
            {"user": 1, "password": 0, "nonce": "issued-before-the-upgrade"}
        )
    spray(app, 10)
    owner.client.set_cookie("__Host-device", old_style)
    assert owner.login().status_code == 429
