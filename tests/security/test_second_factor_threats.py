"""One test per second-factor row of docs/THREAT_MODEL.md, named for the attack it plays.

The attacker here knows the password (that is what a second factor is for), or holds
a copy of a victim's cookies. Real Redis, CSRF on, the clock under the test's control.
"""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.recovery.models import EmailToken
from app.second_factors.models import Authenticator
from tests.conftest import AuthActions, csrf_token_from
from tests.support.second_factors import (
    PASSWORD,
    add_app,
    add_passkey,
    code_at,
    passkey_answer,
    reauthenticate,
    submit_code,
)
from tests.support.soft_authenticator import SoftPasskey


@pytest.fixture
def victim(auth, clock):
    """Alice, signed in, with an authenticator app; returns (auth, secret)."""
    auth.create_user()
    auth.login()
    secret, _ = add_app(auth, clock)
    return auth, secret


def attacker(app, address="203.0.113.66"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return AuthActions(app, client)


def half_signed_in(app, address="203.0.113.66"):
    browser = attacker(app, address)
    assert browser.login().headers["Location"] == "/auth/second-factor"
    return browser


def test_browsing_protected_pages_while_half_signed_in(app, victim):
    browser = half_signed_in(app)
    for page in ("/dashboard", "/account/sessions", "/account/export", "/account/activity", "/account/second-factor"):
        response = browser.client.get(page)
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login"), page
    assert browser.session_cookie() is None
    # Anything that takes a signed-in user's form is refused as for a visitor.
    token = csrf_token_from(browser.client.get("/auth/login"))
    removal = browser.client.post("/account/second-factor/app/remove", data={"csrf_token": token})
    assert removal.status_code == 302 and removal.headers["Location"].startswith("/auth/login")
    with app.app_context():
        assert db.session.scalar(select(Authenticator)) is not None


def test_a_wrong_password_creates_no_half_signed_in_state(app, victim, redis_client):
    before = set(redis_client.scan_iter("second-factor:*"))
    assert attacker(app).login(password="a wrong guess").status_code == 401
    assert set(redis_client.scan_iter("second-factor:*")) == before == set()


def test_code_replay(app, victim, clock):
    _, secret = victim
    owner = half_signed_in(app, "198.51.100.1")
    code = code_at(secret, clock.now)
    assert submit_code(owner.client, code).status_code == 303
    # Seen over the shoulder, in the same 30 seconds, or in the next ones.
    thief = half_signed_in(app)
    assert submit_code(thief.client, code).status_code == 401
    clock.advance(seconds=30)
    assert submit_code(thief.client, code).status_code == 401
    assert thief.client.get("/dashboard").status_code == 302


def test_code_brute_force_across_tabs_and_addresses(app, victim):
    # Five wrong codes end a half-signed-in state, however many tabs share it ...
    first = half_signed_in(app, "203.0.113.1")
    second_tab = first.client
    statuses = [submit_code(second_tab if n % 2 else first.client, f"{n:06d}").status_code for n in range(5)]
    assert statuses == [401] * 5
    # (From another address: this one has used its 5 failures a minute.)
    first.client.environ_base["REMOTE_ADDR"] = "203.0.113.11"
    assert submit_code(first.client, "000009").headers["Location"] == "/auth/login"
    # ... and every password and code counts against the account's 10 per 15 minutes,
    # whichever address it comes from. (1 password + 5 codes above.)
    second = half_signed_in(app, "203.0.113.2")
    assert [submit_code(second.client, f"{n:06d}").status_code for n in range(10, 13)] == [401] * 3
    assert submit_code(second.client, "000013").status_code == 429
    assert attacker(app, "203.0.113.3").login().status_code == 429


def test_a_replayed_visitor_cookie_cannot_reset_the_wrong_code_count(app, victim):
    browser = half_signed_in(app)
    saved = browser.client.get_cookie(app.config["VISITOR_COOKIE_NAME"]).value
    for number in range(4):
        assert submit_code(browser.client, f"{number:06d}").status_code == 401
    browser.client.set_cookie(app.config["VISITOR_COOKIE_NAME"], saved)
    assert submit_code(browser.client, "000004").status_code == 401
    browser.client.environ_base["REMOTE_ADDR"] = "203.0.113.67"  # past the per-address limit
    assert submit_code(browser.client, "000005").headers["Location"] == "/auth/login"


def test_the_half_signed_in_state_after_five_minutes(app, victim, clock):
    _, secret = victim
    browser = half_signed_in(app)
    clock.advance(minutes=5, seconds=1)
    late = submit_code(browser.client, code_at(secret, clock.now))
    assert late.status_code == 303 and late.headers["Location"] == "/auth/login"
    assert browser.client.get("/dashboard").status_code == 302


def test_the_half_signed_in_state_belongs_to_its_browser(app, victim, clock):
    _, secret = victim
    half_signed_in(app)
    other = attacker(app, "203.0.113.99")
    assert submit_code(other.client, code_at(secret, clock.now)).headers["Location"] == "/auth/login"
    assert other.client.get("/dashboard").status_code == 302


def test_csrf_on_factor_removal(app, victim):
    auth, _ = victim
    for data in ({}, {"csrf_token": "forged"}):
        assert auth.client.post("/account/second-factor/app/remove", data=data).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Authenticator)) is not None


def test_removing_a_factor_from_a_stolen_session_without_reauthentication(app, victim, clock):
    auth, _ = victim
    thief = attacker(app)
    thief.client.set_cookie(app.config["SESSION_COOKIE_NAME"], auth.session_cookie())
    clock.advance(minutes=11)
    token = csrf_token_from(thief.client.get("/account/second-factor"))
    for path in ("/account/second-factor/app/remove", "/account/second-factor/recovery-codes"):
        response = thief.client.post(path, data={"csrf_token": token})
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/reauth"), path
    # Without the password or a code, re-authentication gets nowhere either.
    page = thief.client.get("/auth/reauth")
    wrong = thief.client.post("/auth/reauth/code", data={"code": "123456", "csrf_token": csrf_token_from(page)})
    assert wrong.status_code == 401
    with app.app_context():
        assert db.session.scalar(select(Authenticator)) is not None


def test_a_fresh_session_relayed_by_a_phishing_proxy_cannot_change_the_factors(app, auth, clock):
    """The proxy relayed the password and a code, and kept the fresh session cookie.

    Within the first ten minutes of that sign-in it has the password too; it still
    cannot add its own passkey, remove the owner's app or read new recovery codes:
    those need a code or passkey given for the change itself.
    """
    auth.create_user()
    auth.login()
    secret, _ = add_app(auth, clock)
    proxy = attacker(app)
    assert proxy.login().headers["Location"] == "/auth/second-factor"
    assert submit_code(proxy.client, code_at(secret, clock.now)).headers["Location"] == "/dashboard"
    proxy.client.environ_base["REMOTE_ADDR"] = "198.51.100.99"  # the cookie, used from elsewhere
    reauthenticate(proxy)  # the relayed password
    token = csrf_token_from(proxy.client.get("/account/second-factor"))
    for path in ("/account/second-factor/app/remove", "/account/second-factor/recovery-codes"):
        refused = proxy.client.post(path, data={"csrf_token": token})
        assert refused.status_code == 302 and "factor=1" in refused.headers["Location"], path
    options = proxy.client.post("/passkeys/options/register", headers={"X-CSRFToken": token})
    assert options.status_code == 403
    added = proxy.client.post("/account/passkeys", data={"name": "Proxy", "credential": "{}", "csrf_token": token})
    assert added.status_code == 302 and "factor=1" in added.headers["Location"]
    # Nor move the account to an address of its own, where password resets would go.
    fields = {"address": "proxy@evil.example", "password": PASSWORD, "csrf_token": token}
    moved = proxy.client.post("/account/email", data=fields)
    assert moved.status_code == 302 and "factor=1" in moved.headers["Location"]
    # The re-authentication page offers the factors only.
    page = proxy.client.get("/auth/reauth?next=/account/second-factor&factor=1").get_data(as_text=True)
    assert 'name="password"' not in page and 'name="code"' in page
    with app.app_context():
        assert db.session.scalar(select(Authenticator)) is not None
        assert db.session.scalar(select(EmailToken)) is None


def test_a_remember_cookie_from_before_the_factor_was_added(app, auth, clock):
    auth.create_user()
    auth.login(remember=True)
    laptop = attacker(app, "198.51.100.20")
    laptop.login(remember=True)
    # A copy of each browser's remember cookie, taken before the owner adds the factor.
    stolen_here = auth.client.get_cookie(app.config["REMEMBER_COOKIE_NAME"]).value
    stolen_there = laptop.client.get_cookie(app.config["REMEMBER_COOKIE_NAME"]).value
    add_app(auth, clock)
    for stolen in (stolen_here, stolen_there):
        thief = attacker(app)
        thief.client.set_cookie(app.config["REMEMBER_COOKIE_NAME"], stolen)
        assert thief.client.get("/dashboard").status_code == 302
    # The owner's own browser, which showed the factor, is still remembered.
    remembered = attacker(app, "198.51.100.21")
    remembered.client.set_cookie(
        app.config["REMEMBER_COOKIE_NAME"], auth.client.get_cookie(app.config["REMEMBER_COOKIE_NAME"]).value
    )
    assert remembered.client.get("/dashboard").status_code == 200


def test_passkey_answer_replay(app, auth):
    auth.create_user()
    auth.login()
    # A synced passkey: its counter stays at 0, so only the challenge can stop a replay.
    passkey = SoftPasskey(counts=False)
    add_passkey(auth, passkey)
    owner = attacker(app, "198.51.100.2")
    answer, token = passkey_answer(owner.client, passkey, "sign-in")
    visitor_cookie = owner.client.get_cookie(app.config["VISITOR_COOKIE_NAME"]).value
    assert owner.client.post("/auth/passkey", data={"credential": answer, "csrf_token": token}).status_code == 303
    # Captured with the cookie that held its challenge, and played again elsewhere.
    thief = attacker(app)
    thief.client.set_cookie(app.config["VISITOR_COOKIE_NAME"], visitor_cookie)
    replayed = thief.client.post("/auth/passkey", data={"credential": answer, "csrf_token": token})
    assert replayed.status_code == 401
    assert thief.client.get("/dashboard").status_code == 302


def test_a_passkey_answer_made_for_a_phishing_site(app, auth):
    auth.create_user()
    auth.login()
    passkey = SoftPasskey()
    add_passkey(auth, passkey)
    lookalikes = (("https://sessions.example.evil", "sessions.example"), ("https://evil.example", "evil.example"))
    for origin, rp_id in lookalikes:
        passkey.origin, passkey.rp_id = origin, rp_id
        victim_browser = attacker(app, "198.51.100.3")
        answer, token = passkey_answer(victim_browser.client, passkey, "sign-in")
        relayed = victim_browser.client.post("/auth/passkey", data={"credential": answer, "csrf_token": token})
        assert relayed.status_code == 401, origin


def test_a_passkey_of_another_account_as_the_second_factor(app, victim, clock):
    mallory = attacker(app, "198.51.100.4")
    mallory.create_user("mallory")
    mallory.login("mallory")
    own_passkey = SoftPasskey()
    add_passkey(mallory, own_passkey)
    # Mallory knows alice's password, not her code, and offers her own passkey instead.
    browser = half_signed_in(app)
    answer, token = passkey_answer(browser.client, own_passkey, "second-factor")
    offered = browser.client.post("/auth/second-factor/passkey", data={"credential": answer, "csrf_token": token})
    assert offered.status_code == 401
    assert browser.client.get("/dashboard").status_code == 302
