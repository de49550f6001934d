"""Fixtures for browser tests: the app as production runs it, and a real Chromium.

One site serves the whole run: gunicorn over HTTPS on 127.0.0.1 with
``APP_ENV=production``, a throwaway redis-server and a SQLite file. Chromium is
told to trust exactly that server's key (its SPKI hash) and nothing else, so
pages load as a secure context without a certificate error, as on a real site.

Each test gets fresh browser profiles (``open_device``) and its own account
(``user``, ``registered_user``), so tests share the server but nothing else.
Without Chromium or Playwright the tests are skipped loudly; with ``CI`` set
they fail instead, so a CI machine cannot silently lose them.
"""

import base64
import hashlib
import os
import secrets
import shutil
from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.support.processes import AppServer, RedisServer, flask_command, tls_files
from tests.support.tools import require

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    sync_playwright = None
    if not os.environ.get("CI"):
        # The test modules import Playwright themselves; under CI their import
        # error is left to fail the run.
        collect_ignore_glob = ["test_*.py"]

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
# Playwright turns the back/forward cache off; a user's browser has it on, and it is
# what brings a signed-in page back on Back after sign-out unless that page was
# sent with Cache-Control: no-store (tried: without it, the back-button test fails
# only when this cache is on).
PLAYWRIGHT_ARGS_A_USER_DOES_NOT_HAVE = ["--disable-back-forward-cache"]
# Generous: an argon2id hash takes a second or more on a busy two-core machine.
TIMEOUT_MS = 15_000


def pytest_terminal_summary(terminalreporter):
    if sync_playwright is None and not os.environ.get("CI"):
        terminalreporter.write_line(
            "SKIPPED LOUDLY: tests/e2e, playwright is not installed: pip install -r requirements-dev.txt",
            yellow=True,
        )


@dataclass
class Site:
    url: str
    spki_sha256: str
    server: AppServer
    # The CA, certificate and key files (the certificate is for 127.0.0.1 and localhost).
    tls: tuple = ()

    def server_log_tail(self, lines=25):
        return "\n".join(self.server.log().splitlines()[-lines:])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test shows the end of the server's log: the traceback is there."""
    report = yield
    site = getattr(item, "funcargs", {}).get("site")
    if report.failed and isinstance(site, Site):
        report.sections.append(("app server log (last lines)", site.server_log_tail()))
    return report


def spki_sha256(cert_pem):
    """The base64 SHA-256 of a certificate's public key, as Chromium's pin list wants it."""
    certificate = x509.load_pem_x509_certificates(cert_pem.read_bytes())[0]
    key = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(key).digest()).decode()


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The app in its production config, over HTTPS, for the whole run."""
    require(shutil.which("redis-server"), "redis-server not found: apt-get install redis-server")
    directory = tmp_path_factory.mktemp("e2e")
    ca_pem, cert_pem, key_pem = tls_files(directory / "tls")
    with ExitStack() as running:
        redis_server = RedisServer(directory / "redis").start()
        running.callback(redis_server.stop)
        env = {
            "APP_ENV": "production",
            "FLASK_SECRET_KEY": secrets.token_urlsafe(48),
            "REDIS_URL": redis_server.url,
            "DATABASE_URL": f"sqlite:///{directory / 'app.db'}",
            # Every test signs up from 127.0.0.1; production allows 10 sign-ups an hour per address.
            "FLASK_REGISTER_RATE_LIMIT": "1000/hour",
        }
        app_server = AppServer(directory / "app", env, certfile=cert_pem, keyfile=key_pem, workers=1)
        flask_command(env, ["db", "upgrade"])
        running.callback(app_server.stop)
        app_server.start(verify=str(ca_pem))
        yield Site(
            url=app_server.url, spki_sha256=spki_sha256(cert_pem), server=app_server, tls=(ca_pem, cert_pem, key_pem)
        )


@pytest.fixture(scope="session")
def launch_browser(site):
    """Starts a Chromium that trusts the site's key; all of them are closed at the end."""
    require(sync_playwright is not None, "playwright is not installed: pip install -r requirements-dev.txt")
    require(os.access(CHROMIUM, os.X_OK), f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:

        def launch():
            return playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={site.spki_sha256}"],
                ignore_default_args=PLAYWRIGHT_ARGS_A_USER_DOES_NOT_HAVE,
            )

        yield launch


@pytest.fixture(scope="session")
def browser(launch_browser):
    """The browser most tests share; each test still gets fresh profiles from it."""
    chromium = launch_browser()
    yield chromium
    chromium.close()


@dataclass
class User:
    name: str
    password: str


@pytest.fixture
def user():
    """A new account's name and password; nobody has signed up with them yet."""
    # Random words keep the password off the common-passwords list and free of the name.
    return User(name=f"e2e-{secrets.token_hex(6)}", password=f"amber {secrets.token_hex(8)} lantern")


class Device:
    """One browser profile (a Playwright context) with one tab, used through the real forms."""

    def __init__(self, context, origin):
        self.context = context
        self.origin = origin
        self.page = context.new_page()

    def register(self, user):
        self.page.goto("/auth/register")
        self.page.get_by_label("Username").fill(user.name)
        self.page.get_by_label("Password", exact=True).fill(user.password)
        self.page.get_by_label("Repeat the password").fill(user.password)
        self.page.get_by_role("button", name="Create account").click()
        self.expect_dashboard_of(user)

    def sign_in(self, user, remember=False):
        self.page.goto("/auth/login")
        self.page.get_by_label("Username").fill(user.name)
        self.page.get_by_label("Password").fill(user.password)
        if remember:
            self.page.get_by_label("Keep me signed in on this device").check()
        self.page.get_by_role("button", name="Sign in", exact=True).click()
        self.expect_dashboard_of(user)

    def sign_out(self):
        navigation = self.page.get_by_role("navigation", name="Main")
        navigation.get_by_role("button", name="Sign out").click()
        expect(navigation.get_by_role("link", name="Sign in")).to_be_visible()

    def expect_dashboard_of(self, user):
        expect(self.page).to_have_url(f"{self.origin}/dashboard")
        expect(self.page.get_by_role("heading", name=f"Hello, {user.name}")).to_be_visible()

    def expect_sign_in_page(self, came_from="/dashboard"):
        expect(self.page).to_have_url(f"{self.origin}/auth/login?next={quote(came_from, safe='')}")
        expect(self.page.get_by_role("heading", name="Sign in")).to_be_visible()

    def cookie(self, name):
        matches = [cookie for cookie in self.context.cookies() if cookie["name"] == name]
        return matches[0] if matches else None


@pytest.fixture
def open_device(browser, site):
    """Opens a fresh browser profile; pass ``storage_state`` to restore saved cookies."""
    contexts = []

    def open_device(**options):
        # The tests read English labels; the app may pick a language from the browser's.
        context = browser.new_context(base_url=site.url, locale="en-US", **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return Device(context, site.url)

    yield open_device
    for context in contexts:
        context.close()


@pytest.fixture
def device(open_device):
    return open_device()


@pytest.fixture
def registered_user(open_device, user):
    """A user who signed up in a browser of their own and signed out again."""
    signup = open_device()
    signup.register(user)
    signup.sign_out()
    signup.context.close()
    return user
