"""The new-device alert and "This wasn't me" (app/recovery/new_device.py)."""

import pytest

from app.extensions import db
from app.models import SignIn
from tests.conftest import AuthActions, csrf_token_from
from tests.support.mail import link, press, sign_up_and_confirm

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def alice(app, client, mailbox):
    sign_up_and_confirm(client, mailbox)
    return AuthActions(app, client)


def stranger(app, address="198.51.100.7"):
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=address, HTTP_USER_AGENT=FIREFOX)
    return AuthActions(app, client)


def alerts(mailbox):
    return [
        message for message in mailbox.to("alice@example.org") if message.subject == "A new sign-in to your account"
    ]


def test_a_sign_in_from_a_new_browser_sends_when_browser_and_address(app, alice, mailbox):
    assert stranger(app).login().status_code == 303
    (alert,) = alerts(mailbox)
    assert "Firefox 133 (Linux)" in alert.body
    assert "198.51.100.7" in alert.body
    assert " UTC" in alert.body
    assert link(alert, "/auth/not-me")


def test_a_known_device_signs_in_without_an_alert(app, alice, mailbox):
    # The browser that made the account is a known device of it from the start.
    alice.logout()
    assert alice.login().status_code == 303
    browser = stranger(app)
    browser.login()
    browser.logout()
    browser.login()
    assert len(alerts(mailbox)) == 1


def test_an_account_without_an_address_gets_no_alert(app, auth, mailbox):
    auth.create_user("bob")
    stranger(app).login("bob")
    assert mailbox.messages == []


def test_this_was_not_me_ends_that_sign_in_and_offers_a_reset(app, alice, mailbox):
    intruder = stranger(app)
    intruder.login()
    path = link(alerts(mailbox)[0], "/auth/not-me")
    owner = app.test_client()

    assert owner.get(path).status_code == 200
    assert intruder.client.get("/dashboard").status_code == 200  # a GET ends nothing
    page = press(owner, path)

    assert page.status_code == 200
    assert intruder.client.get("/dashboard").status_code == 302
    assert alice.client.get("/dashboard").status_code == 200  # only that sign-in ended
    owner.post("/auth/forgot", data={"account": "alice@example.org", "csrf_token": csrf_token_from(page)})
    assert mailbox.last("alice@example.org").subject == "Set a new password"


def test_the_link_works_once(app, alice, mailbox):
    stranger(app).login()
    path = link(alerts(mailbox)[0], "/auth/not-me")
    assert press(app.test_client(), path).status_code == 200
    assert app.test_client().get(path).status_code == 404


def test_the_link_dies_with_the_sign_in(app, alice, mailbox):
    browser = stranger(app)
    browser.login()
    path = link(alerts(mailbox)[0], "/auth/not-me")
    browser.logout()
    assert app.test_client().get(path).status_code == 404


def test_the_link_needs_the_csrf_token(app, alice, mailbox):
    intruder = stranger(app)
    intruder.login()
    path = link(alerts(mailbox)[0], "/auth/not-me")
    token = path.partition("token=")[2]
    assert app.test_client().post("/auth/not-me", data={"token": token}).status_code == 400
    assert intruder.client.get("/dashboard").status_code == 200


def test_this_was_not_me_also_ends_the_sign_ins_made_since_from_the_now_known_browser(app, alice, mailbox, clock):
    """The intruder signs in again before the owner reads the alert: no second alert."""
    intruder = stranger(app)
    intruder.login()
    path = link(alerts(mailbox)[0], "/auth/not-me")
    clock.advance(minutes=2)
    again = AuthActions(app, intruder.client)
    again.client.delete_cookie("__Host-session")
    assert again.login().status_code == 303
    assert len(alerts(mailbox)) == 1  # a known device by now

    press(app.test_client(), path)

    assert intruder.client.get("/dashboard").status_code == 302
    with app.app_context():
        assert [record.user_id for record in db.session.query(SignIn)] == [1]  # alice's own, older one
    assert alice.client.get("/dashboard").status_code == 200


def test_an_intruder_who_signs_out_before_the_alert_goes_is_reported_all_the_same(app, alice, mailbox, monkeypatch):
    """Signed in, took the export, signed out: the owner hears of it, with the way to a new password."""
    from app.recovery import new_device

    queued = []
    monkeypatch.setattr(new_device.mail, "send_later", lambda job, *args: queued.append((job, args)))
    intruder = stranger(app)
    intruder.login()
    intruder.logout()
    monkeypatch.undo()
    assert len(queued) == 1
    job, args = queued[0]
    with app.app_context():
        job(*args)

    (alert,) = alerts(mailbox)
    assert "198.51.100.7" in alert.body
    assert link(alert, "/auth/forgot")
    assert "/auth/not-me" not in alert.body
