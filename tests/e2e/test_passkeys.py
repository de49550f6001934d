"""Passkeys in a real Chromium, with its virtual authenticator (the DevTools WebAuthn domain).

A relying-party id must be a host name, not an address, so this module runs a second
copy of the production app at https://localhost:PORT with ``PUBLIC_BASE_URL`` set to
that origin (the certificate covers localhost, so Chromium trusts it as it trusts the
shared site). The virtual authenticator stands in for a phone or a security key: it
keeps discoverable credentials and verifies its user (as a PIN or a fingerprint would).
"""

import secrets
from contextlib import ExitStack

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TIMEOUT_MS, Device, User
from tests.support.processes import AppServer, RedisServer, flask_command, free_port


@pytest.fixture(scope="module")
def localhost_origin(site, tmp_path_factory):
    """The production app at https://localhost:PORT, its relying party named by PUBLIC_BASE_URL."""
    directory = tmp_path_factory.mktemp("passkeys")
    ca_pem, cert_pem, key_pem = site.tls
    port = free_port()
    origin = f"https://localhost:{port}"
    with ExitStack() as running:
        redis_server = RedisServer(directory / "redis").start()
        running.callback(redis_server.stop)
        env = {
            "APP_ENV": "production",
            "FLASK_SECRET_KEY": secrets.token_urlsafe(48),
            "REDIS_URL": redis_server.url,
            "DATABASE_URL": f"sqlite:///{directory / 'app.db'}",
            "FLASK_PUBLIC_BASE_URL": origin,
        }
        server = AppServer(directory / "app", env, port=port, certfile=cert_pem, keyfile=key_pem, workers=1)
        flask_command(env, ["db", "upgrade"])
        running.callback(server.stop)
        server.start(verify=str(ca_pem))
        yield origin


@pytest.fixture
def device_with_authenticator(browser, localhost_origin):
    """A fresh browser profile on the localhost site, with a virtual platform authenticator."""
    context = browser.new_context(base_url=localhost_origin, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    device = Device(context, localhost_origin)
    devtools = context.new_cdp_session(device.page)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    yield device
    context.close()


def test_a_passkey_is_registered_signs_in_confirms_and_is_removed(device_with_authenticator):
    device = device_with_authenticator
    page = device.page
    user = User(name=f"e2e-{secrets.token_hex(6)}", password=f"amber {secrets.token_hex(8)} lantern")
    device.register(user)

    # Register: confirmed for the change (the sign-up's own freshness does not count),
    # named, made by the authenticator, and the first factor brings recovery codes.
    page.goto("/auth/reauth?next=/account/second-factor")
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Confirm", exact=True).first.click()
    page.get_by_label("Name of the new passkey").fill("Virtual key")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("ol.recovery-codes li")).to_have_count(10)
    page.goto("/account/second-factor")
    expect(page.get_by_text("Virtual key")).to_be_visible()

    # Sign in with the passkey alone: no username typed.
    device.sign_out()
    page.goto("/auth/login")
    page.get_by_role("button", name="Sign in with a passkey").click()
    device.expect_dashboard_of(user)
    page.goto("/account/sessions")
    expect(page.locator("table.sessions tbody tr.current")).to_contain_text("Second factor: Passkey")

    # The password now only starts the half-signed-in state; the passkey finishes it.
    device.sign_out()
    page.goto("/auth/login")
    page.get_by_label("Username").fill(user.name)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{device.origin}/auth/second-factor")
    page.get_by_role("button", name="Use a passkey").click()
    device.expect_dashboard_of(user)

    # Re-authentication with the passkey.
    page.goto("/auth/reauth?next=/account/second-factor")
    page.get_by_role("button", name="Confirm with a passkey").click()
    expect(page).to_have_url(f"{device.origin}/account/second-factor")

    # Remove it: the password alone signs in again.
    page.get_by_role("button", name="Remove the passkey Virtual key").click()
    expect(page.get_by_role("status")).to_contain_text("Removed.")
    expect(page.get_by_text("Virtual key")).to_have_count(0)
    device.sign_out()
    page.goto("/auth/login")
    page.get_by_label("Username").fill(user.name)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    device.expect_dashboard_of(user)


def test_adding_a_passkey_in_a_restored_session_asks_for_the_password_first(device_with_authenticator):
    # A sign-in restored from "keep me signed in" never typed its password here; the
    # passkey dialog's options are refused, and the page goes to confirm it instead.
    device = device_with_authenticator
    page = device.page
    user = User(name=f"e2e-{secrets.token_hex(6)}", password=f"amber {secrets.token_hex(8)} lantern")
    device.register(user)
    device.sign_out()
    device.sign_in(user, remember=True)
    device.context.clear_cookies(name="__Host-session")
    page.goto("/account/second-factor")
    page.get_by_label("Name of the new passkey").fill("Later key")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page).to_have_url(f"{device.origin}/auth/reauth?next=/account/second-factor")
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Confirm", exact=True).first.click()
    expect(page).to_have_url(f"{device.origin}/account/second-factor")
    page.get_by_label("Name of the new passkey").fill("Later key")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
