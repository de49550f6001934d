"""A copy of the remember cookie (app/sign_ins.py ``_restore``).

Threat: someone copies the "keep me signed in" cookie. Before, the cookie held one
token for the whole sign-in, so each use of the copy moved the sign-in into the
copy's session and ended the owner's, again and again, with nothing noticed. Now
each restore replaces the token; the replaced one, seen again after a few seconds'
grace, means two browsers hold the cookie, and the sign-in ends for both, with the
owner told. Within the grace, a tab that set off together with the restoring one is
served, but only for a GET or HEAD, and it sets no cookie.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import EndedSignIn, SecurityEvent, SignIn
from tests.conftest import AuthActions, csrf_token_from, store_key
from tests.support.mail import sign_up_and_confirm

REMEMBER = "__Host-remember"
SESSION = "__Host-session"
THIEF_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def grace(app):
    return app.config["REMEMBER_TOKEN_REUSE_GRACE"]


@pytest.fixture
def remembered(app, auth, clock):
    """Alice signed in with "keep me signed in"; returns the value of her remember cookie."""
    auth.create_user()
    auth.login(remember=True)
    return auth.client.get_cookie(REMEMBER).value


@pytest.fixture
def remembered_with_address(app, client, mailbox, clock):
    """Alice, with a confirmed address, signed in with "keep me signed in"; her remember cookie."""
    sign_up_and_confirm(client, mailbox)
    auth = AuthActions(app, client)
    auth.logout()
    auth.login(remember=True)
    return client.get_cookie(REMEMBER).value


def browser_with(app, remember, **environ):
    browser = app.test_client()
    browser.environ_base.update(environ)
    browser.set_cookie(REMEMBER, remember)
    return browser


def set_cookies(response, name):
    return [header for header in response.headers.getlist("Set-Cookie") if header.startswith(name + "=")]


def sign_in_count(app):
    with app.app_context():
        return db.session.query(SignIn).count()


def events(app, name):
    with app.app_context():
        return db.session.scalars(select(SecurityEvent).where(SecurityEvent.event == name)).all()


def test_a_restore_replaces_the_remember_cookie(app, remembered):
    browser = browser_with(app, remembered)
    response = browser.get("/dashboard")
    assert response.status_code == 200
    (header,) = set_cookies(response, REMEMBER)
    assert "Secure" in header and "HttpOnly" in header
    renewed = browser.get_cookie(REMEMBER).value
    assert renewed != remembered
    # The new cookie restores too, in another session (the browser lost its session).
    browser.delete_cookie(SESSION)
    assert browser.get("/dashboard").status_code == 200


@pytest.mark.parametrize("first", ["owner", "thief"])
def test_the_replaced_cookie_after_the_grace_ends_the_sign_in_for_both_browsers(app, remembered, clock, grace, first):
    """Whoever restores first, the other one brings the replaced token back: both are out."""
    owner = browser_with(app, remembered)
    thief = browser_with(app, remembered, REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=THIEF_AGENT)
    restoring, late = (owner, thief) if first == "owner" else (thief, owner)
    assert restoring.get("/dashboard").status_code == 200
    renewed = restoring.get_cookie(REMEMBER).value

    clock.advance(seconds=grace.total_seconds() + 1)
    response = late.get("/dashboard")
    assert response.status_code == 302
    assert sign_in_count(app) == 0
    assert restoring.get("/dashboard").status_code == 302
    # Both cookies go from the browser that brought the copy.
    assert "Max-Age=0" in set_cookies(response, REMEMBER)[0]
    assert late.get_cookie(REMEMBER) is None
    # Neither cookie brings anything back, however often it is tried.
    for cookie in (remembered, renewed, remembered):
        assert browser_with(app, cookie).get("/dashboard").status_code == 302
    (event,) = events(app, "remember_cookie_reused")
    assert event.ip_address == late.environ_base.get("REMOTE_ADDR", "127.0.0.1")


@pytest.mark.parametrize("restores", [2, 3])
def test_a_copy_is_caught_however_many_restores_it_missed(app, remembered, clock, restores):
    """The thief restores again and again (dropping each session), then the owner comes back."""
    thief = browser_with(app, remembered, REMOTE_ADDR="203.0.113.9")
    for _ in range(restores):
        assert thief.get("/dashboard").status_code == 200
        thief.delete_cookie(SESSION)
        clock.advance(hours=1)
    assert thief.get("/dashboard").status_code == 200

    assert browser_with(app, remembered).get("/dashboard").status_code == 302
    assert sign_in_count(app) == 0
    assert thief.get("/dashboard").status_code == 302
    assert len(events(app, "remember_cookie_reused")) == 1


def test_a_request_that_finds_the_copy_already_ended_reports_nothing(app, remembered, clock, grace, monkeypatch):
    """Two requests with the old token at the same moment: only the one that ends it reports."""
    from app import sign_ins

    assert browser_with(app, remembered).get("/dashboard").status_code == 200
    clock.advance(seconds=grace.total_seconds() + 1)
    real_end = sign_ins.end

    def the_other_request_ends_it_first(records, **options):
        real_end(records, keep_series=False)
        return real_end(records, **options)

    monkeypatch.setattr(sign_ins, "end", the_other_request_ends_it_first)
    assert browser_with(app, remembered).get("/dashboard").status_code == 302
    assert sign_in_count(app) == 0
    assert events(app, "remember_cookie_reused") == []


def test_a_cookie_of_no_live_sign_in_is_deleted(app, auth, remembered):
    auth.logout()
    browser = browser_with(app, remembered)
    response = browser.get("/dashboard")
    assert response.status_code == 302
    (deletion,) = set_cookies(response, REMEMBER)
    assert "Max-Age=0" in deletion and "Secure" in deletion
    assert browser.get_cookie(REMEMBER) is None


def test_each_restore_is_on_the_activity_page_with_where_from(app, remembered):
    thief = browser_with(app, remembered, REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=THIEF_AGENT)
    assert thief.get("/dashboard").status_code == 200
    (event,) = events(app, "remember_me_restored")
    assert event.ip_address == "203.0.113.9" and event.client == "Firefox 133 (Windows)"
    page = thief.get("/account/activity").get_data(as_text=True)
    assert "Signed in again by “keep me signed in”" in page


def test_the_owner_can_sign_in_again_at_once_and_the_copy_stays_dead(app, auth, remembered, clock, grace):
    thief = browser_with(app, remembered, REMOTE_ADDR="203.0.113.9")
    assert thief.get("/dashboard").status_code == 200
    clock.advance(seconds=grace.total_seconds() + 1)
    owner = browser_with(app, remembered)
    assert owner.get("/dashboard").status_code == 302

    again = AuthActions(app, owner)
    assert again.login(remember=True).status_code == 303
    assert owner.get("/dashboard").status_code == 200
    thief.delete_cookie(SESSION)
    assert thief.get("/dashboard").status_code == 302
    assert owner.get("/dashboard").status_code == 200


def test_the_owner_reads_it_on_the_activity_page(app, remembered, clock, grace):
    assert browser_with(app, remembered).get("/dashboard").status_code == 200
    clock.advance(seconds=grace.total_seconds() + 1)
    assert browser_with(app, remembered).get("/dashboard").status_code == 302

    owner = AuthActions(app, app.test_client())
    owner.login()
    page = owner.client.get("/account/activity").get_data(as_text=True)
    assert "cookie was used by two browsers" in page


def test_the_owner_is_told_by_email(app, remembered_with_address, mailbox, clock, grace):
    remembered = remembered_with_address
    assert browser_with(app, remembered).get("/dashboard").status_code == 200
    clock.advance(seconds=grace.total_seconds() + 1)
    late = browser_with(app, remembered, REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=THIEF_AGENT)
    assert late.get("/dashboard").status_code == 302

    (message,) = [m for m in mailbox.to("alice@example.org") if "sign-in cookie" in m.subject]
    assert message.subject == "A copy of your sign-in cookie was used: we signed it out"
    assert "203.0.113.9" in message.body and "Firefox 133 (Windows)" in message.body
    assert "https://sessions.example/auth/login" in message.body
    assert events(app, "remember_cookie_notice_sent")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_tab_within_the_grace_is_served_and_sets_no_cookie(app, remembered, clock, grace, method):
    """Tabs that open at once all carry the old token; the first restores, the rest are served."""
    first = browser_with(app, remembered)
    assert first.get("/dashboard").status_code == 200
    clock.advance(seconds=grace.total_seconds() - 1)
    tab = browser_with(app, remembered)
    response = tab.open("/dashboard", method=method)
    assert response.status_code == 200
    assert response.headers.getlist("Set-Cookie") == []
    if method == "GET":
        assert "served while your sign-in was being restored" in response.get_data(as_text=True)
    # The sign-in is intact: the restoring browser goes on in its session.
    assert sign_in_count(app) == 1
    assert first.get("/dashboard").status_code == 200
    assert events(app, "remember_cookie_reused") == []


def test_a_form_within_the_grace_is_not_signed_in(app, remembered, clock):
    """A sign-out from our own page (accepted without a CSRF secret) ends nothing from the grace."""
    first = browser_with(app, remembered)
    assert first.get("/dashboard").status_code == 200
    tab = browser_with(app, remembered)
    tab.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"
    assert tab.post("/auth/logout").status_code == 303
    assert sign_in_count(app) == 1
    assert first.get("/dashboard").status_code == 200


def test_the_tab_that_loses_the_race_to_restore_is_served(app, remembered, monkeypatch):
    """The tab that loses the race to restore finds the token replaced, and is served."""
    from app import clock, sign_ins
    from app.tokens import new_token, sha256_hex

    real_update = sign_ins._update_or_raise

    def another_tab_restores_first(record, **values):
        # What the winning tab's restore writes, just before this one's own write.
        db.session.execute(
            db.update(SignIn)
            .where(SignIn.id == record.id)
            .values(
                token_hash=sha256_hex(new_token()),
                previous_token_hash=record.token_hash,
                token_rotated_at=clock.utcnow(),
            )
        )
        db.session.commit()
        monkeypatch.setattr(sign_ins, "_update_or_raise", real_update)
        return real_update(record, **values)

    monkeypatch.setattr(sign_ins, "_update_or_raise", another_tab_restores_first)
    response = browser_with(app, remembered).get("/dashboard")
    assert response.status_code == 200
    assert response.headers.getlist("Set-Cookie") == []
    assert sign_in_count(app) == 1
    assert events(app, "remember_cookie_reused") == []


def test_a_password_change_leaves_no_grace_to_the_old_cookie(app, auth, remembered, clock):
    """A token replaced by anything but a restore is dead at once, grace or not."""
    browser = browser_with(app, remembered)
    assert browser.get("/dashboard").status_code == 200
    page = browser.get("/auth/reauth")
    browser.post("/auth/reauth", data={"password": "correct horse battery", "csrf_token": csrf_token_from(page)})
    page = browser.get("/account/password")
    response = browser.post(
        "/account/password",
        data={
            "current_password": "correct horse battery",
            "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
            "csrf_token": csrf_token_from(page),
        },
    )
    assert response.status_code in (302, 303)
    assert browser.get("/dashboard").status_code == 200
    # At once, inside what would have been the grace: nothing.
    assert browser_with(app, remembered).get("/dashboard").status_code == 302
    assert sign_in_count(app) == 1


def test_the_replaced_session_of_the_restoring_browser_is_deleted(app, remembered, redis_client, clock, grace):
    """Ending the sign-in ends the session the restore made, in the store, not just the row."""
    browser = browser_with(app, remembered)
    assert browser.get("/dashboard").status_code == 200
    session_id = browser.get_cookie(SESSION).value
    assert redis_client.exists(store_key(session_id))
    clock.advance(seconds=grace.total_seconds() + 1)
    assert browser_with(app, remembered).get("/dashboard").status_code == 302
    assert not redis_client.exists(store_key(session_id))


def test_the_grace_is_a_setting_in_seconds(make_app):
    app = make_app(REMEMBER_TOKEN_REUSE_GRACE=3)
    assert app.config["REMEMBER_TOKEN_REUSE_GRACE"] == timedelta(seconds=3)


def ended_kept(app):
    with app.app_context():
        return db.session.query(EndedSignIn).count()


def test_a_copy_is_caught_after_the_thief_signed_out(app, remembered_with_address, mailbox, clock):
    """The thief restores, then signs out, hoping the owner's old token passes as stale."""
    remembered = remembered_with_address
    thief = AuthActions(app, browser_with(app, remembered, REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=THIEF_AGENT))
    assert thief.client.get("/dashboard").status_code == 200
    assert thief.logout().status_code in (302, 303)
    clock.advance(hours=2)

    owner = browser_with(app, remembered)
    response = owner.get("/dashboard")
    assert response.status_code == 302
    assert "Max-Age=0" in set_cookies(response, REMEMBER)[0]
    assert len(events(app, "remember_cookie_reused_after_end")) == 1
    (message,) = [m for m in mailbox.to("alice@example.org") if "sign-in cookie" in m.subject]
    assert "That sign-in had ended already" in message.body
    # Reported once: the same cookie again says nothing more.
    assert browser_with(app, remembered).get("/dashboard").status_code == 302
    assert len(events(app, "remember_cookie_reused_after_end")) == 1
    assert ended_kept(app) == 0


def test_the_last_cookie_of_an_ended_sign_in_is_only_stale(app, auth, remembered, clock):
    """A sign-out whose answer got lost leaves the newest cookie in the browser: no copy."""
    browser = browser_with(app, remembered)
    assert browser.get("/dashboard").status_code == 200
    newest = browser.get_cookie(REMEMBER).value
    AuthActions(app, browser).logout()
    clock.advance(hours=1)
    assert browser_with(app, newest).get("/dashboard").status_code == 302
    assert events(app, "remember_cookie_reused_after_end") == []
    # The token that restore replaced is a copy, though: nobody's browser holds it any more.
    assert browser_with(app, remembered).get("/dashboard").status_code == 302
    assert len(events(app, "remember_cookie_reused_after_end")) == 1


def test_a_sign_in_never_restored_keeps_nothing_when_it_ends(app, auth, remembered):
    auth.logout()
    assert ended_kept(app) == 0
    assert browser_with(app, remembered).get("/dashboard").status_code == 302
    assert events(app, "remember_cookie_reused_after_end") == []


def test_what_is_kept_is_forgotten_when_the_sign_in_would_have_expired(app, remembered, clock):
    from app import retention

    browser = AuthActions(app, browser_with(app, remembered))
    assert browser.client.get("/dashboard").status_code == 200
    browser.logout()
    assert ended_kept(app) == 1
    clock.advance(days=31)
    with app.app_context():
        assert retention.purge()["forgotten_ended_sign_ins"] == 1
    assert ended_kept(app) == 0


def test_deleting_the_account_forgets_its_ended_sign_ins(app, remembered):
    browser = AuthActions(app, browser_with(app, remembered))
    assert browser.client.get("/dashboard").status_code == 200
    page = browser.client.get("/auth/reauth")
    browser.client.post("/auth/reauth", data={"password": "correct horse battery", "csrf_token": csrf_token_from(page)})
    page = browser.client.get("/account/delete")
    response = browser.client.post(
        "/account/delete", data={"password": "correct horse battery", "csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 303
    assert ended_kept(app) == 0


@pytest.mark.parametrize("damage", ["x", "", "wrong-mac", "no-mac", "other-key"])
def test_a_remember_cookie_no_key_verifies_is_deleted(app, remembered, damage):
    """Forged, damaged, or signed with a key no longer in the fallbacks: dropped, never looked up."""
    from flask_login.utils import encode_cookie

    token, _, mac = remembered.partition("|")
    if damage == "other-key":
        with app.app_context():
            value = encode_cookie(token, key="a key this app has never had, 32 bytes or more")
    else:
        value = {"wrong-mac": f"{token}|{'0' * len(mac)}", "no-mac": token}.get(damage, damage)
    browser = browser_with(app, value)
    response = browser.get("/dashboard")
    assert response.status_code == 302
    (deletion,) = set_cookies(response, REMEMBER)
    assert "Max-Age=0" in deletion and "Secure" in deletion and "HttpOnly" in deletion
    # The real cookie is unharmed.
    assert browser_with(app, remembered).get("/dashboard").status_code == 200


def test_one_copy_is_reported_once_also_after_the_sign_in_ended_for_it(app, remembered_with_address, mailbox, clock):
    first = remembered_with_address
    owner = browser_with(app, first)
    assert owner.get("/dashboard").status_code == 200
    second = owner.get_cookie(REMEMBER).value
    owner.delete_cookie(SESSION)
    clock.advance(hours=1)
    assert owner.get("/dashboard").status_code == 200
    clock.advance(hours=1)
    assert browser_with(app, second).get("/dashboard").status_code == 302
    assert browser_with(app, first).get("/dashboard").status_code == 302

    assert len(events(app, "remember_cookie_reused")) == 1
    assert events(app, "remember_cookie_reused_after_end") == []
    assert len([m for m in mailbox.to("alice@example.org") if "sign-in cookie" in m.subject]) == 1
    assert ended_kept(app) == 0


def test_a_thief_who_signs_out_within_the_grace_is_reported_when_the_owner_comes_back(app, remembered, clock, grace):
    """The owner's browser asks within the grace of the thief's restore: its cookie waits."""
    thief = AuthActions(app, browser_with(app, remembered, REMOTE_ADDR="203.0.113.9"))
    assert thief.client.get("/dashboard").status_code == 200
    thief.logout()
    owner = browser_with(app, remembered)
    response = owner.get("/dashboard")
    assert response.status_code == 302
    assert set_cookies(response, REMEMBER) == []
    assert events(app, "remember_cookie_reused_after_end") == []

    clock.advance(seconds=grace.total_seconds() + 1)
    assert owner.get("/dashboard").status_code == 302
    assert len(events(app, "remember_cookie_reused_after_end")) == 1
    assert owner.get_cookie(REMEMBER) is None


def test_a_sign_in_ended_for_a_copy_never_keeps_its_series(app, remembered, clock, grace, monkeypatch):
    """Not even for a moment: a request bringing another copy then would report it a second time."""
    from app import sign_ins

    kept = []
    monkeypatch.setattr(sign_ins, "EndedSignIn", lambda **columns: kept.append(columns))
    assert browser_with(app, remembered).get("/dashboard").status_code == 200
    clock.advance(seconds=grace.total_seconds() + 1)
    assert browser_with(app, remembered).get("/dashboard").status_code == 302
    assert len(events(app, "remember_cookie_reused")) == 1
    assert kept == []


def test_a_cookie_from_before_series_is_caught_too(app, remembered, clock, grace):
    """A token issued before tokens had a series: the thief restores first, the owner comes back."""
    from flask_login.utils import encode_cookie

    from app.tokens import new_token, sha256_hex

    legacy = new_token()
    with app.app_context():
        db.session.execute(db.update(SignIn).values(token_hash=sha256_hex(legacy), series_hash=None))
        db.session.commit()
        cookie = encode_cookie(legacy)
    thief = browser_with(app, cookie, REMOTE_ADDR="203.0.113.9")
    assert thief.get("/dashboard").status_code == 200
    clock.advance(seconds=grace.total_seconds() + 1)
    assert browser_with(app, cookie).get("/dashboard").status_code == 302
    assert sign_in_count(app) == 0
    assert len(events(app, "remember_cookie_reused")) == 1


def test_a_page_served_within_the_grace_varies_by_cookie(app, remembered):
    assert browser_with(app, remembered).get("/dashboard").status_code == 200
    response = browser_with(app, remembered).get("/dashboard")
    assert response.status_code == 200
    assert "Cookie" in response.headers["Vary"]


def test_the_export_says_what_is_kept_of_ended_sign_ins(app, auth, remembered):
    browser = AuthActions(app, browser_with(app, remembered))
    assert browser.client.get("/dashboard").status_code == 200
    browser.logout()
    owner = AuthActions(app, app.test_client())
    owner.login()
    export = owner.client.get("/account/export").get_json()
    assert len(export["ended_remember_me_sign_ins_kept_until"]) == 1
