"""Two browsers as two devices: one sees the other on the sessions page and ends it."""

from playwright.sync_api import expect


def test_ending_another_devices_session_signs_it_out(open_device, registered_user):
    """Threat: a session left open on a lost phone or a shared computer."""
    laptop, phone = open_device(), open_device()
    laptop.sign_in(registered_user)
    phone.sign_in(registered_user)

    laptop.page.goto("/account/sessions")
    rows = laptop.page.locator("table.sessions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="This device")).to_have_count(1)
    other_device = rows.filter(has_not_text="This device")
    other_device.get_by_role("button", name="End session").click()

    expect(laptop.page).to_have_url(f"{laptop.origin}/account/sessions")
    expect(laptop.page.get_by_role("status")).to_contain_text("Signed out")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("This device")

    phone.page.goto("/dashboard")
    phone.expect_sign_in_page()
    assert registered_user.name not in phone.page.content()

    laptop.page.goto("/dashboard")
    laptop.expect_dashboard_of(registered_user)
