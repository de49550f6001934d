"""Email addresses (app/recovery/addresses.py): confirmed by a link, changed with the password."""

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import SignIn
from app.recovery.models import EmailAddress
from tests.conftest import AuthActions, csrf_token_from
from tests.support.mail import Mailbox, link, press, sign_up, sign_up_and_confirm, token_of

PASSWORD = "correct horse battery"


def confirmed_addresses(app):
    with app.app_context():
        return sorted(db.session.scalars(select(EmailAddress.address)).all())


@pytest.fixture
def alice(app, client, mailbox):
    sign_up_and_confirm(client, mailbox)
    return AuthActions(app, client)


def change_address(client, address, password=PASSWORD):
    csrf = csrf_token_from(client.get("/account/email"))
    return client.post("/account/email", data={"address": address, "password": password, "csrf_token": csrf})


def test_sign_up_without_an_address_still_works(auth, mailbox):
    auth.create_user()
    assert auth.login().status_code == 303
    assert mailbox.messages == []


def test_an_address_at_sign_up_is_confirmed_only_by_pressing_the_button(app, client, mailbox):
    sign_up(client)
    path = link(mailbox.last("alice@example.org"), "/email/confirm")
    assert app.test_client().get(path).status_code == 200  # a mail scanner
    assert confirmed_addresses(app) == []
    assert press(app.test_client(), path).status_code == 200
    assert confirmed_addresses(app) == ["alice@example.org"]


@pytest.mark.parametrize(
    "address",
    [
        "alice",
        "alice@",
        "@example.org",
        "alice@example",
        "a b@example.org",
        "<alice@example.org>",
        "alice@example.org, eve@example.org",
        "alice@example.org\r\nBcc: eve@example.org",
        "a" * 65 + "@example.org",
        "alice@" + "a" * 250 + ".org",
    ],
)
def test_an_address_mail_cannot_go_to_is_refused_with_a_400(client, mailbox, address):
    form = client.get("/auth/register")
    data = {
        "username": "alice",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "email": address,
        "csrf_token": csrf_token_from(form),
    }
    assert client.post("/auth/register", data=data).status_code == 400
    assert mailbox.messages == []


def test_the_confirmation_link_works_once_and_for_24_hours(app, client, mailbox, clock):
    sign_up(client)
    path = link(mailbox.last("alice@example.org"), "/email/confirm")
    clock.advance(hours=23)
    assert press(app.test_client(), path).status_code == 200
    assert app.test_client().get(path).status_code == 404

    sign_up(app.test_client(), "bob", "bob@example.org")
    late = link(mailbox.last("bob@example.org"), "/email/confirm")
    clock.advance(hours=24, seconds=1)
    assert app.test_client().get(late).status_code == 404


def test_only_the_newest_confirmation_link_works(app, alice, mailbox):
    change_address(alice.client, "first@example.org")
    change_address(alice.client, "second@example.org")
    assert app.test_client().get(link(mailbox.last("first@example.org"), "/email/confirm")).status_code == 404
    assert press(app.test_client(), link(mailbox.last("second@example.org"), "/email/confirm")).status_code == 200


def test_an_address_of_another_account_gets_a_notice_and_the_page_says_the_same(app, alice, mailbox):
    bob = app.test_client()
    response = sign_up(bob, "bob", "ALICE@example.org")
    assert response.status_code == 303
    notice = mailbox.last("ALICE@example.org")
    assert notice.subject == "Someone tried to use your email address"
    assert "/email/confirm" not in notice.body
    assert confirmed_addresses(app) == ["alice@example.org"]


def test_an_address_confirmed_by_another_account_in_the_meantime_is_a_409(app, client, mailbox):
    sign_up(client, "alice", "shared@example.org")
    sign_up(app.test_client(), "bob", "Shared@Example.org")
    alice_link = link(mailbox.last("shared@example.org"), "/email/confirm")
    bob_link = link(mailbox.last("Shared@Example.org"), "/email/confirm")
    assert press(app.test_client(), bob_link).status_code == 200
    assert press(app.test_client(), alice_link).status_code == 409
    assert confirmed_addresses(app) == ["Shared@Example.org"]


def test_changing_the_address_needs_re_authentication(app, alice, clock):
    clock.advance(minutes=11)
    response = change_address(alice.client, "alice@new.example")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/reauth")


def test_changing_the_address_needs_the_password(app, alice, mailbox):
    assert change_address(alice.client, "alice@new.example", "wrong password").status_code == 400
    assert mailbox.to("alice@new.example") == []


def test_a_change_is_confirmed_at_the_new_address_and_the_old_one_is_told(app, alice, mailbox):
    assert change_address(alice.client, "alice@new.example").status_code == 303
    assert confirmed_addresses(app) == ["alice@example.org"]  # nothing changes before the link
    assert press(app.test_client(), link(mailbox.last("alice@new.example"), "/email/confirm")).status_code == 200
    assert confirmed_addresses(app) == ["alice@new.example"]
    notice = mailbox.last("alice@example.org")
    assert notice.subject == "The email address of your account was changed"
    assert "alice@new.example" in notice.body
    assert link(notice, "/email/undo")


def test_the_old_address_can_undo_the_change_which_ends_every_session(app, alice, mailbox):
    change_address(alice.client, "thief@evil.example")
    press(app.test_client(), link(mailbox.last("thief@evil.example"), "/email/confirm"))
    undo = link(mailbox.last("alice@example.org"), "/email/undo")
    assert app.test_client().get(undo).status_code == 200
    assert confirmed_addresses(app) == ["thief@evil.example"]  # a GET changes nothing

    owner = app.test_client()
    page = press(owner, undo)

    assert page.status_code == 200
    assert confirmed_addresses(app) == ["alice@example.org"]
    assert alice.client.get("/dashboard").status_code == 302
    assert app.test_client().get(undo).status_code == 404  # once
    # The page offers a reset, which goes to the restored address.
    html = page.get_data(as_text=True)
    csrf = csrf_token_from(page)
    assert 'name="account" value="alice@example.org"' in html
    owner.post("/auth/forgot", data={"account": "alice@example.org", "csrf_token": csrf})
    assert mailbox.last("alice@example.org").subject == "Set a new password"


def test_confirmation_messages_per_account_are_limited_and_the_page_says_so(make_app):
    """Past the limit the page says to wait, instead of claiming a link that never went out."""
    app = make_app(ADDRESS_CHANGE_RATE_LIMIT="2/hour")
    mailbox = Mailbox(app)
    sign_up_and_confirm(app.test_client(), mailbox)  # the first message
    owner = AuthActions(app, app.test_client())
    owner.login()
    answers = [change_address(owner.client, f"spam{number}@example.org") for number in range(3)]
    assert [answer.status_code for answer in answers] == [303, 429, 429]
    assert "Please wait" in answers[1].get_data(as_text=True)
    assert int(answers[1].headers["Retry-After"]) > 60
    assert [bool(mailbox.to(f"spam{number}@example.org")) for number in range(3)] == [True, False, False]


def test_a_dead_link_page_offers_a_new_reset_link(app):
    page = app.test_client().get("/email/confirm", query_string={"token": "A" * 43})
    assert page.status_code == 404
    assert 'href="/auth/forgot"' in page.get_data(as_text=True)


def test_a_token_for_one_purpose_opens_no_other_page(app, client, mailbox):
    sign_up(client)
    token = token_of(link(mailbox.last("alice@example.org"), "/email/confirm"))
    for path in ("/auth/reset", "/email/undo", "/auth/not-me"):
        assert app.test_client().get(path, query_string={"token": token}).status_code == 404


@pytest.mark.parametrize("password_route", ["change", "reset"])
def test_a_confirmation_link_dies_when_the_password_changes(app, alice, mailbox, password_route):
    """An intruder who knew the password asks for their own address; the owner then
    changes or resets the password: the intruder's link must not confirm anything."""
    intruder = AuthActions(app, app.test_client())
    intruder.login()
    change_address(intruder.client, "intruder@example.org")
    intruders_link = link(mailbox.last("intruder@example.org"), "/email/confirm")

    if password_route == "change":
        page = alice.client.get("/account/password")
        new = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
        data = {**new, "confirm": new["new_password"], "csrf_token": csrf_token_from(page)}
        assert alice.client.post("/account/password", data=data).status_code == 303
    else:
        page = alice.client.get("/auth/forgot")
        data = {"account": "alice", "csrf_token": csrf_token_from(page)}
        assert alice.client.post("/auth/forgot", data=data).status_code in (200, 303)
        mailbox.wait()
        reset = link(mailbox.last("alice@example.org"), "/auth/reset")
        new = "a brand new passphrase"
        assert press(app.test_client(), reset, new_password=new, confirm=new).status_code == 303

    assert app.test_client().get(intruders_link).status_code == 404
    # Pressed all the same, with a valid form token: still nothing.
    visitor = app.test_client()
    token = parse_qs(urlsplit(intruders_link).query)["token"][0]
    pressed = {"token": token, "csrf_token": csrf_token_from(visitor.get("/auth/login"))}
    assert visitor.post(intruders_link, data=pressed).status_code == 404
    assert confirmed_addresses(app) == ["alice@example.org"]


@pytest.mark.parametrize("owner_action", ["sign out everywhere else", "end that device", "this was not me"])
def test_a_confirmation_link_dies_when_the_owner_throws_the_intruder_out(app, alice, mailbox, owner_action):
    """The intruder's sessions end, and so does their pending address change."""
    intruder = AuthActions(app, app.test_client())
    intruder.client.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    intruder.login()
    change_address(intruder.client, "intruder@example.org")
    intruders_link = link(mailbox.last("intruder@example.org"), "/email/confirm")

    page = alice.client.get("/account/sessions")
    if owner_action == "sign out everywhere else":
        data = {"password": PASSWORD, "csrf_token": csrf_token_from(page)}
        assert alice.client.post("/account/sessions/revoke-others", data=data).status_code == 303
    elif owner_action == "end that device":
        with app.app_context():
            device = db.session.scalar(select(SignIn.public_id).where(SignIn.ip_address == "198.51.100.9"))
        data = {"csrf_token": csrf_token_from(page)}
        assert alice.client.post(f"/account/sessions/{device}/revoke", data=data).status_code == 303
    else:
        alert = [message for message in mailbox.to("alice@example.org") if "/auth/not-me" in message.body][-1]
        assert press(app.test_client(), link(alert, "/auth/not-me")).status_code == 200

    assert intruder.client.get("/dashboard").status_code == 302
    assert app.test_client().get(intruders_link).status_code == 404
    assert confirmed_addresses(app) == ["alice@example.org"]
