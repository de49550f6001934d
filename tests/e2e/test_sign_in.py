"""Signing up, in and out in a real browser, and what the back button shows afterwards."""

import secrets

from playwright.sync_api import expect


def test_sign_up_sign_out_sign_in_and_out_again_through_the_forms(device, user):
    page = device.page
    navigation = page.get_by_role("navigation", name="Main")
    page.goto("/")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.get_by_label("Username").type(user.name)
    page.get_by_label("Password", exact=True).type(user.password)
    page.get_by_label("Repeat the password").type(user.password)
    page.get_by_role("button", name="Create account").click()
    device.expect_dashboard_of(user)
    expect(page.get_by_text("Welcome! Your account is ready.")).to_be_visible()
    expect(navigation).to_contain_text(f"Signed in as {user.name}")

    navigation.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{device.origin}/?signed_out=1")
    expect(page.get_by_role("status")).to_have_text("You are signed out. Your session has been deleted on the server.")
    expect(navigation).not_to_contain_text(user.name)

    navigation.get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").type(user.name)
    page.get_by_label("Password").type(user.password)
    page.get_by_role("button", name="Sign in").click()
    device.expect_dashboard_of(user)

    navigation.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{device.origin}/?signed_out=1")
    page.goto("/dashboard")
    device.expect_sign_in_page()


def go_back(page):
    """Press Back and wait until the page shown is complete, wherever it came from."""
    leaving = page.url
    # A page restored from the back/forward cache fires no new "load" event.
    page.go_back(wait_until="commit")
    expect(page).not_to_have_url(leaving)
    page.wait_for_function("document.readyState === 'complete'")


def test_back_button_after_sign_out_shows_no_private_page(device, registered_user):
    """Threat: the next person at a shared computer presses Back after the owner signed out."""
    page = device.page
    device.sign_in(registered_user)
    page.goto("/account/sessions")
    page.goto("/dashboard")
    device.expect_dashboard_of(registered_user)
    device.sign_out()

    go_back(page)
    assert page.get_by_role("heading", name=f"Hello, {registered_user.name}").count() == 0
    assert registered_user.name not in page.content()
    go_back(page)
    assert registered_user.name not in page.content()

    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert registered_user.name not in page.content()


def test_a_sign_out_form_left_open_past_the_idle_timeout_still_signs_out(device, registered_user, site):
    """The shared computer: the page sat open until the session ended; remember-me is on.

    The form's CSRF token died with the session, so the browser's own word that the form
    is this site's (Sec-Fetch-Site, which Chromium sends and pages cannot set) is what
    lets the sign-out through.
    """
    device.sign_in(registered_user, remember=True)
    # The store no longer knows the session: the browser's id now names nothing.
    device.context.add_cookies(
        [
            {
                "name": "__Host-session",
                "value": secrets.token_urlsafe(32),
                "url": site.url,
                "secure": True,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )

    device.sign_out()

    assert device.cookie("__Host-remember") is None
    device.page.goto("/dashboard")
    device.expect_sign_in_page()
