"""Authenticator apps and recovery codes: set-up, sign-in, re-authentication, removal."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from app import sessions
from app.extensions import db
from app.models import SignIn, User
from app.recovery import tokens
from app.recovery.models import EmailToken
from app.second_factors import secret_box
from app.second_factors.models import Authenticator, RecoveryCode
from tests.conftest import AuthActions, csrf_token_from
from tests.support.second_factors import (
    RECOVERY_CODE_PATTERN,
    add_app,
    code_at,
    new_codes_form,
    reauthenticate,
    submit_code,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def with_app(signed_in, clock):
    """Alice, signed in, with an authenticator app; returns (auth, secret, recovery codes).

    She has just confirmed it is her with a code from the app, as changes to the
    factors ask; the clock is then one step on, so ``code_at(secret, clock.now)`` is unused.
    """
    secret, codes = add_app(signed_in, clock)
    reauthenticate(signed_in, code_at(secret, clock.now))
    clock.advance(seconds=30)
    return signed_in, secret, codes


def other_browser(app, address="198.51.100.7"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return AuthActions(app, client)


def test_setup_shows_the_qr_code_as_inline_svg_and_needs_a_first_code(signed_in, clock, app):
    reauthenticate(signed_in)
    page = signed_in.client.get("/account/second-factor/app")
    html = page.get_data(as_text=True)
    assert '<svg width="' in html and 'class="qr"' in html
    assert "data:" not in html and "style=" not in html.split('<div class="qr-code">')[1].split("</div>")[0]
    wrong = signed_in.client.post(
        "/account/second-factor/app", data={"code": "000000", "csrf_token": csrf_token_from(page)}
    )
    assert wrong.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Authenticator)) is None
    secret, codes = add_app(signed_in, clock)
    assert len(codes) == len(set(codes)) == 10
    with app.app_context():
        stored = db.session.scalar(select(Authenticator))
        # A copy of the database holds neither the secret nor the codes.
        assert secret not in stored.encrypted_secret
        assert secret_box.decrypt(stored.encrypted_secret) == secret
        hashes = [row.code_hash for row in db.session.scalars(select(RecoveryCode))]
        assert len(hashes) == 10 and not any(code.replace("-", "") in hashes for code in codes)


def test_adding_an_app_needs_a_recent_reauthentication(signed_in, clock):
    clock.advance(minutes=11)
    response = signed_in.client.get("/account/second-factor/app")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/reauth")


def test_sign_in_with_the_password_then_a_code_renews_the_id_and_records_the_factor(with_app, clock, app):
    _, secret, _ = with_app
    browser = other_browser(app)
    started = browser.login()
    assert started.status_code == 303 and started.headers["Location"] == "/auth/second-factor"
    assert browser.session_cookie() is None
    assert browser.client.get("/auth/second-factor").status_code == 200
    done = submit_code(browser.client, code_at(secret, clock.now))
    assert done.status_code == 303 and done.headers["Location"] == "/dashboard"
    assert browser.session_cookie() is not None
    assert browser.client.get("/dashboard").status_code == 200
    with app.app_context():
        newest = db.session.scalars(select(SignIn).order_by(SignIn.id.desc())).first()
        assert newest.second_factor == "totp"
    devices = browser.client.get("/account/sessions").get_data(as_text=True)
    assert "Second factor: Authenticator app" in devices


def test_a_recovery_code_signs_in_once(with_app, clock, app):
    auth, _, codes = with_app
    browser = other_browser(app)
    browser.login()
    assert submit_code(browser.client, codes[0].upper().replace("-", " ")).status_code == 303
    with app.app_context():
        assert db.session.scalars(select(SignIn).order_by(SignIn.id.desc())).first().second_factor == "recovery_code"
    browser.logout()
    browser.login()
    assert submit_code(browser.client, codes[0]).status_code == 401
    overview = auth.client.get("/account/second-factor").get_data(as_text=True)
    assert "9 unused recovery codes" in overview
    assert "Recovery code used" in auth.client.get("/account/activity").get_data(as_text=True)


def test_new_recovery_codes_need_reauthentication_and_replace_the_old_ones(with_app, clock, app):
    auth, secret, old_codes = with_app
    clock.advance(minutes=11)
    token = csrf_token_from(auth.client.get("/account/second-factor"))
    refused = auth.client.post("/account/second-factor/recovery-codes", data={"csrf_token": token})
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/auth/reauth")
    # The password alone is not enough to change the factors: one of them is asked for.
    reauthenticate(auth)
    token = csrf_token_from(auth.client.get("/account/second-factor"))
    refused = auth.client.post("/account/second-factor/recovery-codes", data={"csrf_token": token})
    assert refused.status_code == 302 and "factor=1" in refused.headers["Location"]
    reauthenticate(auth, code_at(secret, clock.now))
    fresh = auth.client.post("/account/second-factor/recovery-codes", data=new_codes_form(auth.client))
    assert fresh.status_code == 200
    assert "New recovery codes made" in auth.client.get("/account/activity").get_data(as_text=True)
    browser = other_browser(app)
    browser.login()
    assert submit_code(browser.client, old_codes[1]).status_code == 401


def test_reauthentication_accepts_a_code_instead_of_the_password(with_app, clock):
    auth, secret, _ = with_app
    clock.advance(minutes=11)
    page = auth.client.get("/auth/reauth?next=/account/sessions")
    assert "Or use a code" in page.get_data(as_text=True)
    token = csrf_token_from(page)
    before = auth.session_cookie()
    wrong = auth.client.post("/auth/reauth/code?next=/account/sessions", data={"code": "123456", "csrf_token": token})
    assert wrong.status_code == 401
    right = auth.client.post(
        "/auth/reauth/code?next=/account/sessions", data={"code": code_at(secret, clock.now), "csrf_token": token}
    )
    assert right.status_code == 303 and right.headers["Location"] == "/account/sessions"
    assert auth.session_cookie() != before
    assert auth.client.get("/account/second-factor/app").status_code == 303  # within the window: no detour


def test_removing_the_app_ends_every_other_sign_in_and_the_password_signs_in_alone(with_app, clock, app):
    auth, secret, _ = with_app
    browser = other_browser(app)
    browser.login()
    submit_code(browser.client, code_at(secret, clock.now))
    assert browser.client.get("/dashboard").status_code == 200
    token = csrf_token_from(auth.client.get("/account/second-factor"))
    removed = auth.client.post("/account/second-factor/app/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    assert browser.client.get("/dashboard").status_code == 302
    assert auth.client.get("/dashboard").status_code == 200
    assert "Authenticator app removed" in auth.client.get("/account/activity").get_data(as_text=True)
    again = other_browser(app, "198.51.100.8")
    assert again.login().headers["Location"] == "/dashboard"


def test_a_remember_cookie_restores_a_sign_in_that_completed_its_second_factor(with_app, clock, app):
    _, secret, _ = with_app
    browser = other_browser(app)
    browser.login(remember=True)
    submit_code(browser.client, code_at(secret, clock.now))
    remember = browser.client.get_cookie(app.config["REMEMBER_COOKIE_NAME"]).value
    later = other_browser(app, "198.51.100.9")
    later.client.set_cookie(app.config["REMEMBER_COOKIE_NAME"], remember)
    assert later.client.get("/dashboard").status_code == 200


def test_the_operator_can_reset_a_users_factors_which_ends_their_sign_ins(with_app, app):
    auth, _, _ = with_app
    result = app.test_cli_runner().invoke(args=["second-factors", "reset", "alice"])
    assert result.exit_code == 0 and "ended 1 session(s)" in result.output
    assert auth.client.get("/dashboard").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Authenticator)) is None
        assert db.session.scalar(select(RecoveryCode)) is None
    assert other_browser(app).login().headers["Location"] == "/dashboard"
    assert app.test_cli_runner().invoke(args=["second-factors", "reset", "nobody"]).exit_code != 0


def test_secrets_made_before_a_key_rotation_still_work_and_move_to_the_new_key(make_app, clock, tmp_path):
    old = make_app()
    auth = AuthActions(old, old.test_client())
    auth.create_user()
    auth.login()
    secret, _ = add_app(auth, clock)
    rotated = make_app(
        create_tables=False,
        SECRET_KEY="n3wK3y-f0r-th3-r0tat10n-t3st-0123456789abcdef",
        SECRET_KEY_FALLBACKS=[old.secret_key],
    )
    browser = other_browser(rotated)
    browser.login()
    assert submit_code(browser.client, code_at(secret, clock.now)).status_code == 303
    with rotated.app_context():
        assert not secret_box.needs_reencryption(db.session.scalar(select(Authenticator)).encrypted_secret)


def test_the_embedded_store_keeps_the_half_signed_in_state_too(make_app, clock):
    app = make_app(embedded=True)
    auth = AuthActions(app, app.test_client())
    auth.create_user()
    auth.login()
    secret, _ = add_app(auth, clock)
    browser = other_browser(app)
    browser.login()
    for _ in range(4):
        assert submit_code(browser.client, "000000").status_code == 401
    assert submit_code(browser.client, code_at(secret, clock.now)).status_code == 303
    assert browser.client.get("/dashboard").status_code == 200


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12 34 56", "١٢٣٤٥٦", "a" * 41, "12345\x00", "x" * 16])
def test_malformed_codes_get_a_4xx(with_app, app, code):
    browser = other_browser(app)
    browser.login()
    assert submit_code(browser.client, code).status_code in (400, 401)


def test_the_export_names_the_factors_but_holds_no_secret(with_app):
    auth, secret, codes = with_app
    exported = auth.client.get("/account/export")
    text = exported.get_data(as_text=True)
    data = json.loads(text)
    assert data["second_factors"]["recovery_codes_left"] == 10
    assert data["second_factors"]["authenticator_app_added_at"]
    assert secret not in text and not any(code in text for code in codes)


def test_deleting_the_account_deletes_its_factors(with_app, app):
    auth, _, _ = with_app
    token = csrf_token_from(auth.client.get("/account/delete"))
    auth.client.post("/account/delete", data={"password": PASSWORD, "csrf_token": token})
    with app.app_context():
        assert db.session.scalar(select(User)) is None
        assert db.session.scalar(select(Authenticator)) is None
        assert db.session.scalar(select(RecoveryCode)) is None


def test_removing_the_app_from_a_sign_in_ended_meanwhile_removes_nothing(with_app, app):
    auth, _, _ = with_app
    token = csrf_token_from(auth.client.get("/account/second-factor"))
    # A revocation from another device lands while this request is on its way: the
    # request has loaded its session already, and finds its row gone.
    with app.app_context():
        db.session.execute(delete(SignIn))
        db.session.commit()
    removed = auth.client.post("/account/second-factor/app/remove", data={"csrf_token": token})
    assert removed.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(Authenticator)) is not None


def test_removing_the_app_kills_a_pending_change_of_address(with_app, app):
    """Whoever the removal throws out may also have asked to move the account to their address."""
    auth, _, _ = with_app
    with app.app_context():
        tokens.issue(1, tokens.CONFIRM_ADDRESS, "intruder@example.org", timedelta(hours=1), password_version=0)
        db.session.commit()
    token = csrf_token_from(auth.client.get("/account/second-factor"))
    assert auth.client.post("/account/second-factor/app/remove", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(EmailToken)) is None


def test_a_code_typed_in_two_groups_as_apps_show_it_is_accepted(with_app, clock, app):
    _, secret, _ = with_app
    code = code_at(secret, clock.now)
    browser = other_browser(app)
    browser.login()
    assert submit_code(browser.client, f"{code[:3]} {code[3:]}").status_code == 303


def test_a_sign_in_finished_meanwhile_by_another_tab_leaves_this_tabs_code_unused(with_app, app, monkeypatch):
    # Two tabs share one half-signed-in state and send different recovery codes at
    # once; the other tab takes the state between this tab's check and its finish.
    _, _, codes = with_app
    browser = other_browser(app)
    browser.login()
    monkeypatch.setattr("app.second_factors.views.pending.take", lambda: False)
    lost = submit_code(browser.client, codes[0])
    assert lost.status_code == 303 and lost.headers["Location"] == "/auth/login"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == len(codes)
    monkeypatch.undo()
    browser.login()
    assert submit_code(browser.client, codes[0]).status_code == 303


@pytest.mark.parametrize("codes_set", [None, "", "none", "stale", "\u00e9\u00e9"])
def test_a_reload_of_the_new_codes_page_keeps_the_codes_just_shown(with_app, app, codes_set):
    """The browser's "send the form again?" must not silently replace the codes written down."""
    auth, _, _ = with_app
    fields = new_codes_form(auth.client)
    shown = RECOVERY_CODE_PATTERN.findall(
        auth.client.post("/account/second-factor/recovery-codes", data=fields).get_data(as_text=True)
    )
    assert len(shown) == 10
    again = dict(fields) if codes_set is None else {**fields, "codes_set": codes_set}
    reloaded = auth.client.post("/account/second-factor/recovery-codes", data=again)
    assert reloaded.status_code == 303 and reloaded.headers["Location"] == "/account/second-factor"
    assert "only the newest work" in auth.client.get("/account/second-factor").get_data(as_text=True)
    browser = other_browser(app)
    browser.login()
    assert submit_code(browser.client, shown[0]).status_code == 303


def test_two_clicks_at_once_on_new_codes_show_only_the_set_that_works(with_app, app, monkeypatch):
    # Both requests found the form's id in their copy of the session; the other one
    # marked it used first (sessions.mark_used_once), so this one makes nothing.
    auth, _, old_codes = with_app
    fields = new_codes_form(auth.client)
    monkeypatch.setattr("app.second_factors.views.sessions.mark_used_once", lambda key, lifetime: False)
    lost = auth.client.post("/account/second-factor/recovery-codes", data=fields)
    assert lost.status_code == 303 and lost.headers["Location"] == "/account/second-factor"
    browser = other_browser(app)
    browser.login()
    assert submit_code(browser.client, old_codes[0]).status_code == 303


def test_a_form_id_is_marked_used_once_in_the_store(app):
    with app.test_request_context("/"):
        assert [sessions.mark_used_once("test-mark", timedelta(minutes=1)) for _ in range(3)] == [True, False, False]


def test_with_two_tabs_open_the_first_click_makes_codes_and_the_second_says_so(with_app, app):
    auth, _, _ = with_app
    first_tab, second_tab = new_codes_form(auth.client), new_codes_form(auth.client)
    made = auth.client.post("/account/second-factor/recovery-codes", data=first_tab)
    shown = RECOVERY_CODE_PATTERN.findall(made.get_data(as_text=True))
    assert len(shown) == 10
    stale = auth.client.post("/account/second-factor/recovery-codes", data=second_tab)
    assert stale.status_code == 303
    assert "only the newest work" in auth.client.get("/account/second-factor").get_data(as_text=True)
    # A page shown now names the new set, and can replace it once.
    again = auth.client.post("/account/second-factor/recovery-codes", data=new_codes_form(auth.client))
    assert len(RECOVERY_CODE_PATTERN.findall(again.get_data(as_text=True))) == 10


def test_using_a_code_does_not_make_the_form_stale(with_app, app):
    auth, _, codes = with_app
    fields = new_codes_form(auth.client)
    browser = other_browser(app)
    browser.login()
    assert submit_code(browser.client, codes[0]).status_code == 303
    made = auth.client.post("/account/second-factor/recovery-codes", data=fields)
    assert len(RECOVERY_CODE_PATTERN.findall(made.get_data(as_text=True))) == 10
