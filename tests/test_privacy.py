"""Privacy by design: the cookie inventory, data export, retention and operator tools."""

import json

from app.extensions import db
from app.models import SecurityEvent, SignIn, User
from tests.conftest import AuthActions


def cookie_names_set(response):
    return {header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie")}


def test_every_cookie_the_site_sets_is_on_the_privacy_page(app, auth):
    """Walk every flow that sets a cookie; each name must have an inventory entry."""
    seen = set()
    client = auth.client
    seen |= cookie_names_set(client.get("/auth/register"))
    seen |= cookie_names_set(client.get("/language/de?next=/"))
    auth.create_user()
    seen |= cookie_names_set(auth.login(remember=True))
    seen |= cookie_names_set(client.get("/dashboard"))
    seen |= cookie_names_set(auth.logout())
    page = client.get("/privacy").get_data(as_text=True)
    assert {"__Host-session", "__Host-remember", "__Host-device", "__Host-lang"} <= seen
    for name in seen:
        assert f"<code>{name}</code>" in page, name


def test_privacy_page_states_lifetimes_from_the_config(make_app):
    app = make_app(REMEMBER_COOKIE_DURATION=7 * 86400, SECURITY_EVENT_RETENTION=45 * 86400)
    page = app.test_client().get("/privacy").get_data(as_text=True)
    assert "7 days" in page and "45 days" in page
    assert "no consent banner is needed" in page


def test_export_holds_everything_stored_about_the_user_and_no_secret(app, signed_in):
    AuthActions(app, app.test_client()).login(password="wrong password")  # an event too
    response = signed_in.client.get("/account/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    assert data["account"]["username"] == "alice"
    assert len(data["sign_ins"]) == 1 and data["sign_ins"][0]["this_session"] is True
    assert {event["event"] for event in data["security_events"]} >= {"login_succeeded", "login_failed"}
    with app.app_context():
        user = db.session.scalar(db.select(User))
        record = db.session.scalar(db.select(SignIn))
        assert user.password_hash not in response.get_data(as_text=True)
        assert record.token_hash not in response.get_data(as_text=True)
        assert len(data["security_events"]) == db.session.query(SecurityEvent).count()


def test_export_needs_a_recent_password(signed_in, clock):
    clock.advance(minutes=11)
    response = signed_in.client.get("/account/export")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/reauth")


def test_retention_purge_erases_old_events_and_old_addresses(make_app, clock):
    app = make_app(REMEMBER_COOKIE_DURATION=90 * 86400)
    auth = AuthActions(app, app.test_client())
    auth.create_user()
    auth.login(remember=True)
    clock.advance(days=31)
    result = app.test_cli_runner().invoke(args=["retention", "purge"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        record = db.session.scalar(db.select(SignIn))
        assert record.ip_address is None and record.client is None
        assert db.session.query(SecurityEvent).count() == 1  # 31 days old: kept for 90
    clock.advance(days=60)
    result = app.test_cli_runner().invoke(args=["retention", "purge"])
    assert "deleted 1 old security event(s)" in result.output
    with app.app_context():
        assert db.session.query(SecurityEvent).count() == 0


def test_retention_purge_ends_timed_out_sign_ins(app, signed_in, clock):
    clock.advance(hours=1)
    result = app.test_cli_runner().invoke(args=["retention", "purge"])
    assert "Ended 1 timed-out sign-in(s)" in result.output
    with app.app_context():
        assert db.session.query(SignIn).count() == 0


def test_operator_lists_and_revokes_a_users_sessions(app, signed_in):
    other = AuthActions(app, app.test_client())
    other.login(remember=True)
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["sessions", "list", "alice"])
    assert listing.exit_code == 0 and "2 live session(s) for alice." in listing.output

    revoked = runner.invoke(args=["sessions", "revoke", "alice"])
    assert revoked.exit_code == 0 and "Ended 2 session(s) of alice." in revoked.output
    assert signed_in.client.get("/dashboard").status_code == 302
    assert other.client.get("/dashboard").status_code == 302


def test_operator_revoke_all_ends_everyone(app, signed_in):
    bob = AuthActions(app, app.test_client())
    bob.create_user("bob")
    bob.login("bob")
    result = app.test_cli_runner().invoke(args=["sessions", "revoke-all", "--yes"])
    assert result.exit_code == 0 and "Ended 2 session(s) of all users." in result.output
    assert signed_in.client.get("/dashboard").status_code == 302
    assert bob.client.get("/dashboard").status_code == 302


def test_operator_commands_fail_clearly_on_an_unknown_user(app):
    result = app.test_cli_runner().invoke(args=["sessions", "revoke", "nobody"])
    assert result.exit_code != 0 and "No user named 'nobody'" in result.output
