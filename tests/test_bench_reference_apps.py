"""The benchmark's peers serve what they claim to, and the same page as the project (bench/peers).

``make bench`` compares this project's signed-in ``/dashboard`` and anonymous
``/auth/login`` with a typical Flask starter, the same on Flask-Session, Django and
a bare floor. The comparison is fair only while each peer answers with an
equivalent page: the same facts, nav, stylesheet and sign-out form with a CSRF
token, about as many bytes, the same security headers; and only while each peer
costs what it stands for in Redis and SQL. Nothing here is timed.

Every app is built in this process, as the bench's own counts build them, and
signed in through its real form.
"""

import importlib.util
import os
import re
import secrets
import shutil
from html.parser import HTMLParser

import pytest

from bench import counting
from bench.contenders import USERNAME, WsgiBrowser, all_contenders
from bench.peers import floor
from bench.peers.page import SECURITY_HEADERS
from tests.support.processes import FAST_UNLIMITED_SETTINGS, RedisServer
from tests.support.tools import require

PEERS = ("starter", "flask_session", "django")
MAX_SIZE_DIFFERENCE = 0.05
# Headers every page has that say nothing about security.
OTHER_HEADERS = {"Content-Type", "Content-Length", "Set-Cookie", "Vary", "Expires"}
KEY = "bench-test-key-0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def bench_redis(tmp_path_factory):
    require(shutil.which("redis-server") is not None, "redis-server not found (apt-get install redis-server)")
    server = RedisServer(tmp_path_factory.mktemp("bench-redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def apps(bench_redis, tmp_path_factory):
    """Every app of the bench, prepared and signed in: ``{key: (contender, browser)}``."""
    # The browser tests, earlier in the same run, leave Playwright's event loop set on
    # this thread; Django then takes every database call for one made from async code
    # and refuses it. Nothing here is async: Django's documented switch says so.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    require(importlib.util.find_spec("django") is not None, "Django not installed: pip install -r requirements-dev.txt")
    password = secrets.token_urlsafe(16)
    cheap_hashing = {
        name: value for name, value in FAST_UNLIMITED_SETTINGS.items() if name.startswith("FLASK_PASSWORD_HASH")
    }
    signed_in = {}
    for app in all_contenders(tmp_path_factory.mktemp("bench"), bench_redis.url, project_overrides=cheap_hashing):
        app.prepare(password)
        signed_in[app.key] = (app, app.sign_in(WsgiBrowser(app.build()), password))
    return signed_in


def signed_in_page(apps, key):
    app, browser = apps[key]
    return browser.get(app.signed_in_path)


def sign_in_page(apps, key):
    app, _ = apps[key]
    return WsgiBrowser(app.build(), use_cookies=False).get(app.sign_in_path)


class PageOutline(HTMLParser):
    """What a page is made of: nav links, stylesheets, facts, forms and their hidden fields."""

    def __init__(self, csrf_field):
        super().__init__()
        self.csrf_field = csrf_field
        self.nav_links, self.stylesheets, self.facts, self.times = [], [], 0, 0
        self.forms = []  # (action, method, CSRF token)
        self._in_main_nav = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "nav" and attributes.get("aria-label") == "Main":
            self._in_main_nav = True
        elif tag == "a" and self._in_main_nav:
            self.nav_links.append(attributes["href"])
        elif tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes["href"])
        elif tag == "dt":
            self.facts += 1
        elif tag == "time":
            self.times += 1
        elif tag == "form":
            self.forms.append([attributes.get("action"), attributes.get("method"), None])
        elif tag == "input" and attributes.get("name") == self.csrf_field and self.forms:
            self.forms[-1][2] = attributes.get("value")

    def handle_endtag(self, tag):
        if tag == "nav":
            self._in_main_nav = False


def outline(apps, key, response):
    parsed = PageOutline(apps[key][0].csrf_field)
    parsed.feed(response.text)
    return parsed


@pytest.mark.parametrize("key", PEERS)
def test_peer_dashboard_is_the_projects_dashboard_in_other_words(apps, key):
    project, peer = signed_in_page(apps, "project"), signed_in_page(apps, key)
    assert project.status_code == peer.status_code == 200
    ours, theirs = outline(apps, "project", project), outline(apps, key, peer)

    assert f"Hello, {USERNAME}" in peer.text
    assert (theirs.facts, theirs.times) == (ours.facts, ours.times)
    assert theirs.nav_links == ours.nav_links
    assert theirs.stylesheets == ours.stylesheets == ["/static/style.css"]
    [(action, method, token)] = theirs.forms
    assert (action, method) == ("/auth/logout", "post")
    assert token
    assert abs(len(peer.data) - len(project.data)) <= MAX_SIZE_DIFFERENCE * len(project.data)


@pytest.mark.parametrize("key", PEERS)
def test_peer_sign_in_page_is_the_projects_form_in_other_words(apps, key):
    project, peer = sign_in_page(apps, "project"), sign_in_page(apps, key)
    assert project.status_code == peer.status_code == 200
    ours, theirs = outline(apps, "project", project), outline(apps, key, peer)

    [(_, method, token)] = theirs.forms
    assert method == "post"
    assert token
    for field in ('name="username"', 'type="password"', 'name="remember"'):
        assert field in peer.text
    assert theirs.nav_links == ours.nav_links
    assert theirs.stylesheets == ours.stylesheets
    assert abs(len(peer.data) - len(project.data)) <= MAX_SIZE_DIFFERENCE * len(project.data)


@pytest.mark.parametrize("page", [signed_in_page, sign_in_page])
@pytest.mark.parametrize("key", PEERS)
def test_peer_sends_the_projects_security_headers(apps, key, page):
    project, peer = page(apps, "project"), page(apps, key)

    # The list in bench/peers/page.py is every header the project sends, with its value.
    assert set(project.headers.keys()) - OTHER_HEADERS == set(SECURITY_HEADERS)
    for name, value in SECURITY_HEADERS.items():
        assert project.headers[name] == value, name
        assert peer.headers.get(name) == value, name


@pytest.mark.parametrize("key", PEERS)
def test_peer_dashboard_is_for_signed_in_users_only(apps, key):
    app, _ = apps[key]
    answer = WsgiBrowser(app.build(), use_cookies=False).get(app.signed_in_path)

    assert answer.status_code == 302
    assert "/auth/login" in answer.headers["Location"]


# What each peer stands for, per signed-in request: (Redis commands, SQL statements),
# and Redis writes per anonymous sign-in page.
COSTS = {
    "starter": ({}, 1, 0),
    "flask_session": ({"get": 1, "set": 1}, 1, 1),
    "django": ({"get": 1}, 1, 0),
}


@pytest.mark.parametrize("key", PEERS)
def test_peer_costs_what_it_stands_for(apps, key, bench_redis):
    app, browser = apps[key]
    commands, statements, anonymous_writes = COSTS[key]
    costs = counting.measure(app, bench_redis.client(), browser, count=10)

    signed_in = costs["signed_in"]
    assert signed_in.redis_commands == commands
    assert signed_in.sql == statements
    assert re.match(r"SELECT … FROM \W?(auth_)?user", next(iter(signed_in.sql_statements)))
    assert costs["sign_in_page"].writes == anonymous_writes
    assert (signed_in.session_bytes > 0) == bool(commands)


def test_floor_reads_the_name_from_its_signed_cookie():
    app = floor.create_app(KEY)
    cookie = floor.session_cookie(app, "bench")

    def whoami(value=None):
        client = app.test_client()
        if value is not None:
            client.set_cookie("session", value)
        return client.get("/").text

    assert whoami(cookie) == "Signed in as bench\n"
    assert whoami() == "Signed in as nobody\n"
    # The signature is checked on every request: that cost is part of the floor.
    assert whoami(cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")) == "Signed in as nobody\n"
