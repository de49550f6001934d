"""Fixtures for integration tests: real processes on loopback, driven like a browser.

Each test deploys the app the way production runs it (``APP_ENV=production``,
gunicorn, TLS, ``__Host-`` cookies, CSRF with the Referer check) against a real
redis-server, and talks to it over HTTPS with ``requests``. Nothing is faked:
to test an outage, a test stops a real server.
"""

import itertools
import re
import secrets
import time

import pytest
import requests

from tests.support.processes import AppServer, RedisServer, flask_command, tls_files

SESSION_COOKIE = "__Host-session"
PASSWORD = "correct horse battery staple"
CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REQUEST_TIMEOUT = 10
_usernames = itertools.count(1)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "integration: starts real redis-server and gunicorn processes on loopback (a few seconds each)",
    )


def unique_username(prefix="user"):
    """A new account name for each call: every test in a deployment gets its own users."""
    return f"{prefix}{next(_usernames)}-{secrets.token_hex(3)}"


class Deployment:
    """One site: a secret key and a database that every app instance shares.

    It starts the processes a test asks for and stops every one of them at the
    end of the test, even when the test fails halfway.
    """

    def __init__(self, directory, tls):
        self.directory = directory
        self.ca, self.certfile, self.keyfile = tls
        self.secret_key = secrets.token_hex(32)
        self.database_url = f"sqlite:///{directory / 'app.db'}"
        self.processes = []
        self.browsers = []
        self._databases_ready = set()

    def redis(self, name="redis", port=None, extra=()):
        """Start a redis-server whose files live in its own folder, named ``name``."""
        return self.track(RedisServer(self.directory / name, port=port, extra=extra).start())

    def settings(self, redis_url, database_url=None, **extra):
        """The production settings of one instance; the addresses vary, ``extra`` adds."""
        return {
            "APP_ENV": "production",
            "FLASK_SECRET_KEY": self.secret_key,
            "REDIS_URL": redis_url,
            "DATABASE_URL": database_url or self.database_url,
            **extra,
        }

    def migrate_db(self, redis_url, database_url=None):
        """Make or update the tables with ``flask db upgrade``, as an operator would."""
        flask_command(self.settings(redis_url, database_url), ["db", "upgrade"])

    def app(self, redis_url, database_url=None, migrate_db=True, **extra):
        """Start one more app instance (gunicorn, one worker, TLS) on a free port.

        ``extra`` adds environment variables, e.g. ``FLASK_IDLE_TIMEOUT="60"``.
        """
        database_url = database_url or self.database_url
        if migrate_db and database_url not in self._databases_ready:
            self.migrate_db(redis_url, database_url)
            self._databases_ready.add(database_url)
        server = AppServer(
            self.directory / "apps",
            self.settings(redis_url, database_url, **extra),
            certfile=self.certfile,
            keyfile=self.keyfile,
        )
        return self.track(server.start(verify=str(self.ca)))

    def track(self, process):
        self.processes.append(process)
        return process

    def browser(self, cookies_from=None):
        """A new browser; ``cookies_from`` copies another's cookies (a stolen copy, a second tab)."""
        browser = Browser(self.ca)
        if cookies_from is not None:
            browser.http.cookies.update(cookies_from.http.cookies)
        self.browsers.append(browser)
        return browser

    def stop_all(self):
        # Idle keep-alive connections would hold up gunicorn's graceful shutdown.
        for browser in self.browsers:
            browser.http.close()
        for process in reversed(self.processes):
            process.stop()


class Browser:
    """A user's browser: one cookie jar, the test CA trusted, every status it saw kept.

    Redirects are not followed, so each test sees exactly what the server answered.
    Cookies are not tied to a port, so a browser moves between instances on
    127.0.0.1 with its session cookie, as it would between servers behind a balancer.
    """

    def __init__(self, ca):
        self.ca = str(ca)
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "integration-tests/1.0"
        self.seen = []

    def get(self, server, path):
        return self._send("GET", server.url + path)

    def post(self, server, path, data):
        # Over HTTPS Flask-WTF also wants a Referer of the same origin (WTF_CSRF_SSL_STRICT).
        return self._send("POST", server.url + path, data=data, headers={"Referer": server.url + "/"})

    def _send(self, method, url, **options):
        # verify goes with each request: a Session's own verify loses to REQUESTS_CA_BUNDLE.
        try:
            response = self.http.request(
                method, url, verify=self.ca, allow_redirects=False, timeout=REQUEST_TIMEOUT, **options
            )
        except requests.ConnectionError as error:
            # Worse than any status: a browser would show "connection reset", not a page.
            raise AssertionError(f"{method} {url} got no HTTP answer: {error}") from error
        self.seen.append((method, url, response.status_code))
        return response

    def submit(self, server, page, fields, action=None):
        """Load the form on ``page``, then post ``fields`` with its CSRF token to ``action``."""
        form_page = self.get(server, page)
        assert form_page.status_code == 200, f"GET {page} answered {form_page.status_code}"
        return self.post(server, action or page, {"csrf_token": csrf_token_from(form_page.text), **fields})

    def register(self, server, username, password=PASSWORD):
        response = self.submit(
            server, "/auth/register", {"username": username, "password": password, "confirm": password}
        )
        assert response.status_code == 303, f"sign-up answered {response.status_code}"
        return response

    def login(self, server, username, password=PASSWORD):
        response = self.submit(server, "/auth/login", {"username": username, "password": password})
        assert response.status_code == 303, f"sign-in answered {response.status_code}"
        return response

    def logout(self, server):
        response = self.submit(server, "/dashboard", {}, action="/auth/logout")
        assert response.status_code == 303, f"sign-out answered {response.status_code}"
        return response

    @property
    def session_id(self):
        return self.http.cookies.get(SESSION_COOKIE)

    def server_errors(self):
        """Every 500-class answer except 503, the app's deliberate 'try again shortly'."""
        return [(method, url, status) for method, url, status in self.seen if status >= 500 and status != 503]


def csrf_token_from(html):
    match = CSRF_PATTERN.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def is_signed_in(response):
    """For a GET of /dashboard: the page itself, not a redirect to sign in or an error."""
    return response.status_code == 200


def sent_to_sign_in(response):
    return response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def timed(call):
    """Run ``call`` and return its result and how many seconds it took."""
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.fixture(scope="session")
def tls(tmp_path_factory):
    """A throwaway CA and a certificate for 127.0.0.1, shared by every deployment."""
    return tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def deployment(tmp_path, tls):
    site = Deployment(tmp_path, tls)
    yield site
    site.stop_all()


@pytest.fixture(scope="module")
def module_deployment(tmp_path_factory, tls):
    """One deployment for a whole module, for tests that only read or add to it."""
    site = Deployment(tmp_path_factory.mktemp("deployment"), tls)
    yield site
    site.stop_all()
