"""Server-side sessions: cookie flags, fixation, logout replay and short anonymous keys."""

import secrets
import time

import flask
import pytest

from app.extensions import db
from app.models import SignIn, User
from tests.conftest import AuthActions, store_key
from tests.support import redis_stats


def set_cookie_headers(response, name):
    return [header for header in response.headers.getlist("Set-Cookie") if header.startswith(name + "=")]


def visitor_session(app, client):
    """What a visitor's signed cookie holds, read with the app's own key."""
    value = client.get_cookie("__Host-visitor").value
    return app.session_interface.visitor_cookies.get_signing_serializer(app).loads(value)


@pytest.mark.parametrize("cookie", ["__Host-visitor", "__Host-session"])
def test_session_cookie_is_host_only_secure_httponly_and_lax(auth, cookie):
    auth.create_user()
    response = auth.client.get("/auth/login") if cookie == "__Host-visitor" else auth.login()
    (header,) = set_cookie_headers(response, cookie)
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"secure", "httponly", "path"} <= attributes
    assert "SameSite=Lax" in header
    assert "Path=/" in header
    assert "domain" not in attributes


def test_cookie_holds_only_an_opaque_256_bit_id(auth, redis_client):
    auth.create_user()
    auth.login()
    session_id = auth.session_cookie()
    assert len(session_id) == 43  # 32 random bytes, base64url
    assert "alice" not in session_id
    assert redis_client.exists(store_key(session_id))


def test_session_id_changes_at_login_and_the_old_one_is_dead(auth, redis_client):
    """Session fixation: an id planted before sign-in must not become signed in."""
    auth.create_user()
    auth.client.get("/auth/login")
    planted = secrets.token_urlsafe(32)
    auth.client.set_cookie("__Host-session", planted)

    auth.login()
    signed_in = auth.session_cookie()
    assert signed_in != planted
    assert not redis_client.exists(store_key(planted))

    auth.client.set_cookie("__Host-session", planted)
    assert auth.client.get("/dashboard").status_code == 302


def test_csrf_secret_changes_at_login(app, auth, redis_client):
    from msgspec import msgpack

    auth.create_user()
    auth.client.get("/auth/login")
    before = visitor_session(app, auth.client)["csrf_token"]
    response = auth.login()
    assert "Max-Age=0" in set_cookie_headers(response, "__Host-visitor")[0]
    auth.client.get("/dashboard")
    after = msgpack.decode(redis_client.get(store_key(auth.session_cookie())))["csrf_token"]
    assert before != after


def test_replaying_the_cookie_after_logout_is_anonymous(app, auth, redis_client):
    """Hijack after logout: a copied cookie must die with the sign-out."""
    auth.create_user()
    auth.login()
    stolen = auth.session_cookie()
    response = auth.logout()

    assert not redis_client.exists(store_key(stolen))
    (deletion,) = set_cookie_headers(response, "__Host-session")
    assert "Max-Age=0" in deletion and "Secure" in deletion and "SameSite=Lax" in deletion

    attacker = app.test_client()
    attacker.set_cookie("__Host-session", stolen)
    assert attacker.get("/dashboard").status_code == 302
    with app.app_context():
        assert db.session.query(SignIn).count() == 0


def test_a_request_in_flight_cannot_bring_a_logged_out_session_back(app, auth, redis_client):
    """The refresh race: writes after logout must not resurrect the sign-in."""
    auth.create_user()
    auth.login()
    stolen = auth.session_cookie()
    interface = app.session_interface
    with app.test_request_context("/dashboard", headers={"Cookie": f"__Host-session={stolen}"}):
        # A slow request opens the session, the owner signs out meanwhile...
        in_flight = interface.open_session(app, flask.request)
        assert in_flight.stored
        auth.logout()
        # ...and the slow request, which changed its session, saves it when it ends.
        in_flight["password_confirmed_at"] = 0
        interface.save_session(app, in_flight, app.response_class())

    assert not redis_client.exists(store_key(stolen))
    attacker = app.test_client()
    attacker.set_cookie("__Host-session", stolen)
    assert attacker.get("/dashboard").status_code == 302


def test_visitors_create_no_store_entry(app, auth, redis_client):
    """Session flooding: pages and forms for visitors write nothing to the store."""
    auth.create_user()
    writes_before = redis_stats.calls(redis_client, "set")
    for path in ("/", "/auth/login", "/auth/register", "/privacy", "/dashboard"):
        auth.client.get(path)
    assert auth.login(password="not the password").status_code == 401
    assert list(redis_client.scan_iter("session:*")) == []
    assert redis_stats.calls(redis_client, "set") == writes_before


def test_a_visitor_cookie_is_signed_and_short_lived(app, client):
    response = client.get("/auth/login")
    (header,) = set_cookie_headers(response, "__Host-visitor")
    assert f"Max-Age={int(app.config['ANONYMOUS_SESSION_LIFETIME'].total_seconds())}" in header
    value = client.get_cookie("__Host-visitor").value
    client.set_cookie("__Host-visitor", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    answer = client.get("/auth/login")
    # Tampered: ignored, and a new one replaces it.
    assert answer.status_code == 200
    assert client.get_cookie("__Host-visitor").value != value


def test_a_visitor_cookie_cannot_carry_a_sign_in(app, auth, redis_client):
    """Only a stored session can hold a sign-in: a signed cookie with a live token is ignored."""
    from msgspec import msgpack

    auth.create_user()
    auth.login()
    token = msgpack.decode(redis_client.get(store_key(auth.session_cookie())))["_user_id"]
    # Signed with the app's own key, as a leaked key or a signing bug would allow.
    forged = app.session_interface.visitor_cookies.get_signing_serializer(app).dumps({"_user_id": token})
    visitor = app.test_client()
    visitor.set_cookie("__Host-visitor", forged)
    assert visitor.get("/dashboard").status_code == 302


def test_signed_in_sessions_are_kept_as_long_as_they_may_sit_idle(app, auth, redis_client):
    auth.create_user()
    auth.login()
    ttl = redis_client.ttl(store_key(auth.session_cookie()))
    lifetime = (app.config["IDLE_TIMEOUT"] + app.config["LAST_SEEN_RESOLUTION"]).total_seconds()
    assert lifetime - 60 < ttl <= lifetime


def test_redis_holds_no_usable_session_id(auth, redis_client):
    """A copy of Redis (a backup, a replica, KEYS *) must not hand out live sessions."""
    auth.create_user()
    auth.login()
    session_id = auth.session_cookie()
    keys = [key.decode() for key in redis_client.scan_iter("session:*")]
    assert keys == [store_key(session_id)]
    assert all(session_id not in key for key in keys)


def test_reading_pages_does_not_rewrite_the_session(auth, redis_client):
    auth.create_user()
    auth.login()
    auth.client.get("/dashboard")  # the first page after sign-in stores a new CSRF secret
    key = store_key(auth.session_cookie())
    redis_client.expire(key, 1000)
    for _ in range(5):
        assert auth.client.get("/dashboard").status_code == 200
    assert redis_client.ttl(key) <= 1000


def test_sign_in_expires_on_the_server_whatever_the_cookie_says(app, auth, clock):
    auth.create_user()
    auth.login()
    for _ in range(24):  # stay active, so only the absolute limit can end it
        clock.advance(minutes=29)
        assert auth.client.get("/dashboard").status_code == 200
    clock.advance(minutes=29)
    assert auth.client.get("/dashboard").status_code == 302
    with app.app_context():
        assert db.session.query(SignIn).count() == 0


def test_remember_cookie_is_flagged_like_the_session_cookie(auth):
    auth.create_user()
    response = auth.login(remember=True)
    (header,) = set_cookie_headers(response, "__Host-remember")
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header


def test_remember_cookie_restores_a_sign_in_in_a_new_session(app, auth):
    auth.create_user()
    auth.login(remember=True)
    remember = auth.client.get_cookie("__Host-remember").value

    new_browser = app.test_client()
    new_browser.set_cookie("__Host-remember", remember)
    assert new_browser.get("/dashboard").status_code == 200


def test_remember_cookie_is_dead_after_logout(app, auth):
    auth.create_user()
    auth.login(remember=True)
    remember = auth.client.get_cookie("__Host-remember").value
    response = auth.logout()
    (deletion,) = set_cookie_headers(response, "__Host-remember")
    assert "Max-Age=0" in deletion and "Secure" in deletion

    replay = app.test_client()
    replay.set_cookie("__Host-remember", remember)
    assert replay.get("/dashboard").status_code == 302


def test_remember_cookie_never_contains_the_user_id(app, auth):
    user_id = auth.create_user()
    auth.login(remember=True)
    value = auth.client.get_cookie("__Host-remember").value
    assert not value.startswith(f"{user_id}|")


def test_dashboard_shows_a_hash_prefix_never_the_session_id(auth):
    import hashlib

    auth.create_user()
    auth.login()
    session_id = auth.session_cookie()
    page = auth.client.get("/dashboard").get_data(as_text=True)
    assert session_id not in page
    assert hashlib.sha256(session_id.encode()).hexdigest()[:8] in page


def test_redis_down_answers_503_quickly_and_public_pages_stay_up(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    client = app.test_client()
    client.set_cookie("__Host-session", "x" * 43)

    started = time.monotonic()
    response = client.get("/dashboard")
    assert response.status_code == 503
    assert time.monotonic() - started < 2
    assert "session store" in response.get_data(as_text=True)

    for public_page in ("/", "/privacy", "/tutorial/"):
        assert client.get(public_page).status_code == 200, public_page
    health = client.get("/healthz")
    assert health.status_code == 503
    # The limiter counts in the same Redis.
    assert health.get_json() == {
        "status": "degraded",
        "redis": "unreachable",
        "rate_limits": "unreachable",
        "database": "ok",
        "mail": "ok",
    }


def test_redis_down_signing_up_is_a_503_that_leaves_no_account(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", PROPAGATE_EXCEPTIONS=False)
    visitor = AuthActions(app, app.test_client())
    form = {"username": "bob", "password": "correct horse battery", "confirm": "correct horse battery"}
    response = visitor.client.post("/auth/register", data={**form, "csrf_token": visitor.token("/auth/register")})
    assert response.status_code == 503
    with app.app_context():
        assert db.session.query(User).count() == 0


def test_redis_down_visitors_still_see_the_forms_and_signing_in_is_a_503(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", PROPAGATE_EXCEPTIONS=False)
    visitor = AuthActions(app, app.test_client())
    visitor.create_user()
    # A visitor's session is a signed cookie: the form needs no store.
    assert visitor.client.get("/auth/login").status_code == 200
    response = visitor.login()
    assert response.status_code == 503
    assert "Traceback" not in response.get_data(as_text=True)
    assert visitor.client.get_cookie("__Host-session") is None


def test_healthz_reports_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "redis": "ok", "rate_limits": "ok", "database": "ok", "mail": "ok"}
    assert not response.headers.getlist("Set-Cookie")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda data: data.update(_sign_in={"id": "not a sign-in"}),
        lambda data: data.update(_user_id="a token this sign-in never had"),
    ],
    ids=["malformed state", "token of another sign-in"],
)
def test_a_stored_session_whose_sign_in_does_not_match_is_dropped(auth, redis_client, tamper):
    """Only what sign-in wrote authorises a request; anything else ends the session."""
    from msgspec import msgpack

    auth.create_user()
    auth.login()
    key = store_key(auth.session_cookie())
    data = msgpack.decode(redis_client.get(key))
    tamper(data)
    redis_client.set(key, msgpack.encode(data), keepttl=True)
    assert auth.client.get("/dashboard").status_code == 302
    assert not redis_client.exists(key)


def test_a_sign_out_from_elsewhere_during_a_change_of_session_id_leaves_nothing_alive(
    app, auth, redis_client, monkeypatch
):
    """Re-authentication moves the session to a new id while another device ends it.

    The new entry exists before the row names it; the sign-out from elsewhere finds the
    old id in the row and deletes that entry; the move then finds the row gone, deletes
    the new entry and answers 409. Neither id works afterwards.
    """
    from sqlalchemy import delete

    from app import sign_ins

    auth.create_user()
    auth.login()
    old_id = auth.session_cookie()
    real_move = sign_ins.sessions.move_to_new_id
    new_ids = []

    def sign_out_elsewhere_meanwhile():
        old = real_move()
        new_ids.append(flask.session.sid)
        # What sign_ins.end does, from another app process with its own connection.
        with db.engine.begin() as other_process:
            hashes = other_process.execute(delete(SignIn).returning(SignIn.session_hash)).scalars().all()
        for session_hash in hashes:
            redis_client.delete("session:" + session_hash)
        return old

    monkeypatch.setattr(sign_ins.sessions, "move_to_new_id", sign_out_elsewhere_meanwhile)
    token = auth.token("/auth/reauth")
    response = auth.client.post("/auth/reauth", data={"password": "correct horse battery", "csrf_token": token})
    monkeypatch.undo()

    assert response.status_code == 409
    assert new_ids and not redis_client.exists(store_key(new_ids[0]))
    assert not redis_client.exists(store_key(old_id))
    for session_id in (old_id, new_ids[0]):
        copy = app.test_client()
        copy.set_cookie("__Host-session", session_id)
        assert copy.get("/dashboard").status_code == 302


def test_a_remember_cookie_restore_ends_the_session_it_replaces(app, auth, redis_client):
    """One sign-in, one stored session: a restore must not leave the old one alive.

    A copy of the session, still in use elsewhere, would otherwise live on with its own
    copy of the sign-in, named by no row, beyond the reach of every sign-out.
    """
    auth.create_user()
    auth.login(remember=True)
    copied_session = auth.session_cookie()
    remember = auth.client.get_cookie("__Host-remember").value

    restored = app.test_client()
    restored.set_cookie("__Host-remember", remember)
    assert restored.get("/dashboard").status_code == 200
    assert restored.get_cookie("__Host-session").value != copied_session

    assert not redis_client.exists(store_key(copied_session))
    copy = app.test_client()
    copy.set_cookie("__Host-session", copied_session)
    assert copy.get("/dashboard").status_code == 302
    # And the restored session is the one a sign-out ends.
    AuthActions(app, restored).logout()
    assert list(redis_client.scan_iter("session:*")) == []


@pytest.mark.parametrize("path", ["/dashboard", "/no-such-page", "/account/sessions"])
def test_a_restore_that_loses_a_race_goes_on_as_a_visitor_never_a_500(app, auth, monkeypatch, path):
    """Two tabs restore from one remember cookie at once (or a sign-out lands): the loser
    finds the sign-in changed while only loading the user, on any page, error pages too."""
    from app import sign_ins

    auth.create_user()
    auth.login(remember=True)
    browser = app.test_client()
    browser.set_cookie("__Host-remember", auth.client.get_cookie("__Host-remember").value)

    def another_request_won(*args, **kwargs):
        raise sign_ins.SignInChanged()

    monkeypatch.setattr(sign_ins, "_update_or_raise", another_request_won)
    response = browser.get(path)
    monkeypatch.undo()

    assert response.status_code in (302, 404)
    assert browser.get_cookie("__Host-session") is None
    # The sign-in itself is intact: the next request restores it.
    assert browser.get("/dashboard").status_code == 200


def test_a_restore_that_loses_to_another_tab_tries_once_more_and_succeeds(app, auth, monkeypatch):
    """Two tabs restore at once: the second finds the sign-in moved by the first."""
    from app import sign_ins

    auth.create_user()
    auth.login(remember=True)
    browser = app.test_client()
    browser.set_cookie("__Host-remember", auth.client.get_cookie("__Host-remember").value)
    real_update = sign_ins._update_or_raise
    lost = []

    def other_tab_first(*args, **kwargs):
        if not lost:
            lost.append(True)
            raise sign_ins.SignInChanged()
        return real_update(*args, **kwargs)

    monkeypatch.setattr(sign_ins, "_update_or_raise", other_tab_first)
    assert browser.get("/dashboard").status_code == 200
    assert lost == [True]
