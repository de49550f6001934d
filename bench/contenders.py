"""The apps the benchmark compares, and how to prepare, serve, build and sign in to each.

Every app is reached the same way: through a pretend TLS-terminating proxy (wrk and
the bench speak plain HTTP; each request carries ``X-Forwarded-Proto: https`` and
``X-Forwarded-For``, and each app trusts one proxy), under the project's own
``gunicorn.conf.py`` (workers, threads, JSON access log), with one user, signed in
through its real sign-in form. The same apps are also built in the bench's own
process, where ``bench/counting.py`` counts what one request sends to Redis and SQL
and ``bench/breakdown.py`` times the layers of a request.

Each app keeps its Redis data in a database number of its own on the bench's one
redis-server, so their keys never mix.
"""

import os
import secrets
from contextlib import contextmanager
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path

import requests
from werkzeug.test import Client

from tests.support.processes import (
    AppServer,
    Process,
    app_environment,
    flask_command,
    free_port,
    gunicorn_command,
    wait_until,
)

ROOT = Path(__file__).resolve().parent.parent
USERNAME = "benchuser"
# Every client of the bench looks like one browser at one address.
USER_AGENT = "session-bench/1.0"
CLIENT_ADDRESS = "198.51.100.7"
# Where the in-process clients pretend to be.
IN_PROCESS_URL = "https://localhost"
GUNICORN_THREADS = 4
REQUEST_TIMEOUT = 30
SIGNED_IN_PAGE, SIGN_IN_PAGE = "signed-in page", "sign-in page"
# Sign-in limits of the project, raised so that the bench's own sign-ins are never refused.
RAISED_LIMIT = "1000000/minute"
RAISED_LIMITS = (
    "FLASK_LOGIN_RATE_LIMIT",
    "FLASK_ACCOUNT_LOGIN_RATE_LIMIT",
    "FLASK_SUCCESSFUL_LOGIN_RATE_LIMIT",
    "FLASK_ACCOUNT_SUCCESSFUL_LOGIN_RATE_LIMIT",
)


class BenchError(RuntimeError):
    """The benchmark could not measure what it meant to (not a missed target)."""


def proxy_headers(host):
    """What a TLS-terminating proxy in front of an app would add to each request."""
    return {
        "Host": host,
        "User-Agent": USER_AGENT,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": CLIENT_ADDRESS,
    }


@contextmanager
def environment(settings):
    """``settings`` as environment variables, for as long as an app is being built."""
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Contender:
    """One app of the benchmark; subclasses say what differs."""

    key = label = gunicorn_app = ""
    csrf_field = "csrf_token"
    signed_in_path = "/dashboard"
    # None: the app has no sign-in page (the floor).
    sign_in_path = "/auth/login"
    redis_db = None

    def __init__(self, workdir, redis_url=None, secret_key=None):
        self.workdir = Path(workdir) / self.key
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.redis_base_url = redis_url
        self.secret_key = secret_key or secrets.token_hex(32)
        self._app = None

    @property
    def redis_url(self):
        """The app's own database on the bench's redis-server."""
        if self.redis_db is None:
            return None
        return f"{self.redis_base_url.rsplit('/', 1)[0]}/{self.redis_db}"

    def settings(self):
        """Environment variables of the app, served or built here."""
        return {"BENCH_SECRET_KEY": self.secret_key}

    def prepare(self, password):
        """Make the app's tables and the bench user."""

    def build(self):
        """The app as a WSGI callable in this process (built once)."""
        if self._app is None:
            with environment(self.settings()):
                self._app = self._build()
        return self._app

    def _build(self):
        raise NotImplementedError

    def server(self, workers):
        """The app under gunicorn with the project's config, not started yet."""
        port = free_port()
        server = PeerServer(
            gunicorn_command(port, workers, self.gunicorn_app),
            self.workdir / f"gunicorn-{port}.log",
            env=app_environment({**self.settings(), "GUNICORN_THREADS": str(GUNICORN_THREADS)}),
        )
        server.url = f"http://127.0.0.1:{port}"
        server.ready_path = self.sign_in_path or self.signed_in_path
        return server

    def markers(self, page):
        """Strings every answer of ``page`` must contain to count as that page."""
        if page == SIGNED_IN_PAGE:
            return [USERNAME, 'action="/auth/logout"', f'name="{self.csrf_field}"']
        return [f'name="{self.csrf_field}"', 'name="password"']

    def sign_in(self, browser, password):
        """Sign ``browser`` in through the app's form, then visit the signed-in page once.

        The first visit may store a new CSRF secret; after it, the browser's cookies
        are what every later request of a signed-in user sends.
        """
        form = browser.get(self.sign_in_path)
        expect_page(form, 200, self.markers(SIGN_IN_PAGE), f"{self.label}: the sign-in page")
        answer = browser.post(
            self.sign_in_path,
            {self.csrf_field: form_field(form.text, self.csrf_field), "username": USERNAME, "password": password},
        )
        if answer.status_code not in (302, 303):
            raise BenchError(f"{self.label}: signing in answered {answer.status_code}:\n{answer.text[:500]}")
        page = browser.get(self.signed_in_path)
        expect_page(page, 200, self.markers(SIGNED_IN_PAGE), f"{self.label}: the signed-in page")
        return browser


class Project(Contender):
    key = "project"
    label = "This project"
    redis_db = 0

    def __init__(self, workdir, redis_url, database_url=None, secret_key=None, overrides=None):
        super().__init__(workdir, redis_url, secret_key)
        self.database_url = database_url or f"sqlite:///{self.workdir / 'app.db'}"
        # More settings; the bench's test makes password hashing cheap with them.
        self.overrides = overrides or {}

    def settings(self):
        """Production settings, plus what the bench needs: the pretend proxy, raised sign-in limits."""
        return {
            "APP_ENV": "production",
            "FLASK_SECRET_KEY": self.secret_key,
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": self.database_url,
            "FLASK_TRUSTED_PROXIES": "1",
            **dict.fromkeys(RAISED_LIMITS, RAISED_LIMIT),
            **self.overrides,
        }

    def prepare(self, password):
        flask_command(self.settings(), ["db", "upgrade"])
        flask_command(self.settings(), ["create-user", USERNAME, "--password", password])

    def _build(self):
        from app import create_app
        from bench import breakdown

        app = create_app(instance_path=self.workdir / "instance")
        # Flask accepts new routes only before the first request.
        breakdown.add_probe_routes(app)
        return app

    def server(self, workers):
        # Ready when /healthz answers.
        return AppServer(self.workdir, self.settings() | {"GUNICORN_THREADS": str(GUNICORN_THREADS)}, workers=workers)


class FlaskStarter(Contender):
    key = "starter"
    label = "Typical Flask starter"
    gunicorn_app = "bench.peers.flask_starter:create_app()"

    def settings(self):
        return {**super().settings(), "BENCH_DATABASE_URL": f"sqlite:///{self.workdir / 'starter.db'}"}

    def prepare(self, password):
        from bench.peers import flask_starter

        flask_starter.create_user(self.build(), USERNAME, password)

    def _build(self):
        from bench.peers import flask_starter

        return flask_starter.create_app()


class FlaskSessionStarter(FlaskStarter):
    key = "flask_session"
    label = "Starter + Flask-Session on Redis"
    gunicorn_app = "bench.peers.flask_starter:create_redis_session_app()"
    redis_db = 1

    def settings(self):
        return {**super().settings(), "BENCH_REDIS_URL": self.redis_url}

    def _build(self):
        from bench.peers import flask_starter

        return flask_starter.create_redis_session_app()


class DjangoStarter(Contender):
    key = "django"
    label = "Django 5.2, cache sessions on Redis"
    gunicorn_app = "bench.peers.django_starter.wsgi:application"
    csrf_field = "csrfmiddlewaretoken"
    redis_db = 2

    def settings(self):
        return {
            **super().settings(),
            "BENCH_DJANGO_DATABASE": str(self.workdir / "django.sqlite3"),
            "BENCH_REDIS_URL": self.redis_url,
        }

    def prepare(self, password):
        self.build()
        from bench.peers.django_starter import wsgi

        wsgi.create_user(USERNAME, password)

    def _build(self):
        # Django reads its settings once per process: one Django peer per process.
        from bench.peers.django_starter import wsgi

        return wsgi.application


class Floor(Contender):
    key = "floor"
    label = "Bare floor (one route, signed cookie, no page)"
    gunicorn_app = "bench.peers.floor:create_app()"
    signed_in_path = "/"
    sign_in_path = None

    def _build(self):
        from bench.peers import floor

        return floor.create_app()

    def markers(self, page):
        return [f"Signed in as {USERNAME}"]

    def sign_in(self, browser, password):
        """The floor has no form: the browser gets the signed cookie a sign-in would give."""
        from bench.peers import floor

        browser.set_cookie("session", floor.session_cookie(self.build(), USERNAME))
        return browser


def all_contenders(workdir, redis_url, database_url=None, project_overrides=None):
    """The project first, then the peers in the order of the report."""
    return [
        Project(workdir, redis_url, database_url, overrides=project_overrides),
        FlaskStarter(workdir, redis_url),
        FlaskSessionStarter(workdir, redis_url),
        DjangoStarter(workdir, redis_url),
        Floor(workdir, redis_url),
    ]


class PeerServer(Process):
    """A peer under gunicorn; ready when its first page answers."""

    url = ready_path = None

    def start(self):
        super().start()

        def answers():
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited:\n{self.log()}")
            return requests.get(self.url + self.ready_path, headers=proxy_headers(self.url[7:]), timeout=2).ok

        wait_until(answers, what=f"gunicorn for {self.log_path.parent.name}")
        return self


class HttpBrowser:
    """One browser reaching a served app through the pretend proxy, over plain HTTP.

    requests (like a browser) never sends a Secure cookie over plain HTTP, so the
    cookies are taken from each answer and sent back by hand, as a browser behind
    TLS would.
    """

    def __init__(self, base_url):
        self.base_url = base_url
        self.headers = proxy_headers(base_url.removeprefix("http://"))
        self.cookies = {}

    def get(self, path):
        return self._request("GET", path)

    def post(self, path, data):
        # On HTTPS, CSRF protection wants a same-origin Referer.
        return self._request("POST", path, data=data, referer=f"https://{self.headers['Host']}{path}")

    def set_cookie(self, name, value):
        self.cookies[name] = value

    def cookie_header(self):
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request_headers(self):
        """The headers of a request of this browser: wrk sends exactly these."""
        return {**self.headers, "Cookie": self.cookie_header()} if self.cookies else dict(self.headers)

    def _request(self, method, path, data=None, referer=None):
        headers = self.request_headers()
        if referer:
            headers["Referer"] = referer
        response = requests.request(
            method, self.base_url + path, data=data, headers=headers, allow_redirects=False, timeout=REQUEST_TIMEOUT
        )
        for header in response.raw.headers.getlist("Set-Cookie"):
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response


class WsgiBrowser:
    """The same browser calling an app in this process (Werkzeug's test client).

    Werkzeug's client sends Secure cookies over its pretend HTTPS as a browser would.
    """

    def __init__(self, app, use_cookies=True):
        self.client = Client(app, use_cookies=use_cookies)
        self.headers = {name: value for name, value in proxy_headers("localhost").items() if name != "Host"}

    def set_cookie(self, name, value):
        self.client.set_cookie(name, value, domain="localhost")

    def get(self, path):
        return self.client.get(path, base_url=IN_PROCESS_URL, headers=self.headers)

    def post(self, path, data):
        headers = {**self.headers, "Referer": IN_PROCESS_URL + path}
        return self.client.post(path, base_url=IN_PROCESS_URL, headers=headers, data=data)


class _FieldFinder(HTMLParser):
    def __init__(self, name):
        super().__init__()
        self.name = name
        self.value = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("name") == self.name and self.value is None:
            self.value = attributes.get("value")


def form_field(page, name):
    """The value of the first ``<input name=...>`` of ``page``."""
    finder = _FieldFinder(name)
    finder.feed(page)
    if not finder.value:
        raise BenchError(f"no {name} field in the form")
    return finder.value


def expect_page(response, status, markers, what):
    """Raise unless ``response`` has ``status`` and contains every marker."""
    text = response.text
    missing = [marker for marker in markers if marker not in text]
    if response.status_code != status or missing:
        raise BenchError(
            f"{what} answered {response.status_code} (expected {status}), missing {missing}:\n{text[:800]}"
        )
