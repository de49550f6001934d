"""Delivery (app/mail/): languages, plain text with HTML, the outbox, outages and privacy."""

import json
import logging
import smtplib
import socket
import threading

from sqlalchemy import func, select

from app import mail
from app.extensions import db
from app.recovery.models import EmailAddress, EmailToken
from tests.conftest import AuthActions, csrf_token_from
from tests.support.mail import Mailbox, html_links, links, sign_up, sign_up_and_confirm


def ask_for_reset(client, account="alice"):
    form = client.get("/auth/forgot")
    return client.post("/auth/forgot", data={"account": account, "csrf_token": csrf_token_from(form)})


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_messages_are_in_the_language_the_visitor_used(app, mailbox):
    german = app.test_client()
    german.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9"
    sign_up(german)
    message = mailbox.last("alice@example.org")
    assert message.subject == "Bestätigen Sie Ihre E-Mail-Adresse"
    assert "Hallo alice," in message.body
    html = message.alternatives[0][0]
    assert '<html lang="de">' in html


def test_every_message_has_plain_text_and_html_and_no_tracking(app, client, mailbox):
    sign_up_and_confirm(client, mailbox)
    AuthActions(app, app.test_client()).login()  # the new-device alert
    ask_for_reset(app.test_client())
    for message in mailbox.messages:
        assert message.body.strip()
        ((html, mimetype),) = message.alternatives
        assert mimetype == "text/html"
        assert "<img" not in html and "src=" not in html and "<link" not in html and "<script" not in html
        # Every link is one of ours, in full, and the same in both parts.
        assert all(href.startswith("https://sessions.example/") for href in html_links(message))
        assert sorted(html_links(message)) == sorted("https://sessions.example" + path for path in links(message))


def test_development_writes_each_message_to_the_outbox_and_logs_its_link(make_app, caplog, tmp_path):
    app = make_app(MAIL_BACKEND="app.mail.outbox")
    caplog.set_level(logging.INFO, logger="app.mail")
    client = app.test_client()
    sign_up(client)
    app.extensions["mail_sender"].wait_until_idle()
    (saved,) = (tmp_path / "instance0" / "outbox").glob("*.eml")
    assert b"Subject: Confirm your email address" in saved.read_bytes()
    assert "https://sessions.example/email/confirm?token=" in caplog.text
    assert client.get("/healthz").get_json()["mail"] == "outbox"


def test_a_mail_server_that_is_down_changes_nothing_the_user_sees(make_app, caplog):
    up = make_app()
    sign_up_and_confirm(up.test_client(), Mailbox(up))
    expected = ask_for_reset(up.test_client()).get_data(as_text=True)

    down = make_app(
        create_tables=False,
        MAIL_BACKEND="smtp",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=free_port(),
        MAIL_USE_TLS=False,
        MAIL_TIMEOUT=1,
    )
    visitor = down.test_client()
    for account in ("alice", "nobody"):
        response = ask_for_reset(visitor, account)
        assert response.status_code == 200
        assert response.get_data(as_text=True) == expected
    down.extensions["mail_sender"].wait_until_idle()
    assert "mail server refused or unreachable" in caplog.text
    assert "alice@example.org" not in caplog.text
    health = visitor.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["mail"] == "unreachable"
    assert "mail degraded: unreachable" in caplog.text


def test_a_mail_server_that_answers_again_is_healthy_again(make_app, monkeypatch):
    app = make_app()
    sign_up_and_confirm(app.test_client(), Mailbox(app))
    monkeypatch.setattr(
        "flask_mailman.backends.locmem.EmailBackend.send_messages",
        lambda self, messages: (_ for _ in ()).throw(smtplib.SMTPServerDisconnected("gone")),
    )
    ask_for_reset(app.test_client())
    app.extensions["mail_sender"].wait_until_idle()
    assert app.test_client().get("/healthz").get_json()["mail"] == "unreachable"
    monkeypatch.undo()
    ask_for_reset(app.test_client())
    app.extensions["mail_sender"].wait_until_idle()
    assert app.test_client().get("/healthz").get_json()["mail"] == "ok"


def test_without_a_sender_address_nothing_is_sent_and_healthz_says_so(make_app):
    app = make_app(MAIL_DEFAULT_SENDER=None)
    sign_up(app.test_client())
    app.extensions["mail_sender"].wait_until_idle()
    assert app.test_client().get("/healthz").get_json()["mail"] == "unconfigured"


def test_a_full_queue_drops_the_message_and_says_so(make_app, caplog):
    app = make_app(MAIL_QUEUE_SIZE=1)
    sender = app.extensions["mail_sender"]
    blocker_started, release = threading.Event(), threading.Event()

    def blocker():
        blocker_started.set()
        release.wait(5)

    with app.test_request_context():
        mail.send_later(blocker)
        blocker_started.wait(5)
        mail.send_later(blocker)  # waits in the queue
        mail.send_later(blocker)  # no room
    release.set()
    sender.wait_until_idle()
    assert "mail queue full: dropped a blocker job" in caplog.text


def test_a_job_that_fails_is_logged_and_the_sender_goes_on(app, client, mailbox, caplog):
    def broken():
        raise RuntimeError("boom")

    with app.test_request_context():
        mail.send_later(broken)
    sign_up(client)
    assert mailbox.last("alice@example.org")
    assert "mail job broken failed" in caplog.text


def test_the_privacy_page_names_the_address_the_links_and_the_alerts(app, client):
    page = client.get("/privacy").get_data(as_text=True)
    assert "Email address" in page
    assert "Links in emails" in page
    assert "new browser" in page


def test_the_export_has_the_address_and_pending_links_but_no_secret(app, client, mailbox):
    sign_up_and_confirm(client, mailbox)
    ask_for_reset(app.test_client())
    mailbox.wait()
    export = client.get("/account/export").get_json()
    assert export["email"]["address"] == "alice@example.org"
    assert [row["purpose"] for row in export["email"]["pending_links"]] == ["reset_password"]
    with app.app_context():
        token_hash = db.session.scalar(select(EmailToken.token_hash))
    assert token_hash not in json.dumps(export)


def test_retention_deletes_expired_links(app, client, mailbox, clock):
    sign_up(client)
    mailbox.wait()
    clock.advance(hours=25)
    result = app.test_cli_runner().invoke(args=["retention", "purge"])
    assert "1 expired email link(s)" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EmailToken)) == 0


def test_account_deletion_removes_the_address_and_every_link(app, client, mailbox):
    sign_up_and_confirm(client, mailbox)
    ask_for_reset(app.test_client())
    mailbox.wait()
    csrf = csrf_token_from(client.get("/account/delete"))
    assert (
        client.post("/account/delete", data={"password": "correct horse battery", "csrf_token": csrf}).status_code
        == 303
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EmailToken)) == 0
        assert db.session.scalar(select(func.count()).select_from(EmailAddress)) == 0
