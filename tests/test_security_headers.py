"""Security headers on every response, and caching rules."""

import re

import pytest

PAGES = ["/", "/auth/login", "/auth/register", "/healthz", "/no-such-page"]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    for directive in (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


def test_hsts_lasts_at_least_a_year(client):
    hsts = client.get("/").headers["Strict-Transport-Security"]
    max_age = int(hsts.split("max-age=")[1].split(";")[0])
    assert max_age >= 365 * 24 * 3600


def test_development_sends_no_hsts(make_app):
    app = make_app(embedded=True, APP_ENV="development")
    assert "Strict-Transport-Security" not in app.test_client().get("/").headers


@pytest.mark.parametrize("path", ["/", "/auth/login", "/dashboard"])
def test_pages_are_never_stored_by_caches(auth, path):
    auth.create_user()
    auth.login()
    assert auth.client.get(path).headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(client):
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"


def test_logout_asks_the_browser_to_clear_cache_and_storage(auth):
    auth.create_user()
    auth.login()
    clear = auth.logout().headers["Clear-Site-Data"]
    assert '"cache"' in clear and '"storage"' in clear


def test_templates_hold_no_inline_script_or_style():
    """CSP forbids inline code; a template that relied on it would break silently."""
    from pathlib import Path

    for template in (Path(__file__).parent.parent / "templates").rglob("*.html"):
        text = template.read_text()
        # A script may only be loaded from a file (static/passkeys.js), never written inline.
        inline_scripts = re.findall(r"<script(?![^>]*\ssrc=)[^>]*>|<script[^>]*>[^<]", text)
        assert not inline_scripts and "<style" not in text and " style=" not in text, template
        assert not re.search(r"\son[a-z]+\s*=", text), template


def test_untrusted_host_headers_get_400(make_app):
    app = make_app(TRUSTED_HOSTS=["example.org"])
    client = app.test_client()
    assert client.get("/", headers={"Host": "example.org"}).status_code == 200
    response = client.get("/auth/login", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "evil.example" not in response.get_data(as_text=True)


def test_host_names_are_trusted_whatever_their_case(make_app):
    # RFC 3986: the host is case-insensitive. A trusted name in capitals is the same name.
    app = make_app(TRUSTED_HOSTS=["example.org"])
    client = app.test_client()
    for host in ["EXAMPLE.ORG", "Example.Org:443", "example.ORG"]:
        assert client.get("/auth/login", headers={"Host": host}).status_code == 200, host
    assert client.get("/auth/login", headers={"Host": "EVIL.EXAMPLE"}).status_code == 400


def test_a_header_the_view_sets_itself_is_kept_and_sent_once(make_app):
    """The security headers fill in what a view left unset; they never override or duplicate it."""
    app = make_app()

    @app.get("/own-policy")
    def own_policy():
        return "", 204, {"Content-Security-Policy": "default-src 'none'; sandbox", "x-frame-options": "SAMEORIGIN"}

    headers = app.test_client().get("/own-policy").headers
    assert headers.getlist("Content-Security-Policy") == ["default-src 'none'; sandbox"]
    assert headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert headers["Referrer-Policy"] == "same-origin"


def test_the_hsts_value_comes_from_the_config(make_app):
    app = make_app(STRICT_TRANSPORT_SECURITY="max-age=31536000")
    assert app.test_client().get("/").headers.getlist("Strict-Transport-Security") == ["max-age=31536000"]


@pytest.mark.parametrize("path", ["/static/no-such-file.css", "/static/%2e%2e/config.py"])
def test_error_pages_under_static_are_never_stored(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"


def test_a_range_past_a_static_file_is_not_stored_either(client):
    response = client.get("/static/style.css", headers={"Range": "bytes=999999-"})
    assert response.status_code == 416
    assert response.headers["Cache-Control"] == "no-store"
