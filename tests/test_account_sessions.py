"""Devices: users see their sessions and end them; a revoked session dies at once."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import SignIn
from tests.conftest import AuthActions

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
PASSWORD = "correct horse battery"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def app(any_backend_app):
    return any_backend_app


def device(app, user_agent, address="127.0.0.1"):
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": address})
    return AuthActions(app, client)


def sign_out_everywhere_else(actions, password=PASSWORD):
    """The devices page's "Sign out everywhere else" button, password typed."""
    data = {"csrf_token": actions.token("/account/sessions")}
    if password is not None:
        data["password"] = password
    return actions.client.post("/account/sessions/revoke-others", data=data)


def public_ids(page):
    return re.findall(r"/account/sessions/([\w-]+)/revoke", page.get_data(as_text=True))


@pytest.fixture
def laptop(app):
    actions = device(app, CHROME, "192.0.2.10")
    actions.create_user()
    actions.login()
    return actions


@pytest.fixture
def phone(app, laptop):
    actions = device(app, FIREFOX, "198.51.100.20")
    actions.login(remember=True)
    return actions


def test_sessions_page_lists_every_device_with_its_details(laptop, phone):
    page = laptop.client.get("/account/sessions")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Chrome 131 (Linux)" in text and "Firefox 133 (Windows)" in text
    assert "192.0.2.10" in text and "198.51.100.20" in text
    assert text.count("This device") == 1
    assert "Remembered" in text
    assert re.search(r"<time datetime=\"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00\">", text)


def test_no_session_id_or_token_appears_on_the_page(app, laptop, phone):
    text = laptop.client.get("/account/sessions").get_data(as_text=True)
    assert laptop.session_cookie() not in text
    assert phone.session_cookie() not in text
    assert phone.client.get_cookie("__Host-remember").value.split("|")[0] not in text


def test_revoking_a_device_ends_it_on_its_very_next_request(app, laptop, phone, store):
    assert phone.client.get("/dashboard").status_code == 200
    (phone_id,) = public_ids(laptop.client.get("/account/sessions"))
    response = laptop.client.post(
        f"/account/sessions/{phone_id}/revoke", data={"csrf_token": laptop.token("/account/sessions")}
    )
    assert response.status_code == 303
    assert not store.holds(phone.session_cookie())
    assert phone.client.get("/dashboard").status_code == 302
    assert laptop.client.get("/dashboard").status_code == 200


def test_a_revoked_remember_cookie_gets_nothing(app, laptop, phone):
    remember = phone.client.get_cookie("__Host-remember").value
    (phone_id,) = public_ids(laptop.client.get("/account/sessions"))
    laptop.client.post(f"/account/sessions/{phone_id}/revoke", data={"csrf_token": laptop.token("/account/sessions")})
    replay = app.test_client()
    replay.set_cookie("__Host-remember", remember)
    assert replay.get("/dashboard").status_code == 302


def test_revoke_others_keeps_only_the_current_session(app, laptop, phone):
    tablet = device(app, CHROME, "203.0.113.5")
    tablet.login()
    response = sign_out_everywhere_else(laptop)
    assert response.status_code == 303
    assert phone.client.get("/dashboard").status_code == 302
    assert tablet.client.get("/dashboard").status_code == 302
    assert laptop.client.get("/dashboard").status_code == 200
    with app.app_context():
        assert db.session.query(SignIn).count() == 1


def test_another_users_public_id_is_404_and_changes_nothing(app, laptop, phone):
    (phone_id,) = public_ids(laptop.client.get("/account/sessions"))
    mallory = device(app, CHROME)
    mallory.create_user("mallory")
    mallory.login("mallory")
    response = mallory.client.post(
        f"/account/sessions/{phone_id}/revoke", data={"csrf_token": mallory.token("/account/sessions")}
    )
    assert response.status_code == 404
    assert phone_id not in response.get_data(as_text=True)
    assert phone.client.get("/dashboard").status_code == 200


def test_an_unknown_public_id_is_404(laptop):
    response = laptop.client.post(
        "/account/sessions/not-a-real-id/revoke", data={"csrf_token": laptop.token("/account/sessions")}
    )
    assert response.status_code == 404


def test_revoking_needs_a_csrf_token(laptop, phone):
    (phone_id,) = public_ids(laptop.client.get("/account/sessions"))
    assert laptop.client.post(f"/account/sessions/{phone_id}/revoke").status_code == 400
    assert phone.client.get("/dashboard").status_code == 200


def test_a_session_revoked_on_one_process_is_dead_on_another(make_app, redis_url):
    """Two app instances sharing Redis and the database, as behind a load balancer."""
    first = make_app()
    second = make_app(SQLALCHEMY_DATABASE_URI=first.config["SQLALCHEMY_DATABASE_URI"])
    laptop = device(first, CHROME)
    laptop.create_user()
    laptop.login()
    phone = device(second, FIREFOX)
    phone.login()
    assert phone.client.get("/dashboard").status_code == 200

    sign_out_everywhere_else(laptop)
    assert phone.client.get("/dashboard").status_code == 302


def test_ip_comes_from_the_trusted_proxy_not_the_client(make_app):
    app = make_app(TRUSTED_PROXIES=1)
    user = device(app, CHROME, "10.0.0.2")  # the proxy's own address
    user.client.environ_base["HTTP_X_FORWARDED_FOR"] = "1.2.3.4, 203.0.113.77"
    user.create_user()
    user.login()
    text = user.client.get("/account/sessions").get_data(as_text=True)
    assert "203.0.113.77" in text
    assert "1.2.3.4" not in text and "10.0.0.2" not in text


def test_last_seen_is_written_at_most_once_a_minute(app, laptop, clock):
    def last_seen():
        with app.app_context():
            return db.session.scalar(db.select(SignIn.last_seen_at))

    first = last_seen()
    clock.advance(seconds=30)
    laptop.client.get("/dashboard")
    assert last_seen() == first
    clock.advance(seconds=31)
    laptop.client.get("/dashboard")
    assert last_seen() == clock.now


def test_revoke_others_also_ends_copies_of_this_devices_cookies(app, phone):
    """Someone copied the phone's cookies: they are on no list, yet they must go too."""
    copy = device(app, FIREFOX, "203.0.113.99")
    for name in (app.config["SESSION_COOKIE_NAME"], app.config["REMEMBER_COOKIE_NAME"]):
        copy.client.set_cookie(name, phone.client.get_cookie(name).value)
    assert copy.client.get("/dashboard").status_code == 200

    response = sign_out_everywhere_else(phone)

    assert response.status_code == 303
    # The copy's session id was moved a moment ago: the 409 page of a late second click,
    # drawn for a visitor (tests/test_double_submit.py), and nothing restored from its
    # remember cookie.
    answer = copy.client.get("/dashboard")
    assert answer.status_code == 409
    assert "Sign out" not in answer.get_data(as_text=True)
    copy.client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    assert copy.client.get("/dashboard").status_code == 302
    assert phone.client.get("/dashboard").status_code == 200
    # The phone keeps "keep me signed in": its new remember cookie restores it alone.
    phone.client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    assert phone.client.get("/dashboard").status_code == 200


def test_a_reissued_remember_cookie_ends_with_its_sign_in(app, clock, laptop, phone):
    """Not 30 days after "sign out everywhere else", but when the sign-in itself ends."""
    clock.advance(minutes=5)  # still within the re-authentication window
    response = sign_out_everywhere_else(phone)
    assert response.status_code == 303
    with app.app_context():
        left = db.session.query(SignIn).one().expires_at - clock.now
    # Flask-Login dates the cookie by the real clock; the sign-in's time left is 5 minutes
    # short of 30 days on the test clock.
    expires = phone.client.get_cookie(app.config["REMEMBER_COOKIE_NAME"]).expires.replace(tzinfo=UTC)
    assert abs(expires - (datetime.now(UTC) + left)) < timedelta(minutes=1)


@pytest.mark.parametrize("password", [None, "", "not the password"])
def test_sign_out_everywhere_else_needs_the_password_typed(app, laptop, phone, password):
    """A copy of the phone's cookies, inside its re-authentication window, cannot use it."""
    response = sign_out_everywhere_else(phone, password)
    assert response.status_code == 400
    assert laptop.client.get("/dashboard").status_code == 200
    assert phone.client.get("/dashboard").status_code == 200
    with app.app_context():
        assert db.session.query(SignIn).count() == 2


def test_this_device_is_listed_first(laptop, phone):
    for actions, this_one, other in ((laptop, "Chrome 131", "Firefox 133"), (phone, "Firefox 133", "Chrome 131")):
        text = actions.client.get("/account/sessions").get_data(as_text=True)
        assert text.index(this_one) < text.index(other)


def test_the_password_for_signing_out_everywhere_else_sits_under_a_heading_naming_it(laptop, phone):
    text = laptop.client.get("/account/sessions").get_data(as_text=True)
    assert '<h2 id="sign-out-others">Sign out everywhere else</h2>' in text
    assert 'aria-labelledby="sign-out-others"' in text
