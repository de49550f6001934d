"""Limits an attacker can neither walk around nor turn against the owner.

One test per attack of docs/THREAT_MODEL.md's "Limits" rows, each named for the attack.
"""

import base64
import json
import re

import pytest

from app.extensions import db
from app.models import SecurityEvent, SignIn, User
from tests.conftest import AuthActions, csrf_token_from

PASSWORD = "correct horse battery"


def from_address(app, address, user_agent=None):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if user_agent:
        client.environ_base["HTTP_USER_AGENT"] = user_agent
    return AuthActions(app, client)


def spray(app, count, username="alice", first=1):
    """Wrong passwords for ``username`` from ``count`` addresses, one each."""
    return [
        from_address(app, f"198.51.100.{n}").login(username, "wrong password").status_code
        for n in range(first, first + count)
    ]


def post_form(actions, page, action, **fields):
    token = csrf_token_from(actions.client.get(page))
    return actions.client.post(action, data={"csrf_token": token, **fields})


def test_recycled_account_ids_do_not_multiply_the_per_account_limit(app):
    attacker = from_address(app, "203.0.113.1")
    harvested = []
    attacker.create_user("mallory", "mallory's long password")
    for _ in range(3):
        attacker.client.delete_cookie("__Host-device")
        assert attacker.login("mallory", "mallory's long password").status_code == 303
        harvested.append(attacker.client.get_cookie("__Host-device").value)
        attacker.logout()
    assert attacker.login("mallory", "mallory's long password").status_code == 303
    deleted = post_form(attacker, "/account/delete", "/account/delete", password="mallory's long password")
    assert deleted.status_code == 303
    with app.app_context():
        assert db.session.query(User).count() == 0

    # On SQLite the victim gets the deleted account's integer id; on PostgreSQL a new one.
    from_address(app, "192.0.2.1").create_user("victim", PASSWORD)
    answers = spray(app, 10, username="victim")
    for number, cookie in enumerate(harvested):
        guesser = from_address(app, f"203.0.113.{10 + number}")
        guesser.client.set_cookie("__Host-device", cookie)
        answers.append(guesser.login("victim", "wrong password").status_code)
    assert answers == [401] * 10 + [429] * 3


def test_a_cookie_thief_cannot_lock_the_owner_out_of_reauthentication(app):
    owner = from_address(app, "192.0.2.1")
    owner.create_user()
    assert owner.login().status_code == 303
    thief = from_address(app, "203.0.113.66")
    for cookie in ("__Host-session", "__Host-device"):
        thief.client.set_cookie(cookie, owner.client.get_cookie(cookie).value)
    answers = [post_form(thief, "/auth/reauth", "/auth/reauth", password=f"guess {n}").status_code for n in range(6)]
    assert answers == [401] * 5 + [429]

    # The owner's way out: sign out (which ends the copy too) and sign in again.
    blocked = post_form(owner, "/auth/reauth", "/auth/reauth", password=PASSWORD)
    assert blocked.status_code == 429
    assert "Sign out, then sign in again" in blocked.get_data(as_text=True)
    assert 0 < int(blocked.headers["Retry-After"]) <= 60
    owner.logout()
    assert owner.login().status_code == 303
    assert thief.client.get("/dashboard").status_code == 302
    assert post_form(owner, "/auth/reauth", "/auth/reauth", password=PASSWORD).status_code == 303


def test_another_sign_in_of_the_owner_keeps_its_own_reauthentication_budget(app):
    owner = from_address(app, "192.0.2.1")
    owner.create_user()
    owner.login()
    laptop = from_address(app, "192.0.2.2")
    laptop.login()
    for n in range(6):
        post_form(owner, "/auth/reauth", "/auth/reauth", password=f"guess {n}")
    assert post_form(laptop, "/auth/reauth", "/auth/reauth", password=PASSWORD).status_code == 303


def test_live_sign_ins_per_account_are_capped_and_the_owner_sees_why(make_app):
    app = make_app(MAX_SIGN_INS_PER_ACCOUNT=3)
    owner = from_address(app, "192.0.2.1")
    owner.create_user()
    for n in range(5):
        assert from_address(app, f"192.0.2.{10 + n}").login().status_code == 303
    assert owner.login().status_code == 303
    with app.app_context():
        assert db.session.query(SignIn).count() == 3
        ended = db.session.query(SecurityEvent).filter_by(event="sign_in_ended_over_limit").count()
        assert ended == 3
    assert "too many sessions at once" in owner.client.get("/account/activity").get_data(as_text=True)


def test_successful_sign_ins_from_one_address_are_rate_limited(app):
    owner = from_address(app, "192.0.2.1")
    owner.create_user()
    answers = []
    for _ in range(11):
        answers.append(owner.login(remember=True).status_code)
        owner.client.delete_cookie("__Host-session")
        owner.client.delete_cookie("__Host-remember")
    assert answers == [303] * 10 + [429]


def test_successful_sign_ins_to_one_account_are_rate_limited_across_addresses(app):
    from_address(app, "192.0.2.1").create_user()
    answers = [from_address(app, f"192.0.2.{10 + n}").login().status_code for n in range(11)]
    assert answers == [303] * 10 + [429]


def test_rotating_ipv6_64s_within_one_48_reaches_the_limit(app):
    answers = []
    for n in range(1, 23):
        guesser = from_address(app, f"2001:db8:9:{n:x}::1")
        # A new name each time: only the per-address limits are under test here.
        answers.append(guesser.login(f"nobody{n}", "wrong password").status_code)
    assert answers[:20] == [401] * 20
    assert answers[20:] == [429, 429]


def test_rotating_ipv6_48s_within_one_32_reaches_its_larger_limit(make_app):
    app = make_app(LOGIN_RATE_LIMIT_PER_IPV6_48="1000/minute", LOGIN_RATE_LIMIT_PER_IPV6_32="30/minute")
    answers = [
        from_address(app, f"2001:db8:{n:x}::1").login(f"nobody{n}", "wrong password").status_code for n in range(1, 32)
    ]
    assert answers == [401] * 30 + [429]


def test_the_browser_that_created_the_account_is_a_known_device(app):
    creator = from_address(app, "192.0.2.1")
    token = csrf_token_from(creator.client.get("/auth/register"))
    form = {"username": "alice", "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token}
    assert creator.client.post("/auth/register", data=form).status_code == 303
    assert creator.client.get_cookie("__Host-device") is not None
    creator.logout()
    assert spray(app, 11) == [401] * 10 + [429]
    assert creator.login().status_code == 303


def test_a_password_typed_into_the_username_field_never_reaches_a_store_key(app, redis_client):
    from_address(app, "192.0.2.1").create_user()
    assert from_address(app, "192.0.2.2").login("Tr0ub4dor&3-Example", "wrong password").status_code == 401
    keys = [key.decode() for key in redis_client.scan_iter("*")]
    assert keys and not [key for key in keys if "tr0ub4dor" in key.lower()]


def test_the_device_cookie_reveals_neither_the_user_id_nor_the_password_version(app):
    owner = from_address(app, "192.0.2.1")
    owner.create_user()
    owner.login()
    cookie = owner.client.get_cookie("__Host-device").value
    nonce, _, signature = cookie.rpartition(".")
    decoded = base64.urlsafe_b64decode(nonce + "=" * (-len(nonce) % 4))
    with pytest.raises(ValueError):
        json.loads(decoded)
    assert len(decoded) == 16 and signature
    owner.logout()
    owner.login()
    assert owner.client.get_cookie("__Host-device").value.rpartition(".")[0] != nonce


ATTACKER_USER_AGENT = "Mozilla/5.0 (compatible; Your account is locked call 555-0100 Bot/1.0)"


def test_an_attacker_cannot_write_on_the_owners_security_pages(app):
    owner = from_address(app, "192.0.2.1")
    owner.create_user()
    attacker = from_address(app, "203.0.113.5", user_agent=ATTACKER_USER_AGENT)
    assert attacker.login(password="wrong password").status_code == 401
    assert owner.login().status_code == 303
    activity = owner.client.get("/account/activity").get_data(as_text=True)
    export = owner.client.get("/account/export").get_data(as_text=True)
    for page in (activity, export):
        assert "555-0100" not in page and "locked" not in page
    assert "Unknown browser" in activity


def test_an_intruder_cannot_push_its_sign_in_off_the_activity_page(app):
    owner = from_address(app, "192.0.2.1")
    owner.create_user()
    intruder = from_address(app, "203.0.113.7", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0")
    assert intruder.login().status_code == 303
    for _ in range(55):
        assert intruder.client.head("/account/export").status_code == 200
    for _ in range(55):
        assert intruder.client.get("/account/export").status_code == 200
    with app.app_context():
        exports = db.session.query(SecurityEvent).filter_by(event="data_exported").count()
        assert exports == 55  # the HEAD requests downloaded nothing and recorded nothing
    owner.login()
    page = owner.client.get("/account/activity").get_data(as_text=True)
    assert re.search(r"<td[^>]*>Signed in</td>\s*<td[^>]*>203\.0\.113\.7</td>", page)
    # The downloads are one line with a count, not fifty lines.
    assert len(re.findall(r"Downloaded your data", page)) == 1 and "times in a row" in page


@pytest.mark.parametrize("typed", ["Tr0ub4dor&3-Example", "my secret passphrase", "x" * 40])
@pytest.mark.parametrize("page", ["/auth/login", "/auth/register"])
def test_a_password_typed_into_the_username_field_is_not_shown_again(app, page, typed):
    visitor = from_address(app, "192.0.2.9")
    token = csrf_token_from(visitor.client.get(page))
    form = {"username": typed, "password": "wrong password", "confirm": "other", "csrf_token": token}
    response = visitor.client.post(page, data=form)
    assert response.status_code in (400, 401)
    assert typed not in response.get_data(as_text=True)


def test_a_mistyped_password_for_a_real_name_keeps_the_name_in_the_form(app):
    from_address(app, "192.0.2.1").create_user()
    response = from_address(app, "192.0.2.2").login("alice", "wrong password")
    assert response.status_code == 401
    assert 'value="alice"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "tunnelled",
    [
        "2002:c633:6408::1",  # 6to4 of 198.51.100.8
        "2002:c633:6408:99::7",
        "2001:0:4136:e378:8000:63bf:39cc:9bf7",  # Teredo, its client 198.51.100.8 (obfuscated)
    ],
)
def test_an_ipv4_host_gets_no_second_budget_through_a_tunnel_address(app, tunnelled):
    answers = [from_address(app, "198.51.100.8").login(f"nobody{n}", "wrong password").status_code for n in range(5)]
    answers.append(from_address(app, tunnelled).login("nobody9", "wrong password").status_code)
    assert answers == [401] * 5 + [429]
