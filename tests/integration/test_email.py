"""Email end to end: the production app under gunicorn sends to a real SMTP server
(aiosmtpd on loopback), and the links in the messages it receives are followed
through the app like a user's browser would.
"""

import email
import email.policy
import re
import time

import pytest
from aiosmtpd.controller import Controller

from tests.integration.conftest import PASSWORD, csrf_token_from, is_signed_in, sent_to_sign_in, unique_username
from tests.support.processes import AppServer, free_port

pytestmark = pytest.mark.integration
NEW_PASSWORD = "a brand new passphrase for tests"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self):
        self.messages = []
        self.controller = None

    def stop(self):
        """Stop the server (an outage); the fixture leaves a stopped server alone."""
        self.controller.stop()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"

    def wait_for(self, address, subject, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages:
                if message["To"] == address and message["Subject"] == subject:
                    self.messages.remove(message)
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no message {subject!r} to {address} within {timeout} s; got {self.subjects()}")

    def subjects(self):
        return [(message["To"], message["Subject"]) for message in self.messages]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.controller = controller
    yield inbox
    if inbox.controller is not None:
        inbox.controller.stop()


@pytest.fixture
def site(deployment, smtp):
    """Redis, the tables, and one production instance whose links name its own address."""
    redis_url = deployment.redis().url
    deployment.migrate_db(redis_url)
    port = free_port()
    settings = deployment.settings(
        redis_url,
        FLASK_PUBLIC_BASE_URL=f"https://127.0.0.1:{port}",
        FLASK_MAIL_SERVER="127.0.0.1",
        FLASK_MAIL_PORT=str(smtp.controller.port),
        # The test server speaks no TLS; a real one is reached with STARTTLS (the default).
        FLASK_MAIL_USE_TLS="false",
        FLASK_MAIL_TIMEOUT="2",
        FLASK_MAIL_DEFAULT_SENDER="Secure Sessions <no-reply@127.0.0.1>",
        GUNICORN_THREADS="4",
    )
    server = AppServer(
        deployment.directory / "apps", settings, port=port, certfile=deployment.certfile, keyfile=deployment.keyfile
    )
    return deployment.track(server.start(verify=str(deployment.ca)))


def link_in(message, server, path):
    """The link to ``path`` in the plain-text part: it must name the configured site."""
    text = message.get_body(("plain",)).get_content()
    (found,) = re.findall(re.escape(server.url) + re.escape(path) + r"\?token=[A-Za-z0-9_-]+", text)
    html = message.get_body(("html",)).get_content()
    assert f'href="{found}"' in html
    return found[len(server.url) :]


def press(browser, server, path, **fields):
    """Open an emailed link, then press the button on its page."""
    page = browser.get(server, path)
    assert page.status_code == 200, page.status_code
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page.text).group(1)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    return browser.post(server, action, {"csrf_token": csrf_token_from(page.text), "token": token, **fields})


def sign_up(browser, server, username, address):
    response = browser.submit(
        server,
        "/auth/register",
        {"username": username, "password": PASSWORD, "confirm": PASSWORD, "email": address},
    )
    assert response.status_code == 303


def test_forget_the_password_reset_it_and_end_a_strangers_sign_in_from_the_alert(deployment, site, smtp):
    username = unique_username("mail")
    address = f"{username}@example.org"
    laptop = deployment.browser()
    sign_up(laptop, site, username, address)
    confirmation = smtp.wait_for(address, "Confirm your email address")
    assert press(deployment.browser(), site, link_in(confirmation, site, "/email/confirm")).status_code == 200

    # Forget the password, from another browser.
    phone = deployment.browser()
    answer = phone.submit(site, "/auth/forgot", {"account": address})
    assert answer.status_code == 200
    reset = smtp.wait_for(address, "Set a new password")
    done = press(phone, site, link_in(reset, site, "/auth/reset"), new_password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert done.status_code == 303
    assert not is_signed_in(phone.get(site, "/dashboard"))  # nobody is signed in by a reset
    assert sent_to_sign_in(laptop.get(site, "/dashboard"))  # every other browser is signed out
    smtp.wait_for(address, "Your password was reset")

    # Sign in from a new browser: the owner gets an alert, and ends that sign-in from it.
    stranger = deployment.browser()
    stranger.http.headers["User-Agent"] = FIREFOX
    stranger.login(site, username, NEW_PASSWORD)
    assert is_signed_in(stranger.get(site, "/dashboard"))
    alert = smtp.wait_for(address, "A new sign-in to your account")
    assert "Firefox 133 (Linux)" in alert.get_body(("plain",)).get_content()
    not_me = link_in(alert, site, "/auth/not-me")
    assert press(phone, site, not_me).status_code == 200
    assert sent_to_sign_in(stranger.get(site, "/dashboard"))
    assert phone.get(site, not_me).status_code == 404  # once
    for browser in (laptop, phone, stranger):
        assert browser.server_errors() == []


def test_change_the_address_and_undo_it_from_the_old_one(deployment, site, smtp):
    username = unique_username("mail")
    old, new = f"{username}@example.org", f"{username}@new.example"
    owner = deployment.browser()
    sign_up(owner, site, username, old)
    press(owner, site, link_in(smtp.wait_for(old, "Confirm your email address"), site, "/email/confirm"))

    changed = owner.submit(site, "/account/email", {"address": new, "password": PASSWORD})
    assert changed.status_code == 303
    confirmed = press(owner, site, link_in(smtp.wait_for(new, "Confirm your email address"), site, "/email/confirm"))
    assert confirmed.status_code == 200
    notice = smtp.wait_for(old, "The email address of your account was changed")
    restored = press(deployment.browser(), site, link_in(notice, site, "/email/undo"))
    assert restored.status_code == 200
    assert sent_to_sign_in(owner.get(site, "/dashboard"))  # every session ended with the undo


def test_a_mail_server_that_is_down_shows_in_healthz_and_nowhere_else(deployment, site, smtp):
    username = unique_username("mail")
    address = f"{username}@example.org"
    owner = deployment.browser()
    sign_up(owner, site, username, address)
    press(owner, site, link_in(smtp.wait_for(address, "Confirm your email address"), site, "/email/confirm"))
    visitor = deployment.browser()
    expected = visitor.submit(site, "/auth/forgot", {"account": "nobody-at-all"}).text
    smtp.stop()

    for account in (address, username, "nobody-at-all"):
        answer = visitor.submit(site, "/auth/forgot", {"account": account})
        assert (answer.status_code, answer.text) == (200, expected)

    def mail_unreachable():
        health = visitor.get(site, "/healthz")
        return health.status_code == 503 and health.json()["mail"] == "unreachable"

    deadline = time.monotonic() + 15
    while not mail_unreachable():
        assert time.monotonic() < deadline, "healthz never said the mail server is unreachable"
        time.sleep(0.2)
    assert "mail server refused or unreachable" in site.log()
    assert address not in site.log()
    assert visitor.server_errors() == []
