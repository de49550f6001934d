"""Messages about the second factors (app/recovery/factor_notices.py).

Threat: a thief with a copy of a fresh session cookie adds their own passkey, removes
the owner's app or makes new recovery codes. The server cannot tell them from the
owner, so the owner hears of every change at once, from where and which browser.
"""

import pytest

from app.extensions import db
from app.second_factors.models import Passkey
from tests.conftest import AuthActions, csrf_token_from
from tests.support.mail import link, sign_up_and_confirm
from tests.support.second_factors import add_app, add_passkey, code_at, new_codes_form, reauthenticate, submit_code
from tests.support.soft_authenticator import SoftPasskey

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHANGED = "The second factors of your account were changed"
GUESSED = "Someone typed your password, then a wrong code"


@pytest.fixture
def alice(app, client, mailbox, clock):
    """Alice, signed up with a confirmed address and signed in, from Firefox at 198.51.100.7."""
    client.environ_base.update(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT=FIREFOX)
    sign_up_and_confirm(client, mailbox)
    return AuthActions(app, client)


def notices(mailbox, subject=CHANGED):
    return [message for message in mailbox.to("alice@example.org") if message.subject == subject]


def test_adding_and_removing_the_app_are_each_told_with_when_where_and_what_to_do(alice, mailbox, clock):
    secret, _ = add_app(alice, clock)
    reauthenticate(alice, code_at(secret, clock.now))
    token = csrf_token_from(alice.client.get("/account/second-factor"))
    alice.client.post("/account/second-factor/app/remove", data={"csrf_token": token})
    added, removed = notices(mailbox)
    assert "An authenticator app was added to your account." in added.body
    assert "The authenticator app was removed from your account." in removed.body
    for message in (added, removed):
        assert "Firefox 133 (Linux)" in message.body
        assert "198.51.100.7" in message.body
        assert link(message, "/account/second-factor")


def test_new_recovery_codes_are_told(alice, mailbox, clock):
    secret, _ = add_app(alice, clock)
    reauthenticate(alice, code_at(secret, clock.now))
    assert (
        alice.client.post("/account/second-factor/recovery-codes", data=new_codes_form(alice.client)).status_code == 200
    )
    assert "New recovery codes were made for your account" in notices(mailbox)[-1].body


def test_a_passkey_is_named_in_its_notices_and_escaped_in_html(app, alice, mailbox):
    name = "<b>Mallory's key</b>"
    passkey = SoftPasskey()
    assert add_passkey(alice, passkey, name=name).status_code == 200
    with app.app_context():
        public_id = db.session.query(Passkey).one().public_id
    reauthenticate(alice, passkey=passkey)
    token = csrf_token_from(alice.client.get("/account/second-factor"))
    alice.client.post(f"/account/passkeys/{public_id}/remove", data={"csrf_token": token})
    added, removed = notices(mailbox)
    assert f"A passkey named “{name}” was added to your account." in added.body
    assert f"A passkey named “{name}” was removed from your account." in removed.body
    html = removed.alternatives[0][0]
    assert "&lt;b&gt;Mallory" in html and "<b>" not in html


def test_a_wrong_code_after_the_right_password_is_told_once_per_sign_in(app, alice, mailbox, clock):
    add_app(alice, clock)
    alice.logout()
    alice.login(username="alice")
    assert [submit_code(alice.client, "000000").status_code for _ in range(2)] == [401, 401]
    (notice,) = notices(mailbox, GUESSED)
    assert "someone knows your password" in notice.body
    assert link(notice, "/auth/forgot")
    # Fewer wrong codes than end a sign-in, in each of several sign-ins: each is told.
    for _ in range(2):
        alice.login(username="alice")
        assert submit_code(alice.client, "000000").status_code == 401
    assert len(notices(mailbox, GUESSED)) == 3


def test_the_notice_is_in_the_language_of_the_page(alice, mailbox, clock):
    alice.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    add_app(alice, clock)
    (notice,) = [message for message in mailbox.to("alice@example.org") if "Faktoren" in message.subject]
    assert "Ihrem Konto wurde eine Authenticator-App hinzugefügt." in notice.body


def test_an_account_without_an_address_gets_no_message(signed_in, mailbox, clock):
    add_app(signed_in, clock)
    assert [message for message in mailbox.messages if message.subject == CHANGED] == []
