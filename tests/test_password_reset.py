"""Password reset by email (app/recovery/password_reset.py), through the real forms."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import SecurityEvent
from tests.conftest import AuthActions, csrf_token_from
from tests.support.mail import link, press, sign_up_and_confirm, token_of

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def alice(app, client, mailbox):
    """Alice, signed up with a confirmed address and signed in."""
    sign_up_and_confirm(client, mailbox)
    return AuthActions(app, client)


def ask_for_reset(app, account="alice"):
    visitor = app.test_client()
    form = visitor.get("/auth/forgot")
    return visitor, visitor.post("/auth/forgot", data={"account": account, "csrf_token": csrf_token_from(form)})


def reset_link(app, mailbox, account="alice", address="alice@example.org"):
    ask_for_reset(app, account)
    return link(mailbox.last(address), "/auth/reset")


def set_password(client, path, password=NEW_PASSWORD):
    return press(client, path, new_password=password, confirm=password)


@pytest.mark.parametrize("account", ["alice", "ALICE", "alice@example.org", "Alice@Example.ORG"])
def test_a_username_or_an_address_in_any_case_gets_a_link(app, alice, mailbox, account):
    path = reset_link(app, mailbox, account)
    assert path.startswith("/auth/reset?token=")


def test_the_reset_ends_every_session_and_remember_me_token_and_signs_nobody_in(app, alice, mailbox):
    remembered = AuthActions(app, app.test_client())
    remembered.login(remember=True)
    remembered.client.delete_cookie("__Host-session")  # only the remember cookie left
    visitor = app.test_client()

    response = set_password(visitor, reset_link(app, mailbox))

    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/reset/done"
    assert visitor.get("/dashboard").status_code == 302  # not signed in by the reset
    assert alice.client.get("/dashboard").status_code == 302
    assert remembered.client.get("/dashboard").status_code == 302
    assert alice.login().status_code == 401  # the old password is gone
    assert alice.login(password=NEW_PASSWORD).status_code == 303


def test_the_reset_is_recorded_and_the_owner_is_told(app, alice, mailbox):
    set_password(app.test_client(), reset_link(app, mailbox))
    notice = mailbox.last("alice@example.org")
    assert notice.subject == "Your password was reset"
    assert "every session of your account was signed out" in notice.body
    with app.app_context():
        events = db.session.scalars(select(SecurityEvent.event)).all()
    assert "password_reset" in events


def test_the_link_only_shows_a_form_until_the_button_is_pressed(app, alice, mailbox):
    path = reset_link(app, mailbox)
    for _ in range(3):
        assert app.test_client().get(path).status_code == 200
    assert alice.client.get("/dashboard").status_code == 200
    assert set_password(app.test_client(), path).status_code == 303


def test_a_browser_signed_in_to_the_account_that_resets_it_is_signed_out(app, alice, mailbox):
    response = set_password(alice.client, reset_link(app, mailbox))
    assert response.status_code == 303
    assert alice.client.get("/dashboard").status_code == 302


def test_an_account_without_a_confirmed_address_gets_no_link(app, auth, mailbox):
    auth.create_user("bob")
    ask_for_reset(app, "bob")
    assert mailbox.messages == []


def test_an_unconfirmed_address_gets_no_link(app, client, mailbox):
    from tests.support.mail import sign_up

    sign_up(client, "carol", "carol@example.org")
    ask_for_reset(app, "carol@example.org")
    ask_for_reset(app, "carol")
    assert [message.subject for message in mailbox.messages] == ["Confirm your email address"]


def test_the_new_password_follows_the_password_policy(app, alice, mailbox):
    path = reset_link(app, mailbox)
    assert set_password(app.test_client(), path, "alice").status_code == 400
    assert set_password(app.test_client(), path, "password123").status_code == 400
    assert set_password(app.test_client(), path).status_code == 303


def test_messages_per_account_are_limited_without_a_word_to_the_asker(make_app):
    app = make_app(PASSWORD_RESET_ACCOUNT_RATE_LIMIT="2/hour")
    from tests.support.mail import Mailbox

    mailbox = Mailbox(app)
    sign_up_and_confirm(app.test_client(), mailbox)
    pages = [ask_for_reset(app)[1].get_data(as_text=True) for _ in range(4)]
    assert len({page for page in pages}) == 1
    assert [m.subject for m in mailbox.messages].count("Set a new password") == 2


def test_requests_per_client_address_are_limited(make_app):
    app = make_app(PASSWORD_RESET_RATE_LIMIT="3/hour")
    visitor = app.test_client()
    statuses = []
    for _ in range(4):
        form = visitor.get("/auth/forgot")
        statuses.append(
            visitor.post("/auth/forgot", data={"account": "x", "csrf_token": csrf_token_from(form)}).status_code
        )
    assert statuses == [200, 200, 200, 429]


@pytest.mark.parametrize("account", ["", " ", "a" * 255, "alice\x00", "bob\r\nBcc: eve@example.org"])
def test_bad_input_on_the_forgot_form_is_a_400(app, account, mailbox):
    visitor = app.test_client()
    form = visitor.get("/auth/forgot")
    response = visitor.post("/auth/forgot", data={"account": account, "csrf_token": csrf_token_from(form)})
    assert response.status_code == 400
    assert mailbox.messages == []


@pytest.mark.parametrize("token", ["", "x", "A" * 43, "A" * 5000, "\u00e9" * 43, "' OR 1=1 --", "../../etc/passwd"])
def test_a_bad_or_unknown_token_is_a_404_on_get_and_post(app, token):
    visitor = app.test_client()
    assert visitor.get("/auth/reset", query_string={"token": token}).status_code == 404
    csrf = csrf_token_from(visitor.get("/auth/forgot"))
    data = {"token": token, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf}
    assert visitor.post("/auth/reset", data=data).status_code == 404


def test_the_link_lasts_30_minutes(app, alice, mailbox, clock):
    path = reset_link(app, mailbox)
    clock.advance(minutes=29)
    assert app.test_client().get(path).status_code == 200
    clock.advance(minutes=2)
    assert app.test_client().get(path).status_code == 404


def test_the_token_is_stored_only_as_its_hash(app, alice, mailbox):
    token = token_of(reset_link(app, mailbox))
    with app.app_context():
        stored = [row[0] for row in db.session.execute(db.text("SELECT token_hash FROM email_tokens"))]
    assert token not in stored
    assert len(stored) == 1 and len(stored[0]) == 64
