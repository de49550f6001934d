"""A second click already on its way when the first one gave the session a new id.

Kind of fault: forms that give the session a new id (re-authentication, password
change, "sign out everywhere else", a new second factor). The browser sends the
second submit with the old id before the first answer arrives; that request found no
session, was answered as signed out, and its answer deleted the session cookie:
with it went the new id the first answer had just set, and the user was signed out
by their own double click (found from outside). Now, for ``MOVED_SESSION_GRACE``, the
old id gets the 409 "changed at the same moment" page and no cookie is touched.
"""

import time

import pytest
from flask import flash
from flask_login import login_required

from app import sudo
from tests.conftest import AuthActions, csrf_token_from

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def app(any_backend_app):
    return any_backend_app


def second_click(app, browser):
    """A copy of ``browser``'s cookies as they are now: what a second submit leaves with."""
    copy = app.test_client()
    for cookie in browser._cookies.values():
        copy.set_cookie(cookie.key, cookie.value)
    return copy


def reauthenticate(browser):
    page = browser.get("/auth/reauth")
    return browser.post("/auth/reauth", data={"password": PASSWORD, "csrf_token": csrf_token_from(page)})


def change_password(browser):
    page = browser.get("/account/password")
    fields = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    return browser.post("/account/password", data={**fields, "csrf_token": csrf_token_from(page)})


@pytest.mark.parametrize("form", [reauthenticate, change_password])
def test_the_second_click_gets_409_and_leaves_the_cookies_alone(app, signed_in, form):
    browser = signed_in.client
    page = browser.get("/auth/reauth" if form is reauthenticate else "/account/password")
    late = second_click(app, browser)
    assert form(browser).status_code == 303

    if form is reauthenticate:
        data = {"password": PASSWORD, "csrf_token": csrf_token_from(page)}
        response = late.post("/auth/reauth", data=data)
    else:
        fields = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        response = late.post("/account/password", data={**fields, "csrf_token": csrf_token_from(page)})
    assert response.status_code == 409
    assert "Changed at the same moment" in response.get_data(as_text=True)
    assert response.headers.getlist("Set-Cookie") == []
    # The browser holds the first answer's cookies and is still signed in.
    assert browser.get("/dashboard").status_code == 200


def test_a_public_page_with_the_old_id_renders_as_for_a_visitor(app, signed_in):
    late = second_click(app, signed_in.client)
    assert reauthenticate(signed_in.client).status_code == 303
    response = late.get("/privacy")
    assert response.status_code == 200
    assert response.headers.getlist("Set-Cookie") == []


def test_after_the_grace_the_old_id_is_a_stale_cookie_again(make_app):
    app = make_app(MOVED_SESSION_GRACE=1)
    auth = AuthActions(app, app.test_client())
    auth.create_user()
    auth.login()
    late = second_click(app, auth.client)
    assert reauthenticate(auth.client).status_code == 303
    assert late.get("/dashboard").status_code == 409
    time.sleep(1.5)
    response = late.get("/dashboard")
    assert response.status_code == 302
    assert any(header.startswith("__Host-session=;") for header in response.headers.getlist("Set-Cookie"))


def test_a_sign_in_leaves_no_mark_for_an_id_planted_before_it(make_app):
    """Session fixation: a visitor has no stored id, so signing in marks nothing as moved."""
    app = make_app()
    auth = AuthActions(app, app.test_client())
    auth.create_user()
    auth.login()
    redis = app.extensions["redis"]
    assert list(redis.scan_iter("session:moved:*")) == []
    assert reauthenticate(auth.client).status_code == 303
    assert len(list(redis.scan_iter("session:moved:*"))) == 1


def test_with_remember_me_the_second_click_restores_nothing(app, auth):
    """The 409 page is drawn as for a visitor: loading the user would restore from the
    remember cookie, and move the sign-in away from the session the first click made."""
    from app.extensions import db
    from app.models import SecurityEvent

    auth.create_user()
    auth.login(remember=True)
    late = second_click(app, auth.client)
    assert reauthenticate(auth.client).status_code == 303
    response = late.get("/dashboard")
    assert response.status_code == 409
    assert response.headers.getlist("Set-Cookie") == []
    with app.app_context():
        assert db.session.query(SecurityEvent).filter_by(event="remember_me_restored").count() == 0
    assert auth.client.get("/dashboard").status_code == 200


def test_the_store_failing_on_the_moved_check_is_a_503_not_a_500(make_app, monkeypatch):
    import redis

    app = make_app()
    auth = AuthActions(app, app.test_client())
    auth.create_user()
    auth.login()
    late = second_click(app, auth.client)
    assert reauthenticate(auth.client).status_code == 303

    def store_gone(key):
        raise redis.ConnectionError("the store went away between two commands")

    monkeypatch.setattr(app.session_interface, "_marked", store_gone)
    assert late.get("/dashboard").status_code == 503


def test_of_submits_in_flight_together_one_renews_the_session_and_the_rest_get_409(app, signed_in, monkeypatch):
    # Found from outside: ten re-authentication submits at once each read the session
    # before any of them moved it. Each moved it again, deleting the id before, and the
    # answer the browser kept last could name a deleted session: signed out.
    browser = signed_in.client
    token = csrf_token_from(browser.get("/auth/reauth"))
    other = second_click(app, browser)
    meanwhile = []
    check_password = sudo.own_password_confirmed

    def while_the_first_checks_the_password(*args):
        confirmed = check_password(*args)
        if not meanwhile:
            meanwhile.append("the second submit, sent now")
            meanwhile.append(other.post("/auth/reauth", data={"password": PASSWORD, "csrf_token": token}))
        return confirmed

    monkeypatch.setattr(sudo, "own_password_confirmed", while_the_first_checks_the_password)
    slower = browser.post("/auth/reauth", data={"password": PASSWORD, "csrf_token": token})
    assert meanwhile[1].status_code == 303
    assert slower.status_code == 409
    assert not slower.headers.getlist("Set-Cookie")
    # The browser keeps the cookie of the one that renewed: still signed in.
    assert other.get("/dashboard").status_code == 200


@pytest.mark.parametrize("embedded", [False, True], ids=["redis", "embedded"])
def test_a_request_whose_session_moved_while_it_ran_sends_no_session_cookie(make_app, embedded):
    # Found from outside: of many submits turning on the authenticator app at once, the
    # ones that lost sent back the id they came with, moved meanwhile by the winner; the
    # browser could keep that dead id over the winner's new one, and was signed out.
    app = make_app(embedded=embedded)
    meanwhile = []

    @login_required
    def slow_page():
        meanwhile[0]()
        flash("Something to show on the next page.")
        return "done"

    app.add_url_rule("/_test/slow", "slow_page", slow_page)
    auth = AuthActions(app, app.test_client())
    auth.create_user()
    assert auth.login().status_code == 303
    browser = auth.client
    other = second_click(app, browser)
    token = csrf_token_from(browser.get("/auth/reauth"))

    def renew_from_the_other_request():
        assert other.post("/auth/reauth", data={"password": PASSWORD, "csrf_token": token}).status_code == 303

    meanwhile.append(renew_from_the_other_request)
    answer = browser.get("/_test/slow")
    assert answer.status_code == 200
    assert not [cookie for cookie in answer.headers.getlist("Set-Cookie") if cookie.startswith("__Host-session=")]
    assert other.get("/dashboard").status_code == 200
