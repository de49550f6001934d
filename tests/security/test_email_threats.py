"""One test per row of the "Account email" table in docs/THREAT_MODEL.md.

Each plays the attack against the real app (real Redis, CSRF on) and the messages it
sends, read from the mail backend after the background sender has run.
"""

import re
import statistics
import threading
import time

import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.recovery.models import EmailToken
from tests.conftest import AuthActions, csrf_token_from
from tests.support.mail import Mailbox, link, press, sign_up_and_confirm, token_of

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def alice(app, client, mailbox):
    sign_up_and_confirm(client, mailbox)
    return AuthActions(app, client)


def ask_for_reset(client, account, **headers):
    form = client.get("/auth/forgot", headers=headers)
    return client.post("/auth/forgot", data={"account": account, "csrf_token": csrf_token_from(form)}, headers=headers)


def reset_link(app, mailbox, account="alice"):
    ask_for_reset(app.test_client(), account)
    return link(mailbox.last("alice@example.org"), "/auth/reset")


def set_password(client, path, password=NEW_PASSWORD):
    return press(client, path, new_password=password, confirm=password)


def headers(response):
    # The rate-limit headers count every request alike, so they differ from one to the next
    # (Retry-After counts the window down in whole seconds: see same_wait); a visitor cookie
    # is signed with the time, so its value differs from second to second (its name, flags
    # and lifetime must not).
    return [
        (name, re.sub(r"^__Host-visitor=[^;]*", "__Host-visitor=(signed)", value))
        for name, value in response.headers
        if not name.startswith("X-RateLimit") and name != "Retry-After"
    ]


def same_wait(first, second):
    """Both name the same window's end: equal, or one second apart when a second ticked between them."""
    waits = [response.headers.get("Retry-After") for response in (first, second)]
    if None in waits:
        return waits[0] == waits[1]
    return abs(int(waits[0]) - int(waits[1])) <= 1


def page_text(response):
    return response.get_data(as_text=True)


@pytest.mark.parametrize("unknown", ["nobody", "nobody@example.org", "bob", "bob@example.org"])
def test_account_enumeration_through_the_reset_form_by_message(app, alice, auth, unknown):
    auth.create_user("bob")  # an account without an address answers the same too
    visitor = app.test_client()
    known = ask_for_reset(visitor, "alice")
    other = ask_for_reset(visitor, unknown)
    assert (known.status_code, headers(known)) == (other.status_code, headers(other))
    assert same_wait(known, other)
    assert page_text(known) == page_text(other)


def test_account_enumeration_through_the_reset_form_by_timing(make_app):
    """The request does the same work either way: no SQL at all, and equal times."""
    app = make_app(PASSWORD_RESET_RATE_LIMIT="1000/minute", PASSWORD_RESET_ACCOUNT_RATE_LIMIT="1000/minute")
    mailbox = Mailbox(app)
    sign_up_and_confirm(app.test_client(), mailbox)
    visitor = app.test_client()
    statements = []

    def count(*args, **kwargs):
        # Only the request's own statements: the sender thread does the lookup.
        if threading.current_thread() is threading.main_thread():
            statements.append(args[2])

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    sender = app.extensions["mail_sender"]

    def timed(account):
        form = visitor.get("/auth/forgot")
        del statements[:]
        started = time.perf_counter()
        visitor.post("/auth/forgot", data={"account": account, "csrf_token": csrf_token_from(form)})
        elapsed = time.perf_counter() - started
        seen = list(statements)
        sender.wait_until_idle()
        return elapsed, seen

    known, unknown = [], []
    for _ in range(15):
        elapsed, seen = timed("alice@example.org")
        assert seen == []
        known.append(elapsed)
        elapsed, seen = timed("nobody@example.org")
        assert seen == []
        unknown.append(elapsed)
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.5 < ratio < 2, (statistics.median(known), statistics.median(unknown))


def test_reset_token_replay(app, alice, mailbox):
    path = reset_link(app, mailbox)
    assert set_password(app.test_client(), path).status_code == 303
    assert app.test_client().get(path).status_code == 404
    replayed = app.test_client()
    csrf = csrf_token_from(replayed.get("/auth/forgot"))
    data = {"token": token_of(path), "new_password": "the attacker's choice", "confirm": "the attacker's choice"}
    assert replayed.post("/auth/reset", data={**data, "csrf_token": csrf}).status_code == 404
    assert alice.login(password=NEW_PASSWORD).status_code == 303


def test_reset_token_after_a_password_change(app, alice, mailbox):
    path = reset_link(app, mailbox)
    csrf = csrf_token_from(alice.client.get("/account/password"))
    changed = alice.client.post(
        "/account/password",
        data={
            "current_password": "correct horse battery",
            "new_password": "changed the usual way",
            "confirm": "changed the usual way",
            "csrf_token": csrf,
        },
    )
    assert changed.status_code == 303
    assert app.test_client().get(path).status_code == 404
    assert alice.client.get("/dashboard").status_code == 200


def test_reset_token_after_another_reset(app, alice, mailbox):
    first, second = reset_link(app, mailbox), reset_link(app, mailbox)
    assert set_password(app.test_client(), second).status_code == 303
    assert app.test_client().get(first).status_code == 404


def test_reset_token_guessing(make_app):
    app = make_app(EMAIL_LINK_RATE_LIMIT="5/minute")
    mailbox = Mailbox(app)
    sign_up_and_confirm(app.test_client(), mailbox)
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    statuses = [guesser.get("/auth/reset", query_string={"token": "A" * 43}).status_code for _ in range(6)]
    assert statuses == [404] * 5 + [429]
    # The real link, from the owner's own address, still works: the limit is per client.
    ask_for_reset(app.test_client(), "alice")
    assert app.test_client().get(link(mailbox.last("alice@example.org"), "/auth/reset")).status_code == 200
    with app.app_context():
        hashes = db.session.scalars(select(EmailToken.token_hash)).all()
    # 256 random bits per token; only the SHA-256 is stored, so a copy of the table opens nothing.
    assert all(len(value) == 64 for value in hashes)


def test_a_prefetched_reset_link_changes_nothing(app, alice, mailbox):
    path = reset_link(app, mailbox)
    scanner = app.test_client()
    for method in (scanner.get, scanner.head):
        assert method(path).status_code == 200
    assert alice.client.get("/dashboard").status_code == 200
    assert AuthActions(app, app.test_client()).login().status_code == 303  # still the old password
    assert set_password(app.test_client(), path).status_code == 303


def test_reset_while_signed_in_elsewhere_ends_those_sessions(app, alice, mailbox):
    laptop, phone = AuthActions(app, app.test_client()), AuthActions(app, app.test_client())
    laptop.login()
    phone.login(remember=True)
    phone.client.delete_cookie("__Host-session")
    assert set_password(app.test_client(), reset_link(app, mailbox)).status_code == 303
    for browser in (alice, laptop, phone):
        assert browser.client.get("/dashboard").status_code == 302


def test_reset_links_for_an_address_changed_since(app, alice, mailbox):
    path = reset_link(app, mailbox)
    csrf = csrf_token_from(alice.client.get("/account/email"))
    alice.client.post(
        "/account/email",
        data={"address": "alice@new.example", "password": "correct horse battery", "csrf_token": csrf},
    )
    assert press(alice.client, link(mailbox.last("alice@new.example"), "/email/confirm")).status_code == 200
    assert app.test_client().get(path).status_code == 404


@pytest.mark.parametrize("header", ["Host", "X-Forwarded-Host", "Forwarded"])
def test_host_header_poisoning_of_the_reset_link(make_app, header):
    app = make_app(TRUSTED_PROXIES=1)
    mailbox = Mailbox(app)
    sign_up_and_confirm(app.test_client(), mailbox)
    value = "host=evil.example" if header == "Forwarded" else "evil.example"
    response = ask_for_reset(app.test_client(), "alice", **{header: value})
    assert response.status_code == 200
    message = mailbox.last("alice@example.org")
    assert "evil.example" not in message.body
    assert "evil.example" not in message.alternatives[0][0]
    assert link(message, "/auth/reset").startswith("/auth/reset?token=")
