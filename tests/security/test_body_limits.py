"""The body limit holds on every route, whatever the transfer encoding.

Kind of fault: a body without a Content-Length (``Transfer-Encoding: chunked``) was
cut at ``MAX_CONTENT_LENGTH`` by Werkzeug and the form parser acted on its first
bytes: a sign-in form padded with 2 MB signed the user in. Now such a body is
refused with the same 413 as one with a Content-Length, and nothing in it is used.
"""

import json
import re
import secrets
import shutil
import time
from contextlib import ExitStack
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from tests.support.processes import FAST_UNLIMITED_SETTINGS, start_production_site
from tests.support.raw_http import request_bytes, send
from tests.support.tools import require

PASSWORD = "correct horse battery staple"
CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LIMIT = 16 * 1024


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    require(shutil.which("redis-server") is not None, "redis-server not found: apt-get install redis-server")
    with ExitStack() as running:
        yield start_production_site(running, tmp_path_factory.mktemp("bodies"), FAST_UNLIMITED_SETTINGS)


@pytest.fixture
def sign_in_form(site):
    """A new account, and a browser's cookies and sign-in form fields for it."""
    browser = requests.Session()
    browser.trust_env = False
    browser.verify = site.ca_pem
    browser.headers["Referer"] = site.url + "/"
    username = f"body-{secrets.token_hex(4)}"
    token = CSRF_PATTERN.search(browser.get(site.url + "/auth/register").text).group(1)
    form = {"username": username, "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token}
    assert browser.post(site.url + "/auth/register", data=form, allow_redirects=False).status_code == 303
    browser.post(site.url + "/auth/logout", data={"csrf_token": token})
    browser.cookies.clear()
    token = CSRF_PATTERN.search(browser.get(site.url + "/auth/login").text).group(1)
    fields = {"username": username, "password": PASSWORD, "csrf_token": token}
    return browser.cookies.get_dict(), fields


def chunked(body, size=4096):
    pieces = [body[start : start + size] for start in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


def post(site, path, cookies, body, transfer_encoding):
    headers = [
        ("Cookie", "; ".join(f"{name}={value}" for name, value in cookies.items()).encode()),
        ("Referer", f"{site.url}/auth/login".encode()),
        ("Content-Type", b"application/x-www-form-urlencoded"),
    ]
    if transfer_encoding == "chunked":
        headers.append(("Transfer-Encoding", b"chunked"))
        body = chunked(body)
    return send(site.url, site.ca_pem, request_bytes("POST", path, urlsplit(site.url).netloc, headers, body))


@pytest.mark.parametrize("transfer_encoding", ["chunked", "content-length"])
@pytest.mark.parametrize("padding", [LIMIT, 2 * 1024 * 1024])
def test_a_padded_sign_in_form_is_413_and_signs_nobody_in(site, sign_in_form, transfer_encoding, padding):
    cookies, fields = sign_in_form
    body = urlencode(fields).encode() + b"&pad=" + b"x" * padding
    response = post(site, "/auth/login", cookies, body, transfer_encoding)
    assert response.status == 413
    assert b"set-cookie: __host-session" not in response.head.lower()


@pytest.mark.parametrize("transfer_encoding", ["chunked", "content-length"])
def test_a_sign_in_form_within_the_limit_works_either_way(site, sign_in_form, transfer_encoding):
    cookies, fields = sign_in_form
    response = post(site, "/auth/login", cookies, urlencode(fields).encode(), transfer_encoding)
    assert response.status == 303


@pytest.mark.parametrize("path", ["/auth/register", "/auth/logout", "/auth/reauth", "/account/password", "/"])
def test_every_route_refuses_an_oversized_chunked_body(site, sign_in_form, path):
    cookies, fields = sign_in_form
    body = urlencode(fields).encode() + b"&pad=" + b"x" * (LIMIT + 1)
    assert post(site, path, cookies, body, "chunked").status in (405, 413)


def test_an_oversized_chunked_body_is_413_in_the_test_client_too(client):
    import io

    body = b"username=alice&password=x&pad=" + b"x" * (LIMIT + 1)
    response = client.post(
        "/auth/login",
        input_stream=io.BytesIO(body),
        content_type="application/x-www-form-urlencoded",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


def access_log(site, path):
    """gunicorn's JSON access-log entries for POSTs to ``path``, oldest first."""
    entries = [json.loads(line) for line in site.app.log().splitlines() if line.startswith('{"time"')]
    return [entry for entry in entries if entry.get("path") == path and entry.get("method") == "POST"]


def next_access_log_entry(site, path, seen):
    """The first entry for ``path`` after the ``seen`` ones, waiting a moment for it."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        entries = access_log(site, path)
        if len(entries) > seen:
            return entries[seen]
        time.sleep(0.1)
    raise AssertionError(f"no new access-log line for {path}")


def chunked_post(site, cookies, path, chunks):
    headers = [
        ("Cookie", "; ".join(f"{name}={value}" for name, value in cookies.items()).encode()),
        ("Referer", f"{site.url}/auth/login".encode()),
        ("Content-Type", b"application/x-www-form-urlencoded"),
        ("Transfer-Encoding", b"chunked"),
    ]
    return request_bytes("POST", path, urlsplit(site.url).netloc, headers, chunks)


@pytest.mark.parametrize("chunks", [b"zz\r\nabc\r\n0\r\n\r\n", b"-5\r\nabc\r\n0\r\n\r\n", b"1;\x00\r\na\r\n0\r\n\r\n"])
@pytest.mark.parametrize("path", ["/auth/login", "/auth/logout", "/auth/register"])
def test_a_chunk_size_that_is_no_number_is_a_400(site, sign_in_form, chunks, path):
    cookies, _ = sign_in_form
    assert send(site.url, site.ca_pem, chunked_post(site, cookies, path, chunks)).status == 400
    assert "Traceback" not in site.app.log()


@pytest.mark.parametrize("chunks", [b"ffffffffffffffffffff\r\nabc", b"10\r\nabc"])
def test_a_client_that_hangs_up_inside_a_chunked_body_leaves_a_400_and_no_traceback(site, sign_in_form, chunks):
    cookies, _ = sign_in_form
    seen = len(access_log(site, "/auth/login"))
    send(site.url, site.ca_pem, chunked_post(site, cookies, "/auth/login", chunks), hang_up=True)
    assert next_access_log_entry(site, "/auth/login", seen)["status"] == 400
    assert "Traceback" not in site.app.log()


FORMS = [
    ("/auth/register", "/auth/register", ("username", "password", "confirm")),
    ("/auth/login", "/auth/login", ("username", "password")),
    ("/dashboard", "/auth/reauth", ("password",)),
    ("/account/password", "/account/password", ("current_password", "new_password", "confirm")),
    ("/account/delete", "/account/delete", ("password",)),
    ("/account/sessions", "/account/sessions/revoke-others", ("password",)),
]


@pytest.mark.parametrize(("page", "action", "fields"), FORMS)
def test_a_file_where_a_text_field_is_expected_is_a_400(signed_in, page, action, fields):
    import io

    from tests.conftest import csrf_token_from

    signed_out = action in ("/auth/register", "/auth/login")
    client = signed_in.app.test_client() if signed_out else signed_in.client
    token = csrf_token_from(client.get(page))
    for field in fields:
        data = {name: "correct horse battery" for name in fields}
        data[field] = (io.BytesIO(b"correct horse battery"), "field.txt")
        response = client.post(action, data={"csrf_token": token, **data}, content_type="multipart/form-data")
        assert response.status_code == 400, (field, response.status_code)


@pytest.mark.parametrize("size", [70_000, 400_000, 1_000_000])
def test_an_oversized_form_gets_its_413_and_the_connection_stays_usable(site, size):
    # Answering before the body was read made gunicorn hang up: some clients got a reset
    # instead of the 413, others lost the kept-alive connection for their next request.
    browser = requests.Session()
    browser.trust_env = False
    browser.verify = site.ca_pem
    for _ in range(30):
        answer = browser.post(site.url + "/auth/login", data={"username": "a", "password": "A" * size})
        assert answer.status_code == 413
        assert browser.get(site.url + "/healthz").status_code == 200
