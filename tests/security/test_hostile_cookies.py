"""Any bytes in any cookie: treated as an invalid cookie, never a 500 or a dropped answer.

Kind of fault: a cookie value that a library reading it does not expect. Flask-Login's
remember-cookie check raised TypeError on ``x|é``, and the 500 page then failed too.
Cookies with bytes outside RFC 6265's cookie-octets are dropped (app/http_input.py);
the same inputs go through a real gunicorn in test_hostile_headers.py.
"""

import pytest

from app import errors
from app.http_input import SafeRequest
from tests.conftest import AuthActions

# Each cookie the site or its libraries read, and one they do not.
COOKIE_NAMES = [
    "__Host-session",
    "__Host-remember",
    "__Host-device",
    "__Host-lang",
    "__Host-signed-in",
    "someone-elses",
]
BAD_VALUES = [
    "x|\u00e9",
    "\u00e9t\u00e9",
    "\u00ff\u00fe",
    "a\x00b",
    "a\x7fb",
    "a b",
    'a"b',
    "a\\b",
    "a,b",
    "\u202e",
]
PAGES = ["/", "/auth/login", "/privacy", "/auth/register", "/tutorial/"]


@pytest.mark.parametrize("name", COOKIE_NAMES)
@pytest.mark.parametrize("value", BAD_VALUES)
def test_a_cookie_with_bytes_outside_rfc_6265_is_ignored(client, name, value):
    client.set_cookie(name, value)
    for page in PAGES:
        assert client.get(page).status_code == 200, page
    assert client.get("/dashboard").status_code == 302


@pytest.mark.parametrize("value", BAD_VALUES)
def test_a_damaged_remember_cookie_leaves_a_signed_in_session_alone(signed_in, value):
    signed_in.client.set_cookie("__Host-remember", value)
    assert signed_in.client.get("/dashboard").status_code == 200


def test_a_damaged_session_cookie_is_no_session_at_all(signed_in):
    session_id = signed_in.session_cookie()
    signed_in.client.set_cookie("__Host-session", session_id + "\u00e9")
    assert signed_in.client.get("/dashboard").status_code == 302


def test_valid_cookies_beside_a_damaged_one_still_count(signed_in):
    signed_in.client.set_cookie("someone-elses", "\u00e9")
    assert signed_in.client.get("/dashboard").status_code == 200


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ('a=1; b=x|\u00e9; c="quoted"', {"a": "1", "c": "quoted"}),
        ("a=\x01; b=2", {"b": "2"}),
        ("a=1; a=\u00e9", {"a": "1"}),
    ],
)
def test_only_cookie_octets_survive_parsing(app, header, kept):
    with app.test_request_context(headers={"Cookie": header}):
        from flask import request

        assert isinstance(request._get_current_object(), SafeRequest)
        assert dict(request.cookies) == kept


@pytest.fixture
def failing_app(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    return app


def test_the_500_page_renders_for_a_visitor_when_loading_the_user_fails(failing_app, monkeypatch):
    auth = AuthActions(failing_app, failing_app.test_client())
    auth.create_user()
    auth.login()

    def broken_loader(token):
        raise RuntimeError("the user cannot be loaded")

    monkeypatch.setattr(failing_app.login_manager, "_user_callback", broken_loader)
    response = auth.client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)


def test_the_500_page_falls_back_to_a_fixed_page_when_even_templates_fail(failing_app, monkeypatch):
    def broken_template(*args, **kwargs):
        raise RuntimeError("templates are broken")

    monkeypatch.setattr(errors, "render_template", broken_template)
    response = failing_app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in body
    assert "secret detail" not in body and "templates are broken" not in body
