"""The session and remember cookies as Chromium really stores and sends them."""

from urllib.parse import urlsplit

from playwright.sync_api import expect

SESSION_COOKIE = "__Host-session"
REMEMBER_COOKIE = "__Host-remember"


def assert_host_only_and_hidden_from_scripts(cookie, host):
    # Chromium stores a "__Host-" cookie only if it came with Secure, Path=/ and no
    # Domain; these checks make sure that is what happened, flag by flag.
    assert cookie["httpOnly"] is True
    assert cookie["secure"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/"
    # A Domain attribute would show as ".127.0.0.1" (or a parent domain).
    assert cookie["domain"] == host


def test_session_cookie_is_host_only_and_invisible_to_scripts(device, registered_user, site):
    """Threat: script injected into a page reads the session id and sends it away."""
    device.sign_in(registered_user)
    page = device.page
    session_cookie = device.cookie(SESSION_COOKIE)
    assert session_cookie is not None
    assert_host_only_and_hidden_from_scripts(session_cookie, urlsplit(site.url).hostname)

    # A cookie that scripts may read shows up, so document.cookie is really being read.
    visible = page.evaluate("document.cookie = 'probe=1; Secure; SameSite=Strict'; document.cookie")
    assert "probe=1" in visible
    assert SESSION_COOKIE not in visible
    assert session_cookie["value"] not in visible


def test_remember_cookie_has_the_same_flags(device, registered_user, site):
    device.sign_in(registered_user, remember=True)
    remember_cookie = device.cookie(REMEMBER_COOKIE)
    assert remember_cookie is not None
    assert_host_only_and_hidden_from_scripts(remember_cookie, urlsplit(site.url).hostname)
    assert REMEMBER_COOKIE not in device.page.evaluate("document.cookie")


def without_session_cookie(state):
    """Saved browser state as after a restart that dropped the session cookie."""
    cookies = [cookie for cookie in state["cookies"] if cookie["name"] != SESSION_COOKIE]
    assert len(cookies) < len(state["cookies"]), "there was no session cookie to drop"
    return {**state, "cookies": cookies}


def test_remember_me_survives_a_browser_restart(open_device, registered_user):
    before = open_device()
    before.sign_in(registered_user, remember=True)
    old_session_id = before.cookie(SESSION_COOKIE)["value"]
    state = without_session_cookie(before.context.storage_state())
    before.context.close()

    after = open_device(storage_state=state)
    after.page.goto("/dashboard")
    after.expect_dashboard_of(registered_user)
    # The remember cookie started a new session, under a new id.
    new_session_cookie = after.cookie(SESSION_COOKIE)
    assert new_session_cookie is not None
    assert new_session_cookie["value"] != old_session_id


def test_without_remember_me_a_browser_restart_signs_out(open_device, registered_user):
    before = open_device()
    before.sign_in(registered_user)
    assert before.cookie(REMEMBER_COOKIE) is None
    state = without_session_cookie(before.context.storage_state())
    before.context.close()

    after = open_device(storage_state=state)
    after.page.goto("/dashboard")
    after.expect_sign_in_page()
    expect(after.page.get_by_role("heading", name=f"Hello, {registered_user.name}")).to_have_count(0)
