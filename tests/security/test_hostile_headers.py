"""Hostile bytes in every request header the app or its libraries parse, through gunicorn.

Kind of fault: a header value that some parser on the way (Werkzeug, Flask-Login,
Flask-WTF, Flask-Babel, ua-parser, ProxyFix, gunicorn itself) does not expect,
turning into a 500, a dropped connection or a traceback. The site runs as in
production (gunicorn, TLS, Redis), behind one trusted proxy so that X-Forwarded-*
headers are believed, and with any Host accepted, so that every header reaches the
code that reads it. Each request must get an HTTP answer below 500, and the server
log must hold no traceback.

One answer of 5xx is right: gunicorn's 501 for a transfer coding it does not know,
which RFC 9112 (section 6.1) asks of a server. Nothing of such a request reaches the app.
"""

import re
import secrets
import shutil
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from tests.support.processes import FAST_UNLIMITED_SETTINGS, start_production_site
from tests.support.raw_http import request_bytes, send
from tests.support.tools import require

CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "correct horse battery staple"

# Values from bug reports against the libraries and from attack tools: non-ASCII and
# invalid UTF-8, control bytes, quotes, separators, huge numbers, broken URLs and
# addresses, and a value near gunicorn's 8 KB header limit.
HOSTILE_VALUES = [
    b"\xc3\xa9",
    b"x|\xc3\xa9",
    b"\xff\xfe\xfd",
    b"\xe2\x80\xae\xe2\x80\x8b",
    b"\x7f",
    b"\x01\x02",
    b"%00%ff",
    b'"',
    b"\\",
    b"'\"><script>alert(1)</script>",
    b";;;==,,,",
    b"=",
    b"a" * 7000,
    b"0",
    b"-1",
    b"99999999999999999999",
    b"[::1]:99999",
    b"[2001:db8:0:0:0:0:0:1]:65535",
    b"198.51.100.8:40000",
    b"1.2.3.4, garbage, [",
    b"https://127.0.0.1:99999/",
    b"https://127.0.0.1:8443.example/",
    b"https://[::1",
    b"http://",
    b"//evil.example/",
    b"javascript:alert(1)",
    b"de-DE;q=abc, *;q=-1, en;q=2",
    b"\t x \t",
]

# The cookies the site and its libraries read, and one they do not.
COOKIE_NAMES = ["__Host-session", "__Host-remember", "__Host-device", "__Host-lang", "__Host-signed-in", "unrelated"]
HEADERS = [
    "Referer",
    "Origin",
    "Sec-Fetch-Site",
    "Accept-Language",
    "User-Agent",
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Prefix",
    "Host",
    "Content-Type",
    "Content-Length",
    "Transfer-Encoding",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require(shutil.which("redis-server") is not None, "redis-server not found: apt-get install redis-server")
    settings = {
        "FLASK_TRUSTED_PROXIES": "1",
        "FLASK_TRUSTED_HOSTS": "null",
        # Hashing and limits are not under test here; every request should reach the view.
        **FAST_UNLIMITED_SETTINGS,
    }
    with ExitStack() as running:
        yield start_production_site(running, tmp_path_factory.mktemp("hostile"), settings)


class Scenario:
    """One request of a real visit: its method, path, cookies and form."""

    def __init__(self, method, path, cookies, form=None):
        self.method, self.path, self.cookies, self.form = method, path, cookies, form

    def raw(self, site, header, value):
        host = urlsplit(site.url).netloc
        body = urlencode(self.form).encode() if self.form else b""
        cookies = "; ".join(f"{name}={value}" for name, value in self.cookies.items()).encode()
        headers = {
            "Cookie": cookies,
            "Referer": f"{site.url}/auth/login".encode(),
            "User-Agent": b"Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
        }
        if body:
            headers["Content-Type"] = b"application/x-www-form-urlencoded"
        if header.startswith("Cookie:"):
            headers["Cookie"] = b"; ".join(filter(None, [cookies, header[7:].encode() + b"=" + value]))
        elif header == "Host":
            host = value.decode("latin-1")
        else:
            headers[header] = value
        return request_bytes(self.method, self.path, host, list(headers.items()), body)


def browser(site):
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override the test CA
    session.verify = site.ca_pem
    return session


def csrf_token(page):
    return CSRF_PATTERN.search(page.text).group(1)


@pytest.fixture(scope="module")
def scenarios(site):
    """A visitor with a form open, and a member signed in with remember-me."""
    visitor = browser(site)
    visitor.headers["Referer"] = site.url + "/"
    login_token = csrf_token(visitor.get(site.url + "/auth/login"))

    member = browser(site)
    member.headers["Referer"] = site.url + "/"
    username = f"member-{secrets.token_hex(3)}"
    token = csrf_token(member.get(site.url + "/auth/register"))
    member.post(
        site.url + "/auth/register",
        data={"username": username, "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token},
    )
    member.post(site.url + "/auth/logout", data={"csrf_token": csrf_token(member.get(site.url + "/dashboard"))})
    token = csrf_token(member.get(site.url + "/auth/login"))
    form = {"username": username, "password": PASSWORD, "remember": "y", "csrf_token": token}
    assert member.post(site.url + "/auth/login", data=form, allow_redirects=False).status_code == 303
    member_token = csrf_token(member.get(site.url + "/dashboard"))

    visitor_cookies = visitor.cookies.get_dict()
    member_cookies = member.cookies.get_dict()
    return {
        "landing page": Scenario("GET", "/", {}),
        "sign-in page": Scenario("GET", "/auth/login?next=/dashboard", visitor_cookies),
        "privacy page": Scenario("GET", "/privacy", visitor_cookies),
        "sign-in form": Scenario(
            "POST",
            "/auth/login",
            visitor_cookies,
            {"username": username, "password": PASSWORD, "csrf_token": login_token},
        ),
        "sign-out form": Scenario("POST", "/auth/logout", visitor_cookies, {"csrf_token": login_token}),
        "dashboard": Scenario("GET", "/dashboard", member_cookies),
        "devices page": Scenario("GET", "/account/sessions", member_cookies),
        "re-authentication form": Scenario(
            "POST", "/auth/reauth", member_cookies, {"password": "wrong password", "csrf_token": member_token}
        ),
    }


def answers(site, scenario, header):
    """(value, status) for every hostile value of ``header`` sent in ``scenario``."""

    def one(value):
        return value[:40], send(site.url, site.ca_pem, scenario.raw(site, header, value)).status

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, HOSTILE_VALUES))


@pytest.mark.parametrize("header", [f"Cookie:{name}" for name in COOKIE_NAMES] + HEADERS)
def test_no_header_value_gets_a_5xx_or_a_dropped_connection(site, scenarios, header):
    failures = [
        (name, value, status)
        for name, scenario in scenarios.items()
        for value, status in answers(site, scenario, header)
        if not 100 <= status < 500 and not (header == "Transfer-Encoding" and status == 501)
    ]
    assert failures == [], f"{header}: (scenario, value, status; 0 = no answer) {failures}"


def test_the_server_log_holds_no_traceback(site, scenarios):
    for header in ("Cookie:__Host-remember", "Referer", "X-Forwarded-For", "Accept-Language"):
        for scenario in scenarios.values():
            answers(site, scenario, header)
    assert "Traceback" not in site.app.log()
