"""Every page passes axe-core and fits a phone's width, in English and German.

axe-core (pinned below) is installed once with npm into a cache folder outside the
repository and injected into each page. The site's CSP forbids injected scripts, so
these browser contexts are made with ``bypass_csp=True``; the other e2e tests keep
the CSP. Each page is checked at a desktop's viewport and at two phones' (390 and 320 px).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.main.views import TUTORIAL_DIR
from tests.support.tools import require

from .conftest import TIMEOUT_MS, Device

AXE_VERSION = "4.14.0"
CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
AXE_HOME = CACHE_HOME / "flask-secure-sessions" / f"axe-core-{AXE_VERSION}"
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
    "small phone": {"width": 320, "height": 640},
}
LOCALES = {"en": "en-US", "de": "de-DE"}
CHAPTERS = sorted(path.stem for path in TUTORIAL_DIR.glob("[0-9][0-9]-*.md"))
VISITOR_PAGES = [
    "/",
    "/auth/login",
    "/auth/register",
    "/auth/forgot",
    # A dead emailed link: the page that says so.
    "/auth/reset?token=no-such-token",
    "/privacy",
    "/no-such-page",
    "/tutorial/",
    "/tutorial/threat-model",
]
SIGNED_IN_PAGES = [
    "/dashboard",
    "/account/sessions",
    "/account/activity",
    "/account/email",
    "/account/second-factor",
    "/privacy",
    "/no-such-page",
    "/auth/reauth",
]


@pytest.fixture(scope="session")
def axe_script():
    """The path of axe.min.js at the pinned version, installed with npm unless cached."""
    script = AXE_HOME / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        require(shutil.which("npm"), "npm not found: apt-get install nodejs npm")
        AXE_HOME.mkdir(parents=True, exist_ok=True)
        # --ignore-scripts: axe-core needs no install script, and none should run here.
        installed = subprocess.run(
            ["npm", "install", "--prefix", str(AXE_HOME), "--ignore-scripts", "--no-audit", "--no-fund",
             "--save-exact", f"axe-core@{AXE_VERSION}"],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        require(installed.returncode == 0 and script.exists(), f"npm could not install axe-core:\n{installed.stderr}")
    version = json.loads((script.parent / "package.json").read_text())["version"]
    assert version == AXE_VERSION
    return script


class Audit:
    """Runs axe on pages and measures their width; collects every problem for one report."""

    def __init__(self, axe_script):
        self.axe_script = axe_script
        self.problems = []
        self.widest_on_phone = (0, "")

    def check(self, page, label):
        for viewport_name, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)
            if not page.evaluate("typeof window.axe !== 'undefined'"):
                page.add_script_tag(path=str(self.axe_script))
            violations = page.evaluate("async () => (await axe.run()).violations")
            for violation in violations:
                targets = [node["target"] for node in violation["nodes"]][:3]
                self.problems.append(f"{label} [{viewport_name}] {violation['id']}: {violation['help']} {targets}")
            scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            if scroll_width > inner_width:
                self.problems.append(f"{label} [{viewport_name}] scrolls sideways: {scroll_width}px > {inner_width}px")
            if viewport_name == "phone":
                self.widest_on_phone = max(self.widest_on_phone, (scroll_width, label))

    def visit(self, page, path, label):
        page.goto(path)
        self.check(page, f"{label} {path}")


@pytest.mark.parametrize("language", LOCALES)
def test_every_page_passes_axe_and_fits_a_phone(browser, site, axe_script, user, language):
    context = browser.new_context(base_url=site.url, locale=LOCALES[language], bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    audit = Audit(axe_script)
    try:
        for path in [*VISITOR_PAGES, *(f"/tutorial/{chapter}" for chapter in CHAPTERS)]:
            audit.visit(page, path, "visitor")

        page.goto("/auth/register")
        page.locator("#username").fill(user.name)
        page.locator("#password").fill(user.password)
        page.locator("#confirm").fill(user.password + " but different")
        page.locator("form[method=post] button[type=submit]").click()
        expect(page.locator(".error").first).to_be_visible()
        audit.check(page, "visitor: sign-up form with errors")

        page.locator("#password").fill(user.password)
        page.locator("#confirm").fill(user.password)
        page.locator("form[method=post] button[type=submit]").click()
        expect(page).to_have_url(f"{site.url}/dashboard")
        for path in SIGNED_IN_PAGES:
            audit.visit(page, path, "signed in")
        # Signing up counts as a fresh password check, so these open without re-authentication.
        for path in ("/account/password", "/account/delete"):
            audit.visit(page, path, "signed in")
        # Changes to the second factors need a confirmation made for them.
        page.goto("/auth/reauth?next=/account/second-factor/app")
        page.locator("#password").fill(user.password)
        page.locator("main form button[type=submit]").click()
        expect(page).to_have_url(f"{site.url}/account/second-factor/app")
        audit.check(page, "signed in: authenticator app set-up")
        page.goto("/account/password")
        page.locator("main form button[type=submit]").click()
        expect(page.locator(".error").first).to_be_visible()
        audit.check(page, "signed in: password form with errors")

        page.goto("/auth/reauth")
        for _attempt in range(10):
            page.locator("#password").fill("not the password")
            page.locator("main form button[type=submit]").click()
            page.wait_for_load_state()
            if page.locator("text=429").count():
                break
        audit.check(page, "signed in: reauth form with errors until 429")
        assert page.locator("text=429").count(), "no 429 page after ten wrong passwords"
    finally:
        context.close()
    print(f"widest page at 390 px ({language}): {audit.widest_on_phone}")
    assert not audit.problems, "\n".join(audit.problems)


def test_a_device_page_becomes_cards_on_a_phone(open_device, user):
    """Each sign-in is a card, every button on screen, the hidden "Action" header clipped."""
    phone: Device = open_device(viewport=VIEWPORTS["phone"])
    phone.register(user)
    open_device().sign_in(user)
    phone.page.goto("/account/sessions")
    rows = phone.page.locator("table.sessions tbody tr")
    expect(rows).to_have_count(2)
    assert phone.page.locator("table.sessions tbody").evaluate("tbody => getComputedStyle(tbody).display") == "block"
    for button in phone.page.locator("table.sessions button").all():
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS["phone"]["width"]
    # The column headers, "Action" among them, are clipped to one pixel along with their row.
    header = phone.page.locator("table.sessions thead").bounding_box()
    assert header["width"] <= 1 and header["height"] <= 1
    clip = phone.page.locator("table.sessions thead").evaluate("thead => getComputedStyle(thead).clipPath")
    assert clip == "inset(50%)"


def test_code_and_long_german_words_fit_the_narrowest_phone(open_device, user):
    """At 320 px: inline code wraps, a code block's first line is not indented, headings fit."""
    phone = open_device(viewport={"width": 320, "height": 640})
    phone.page.goto("/tutorial/01-secret-key")
    inline = phone.page.locator("p code").first.evaluate("code => getComputedStyle(code).overflowWrap")
    assert inline == "anywhere"
    block_padding = phone.page.locator("pre code").first.evaluate("code => getComputedStyle(code).paddingLeft")
    assert block_padding == "0px"
    phone.register(user)
    phone.page.goto("/language/de?next=/dashboard")
    expect(phone.page.locator("html")).to_have_attribute("lang", "de")
    for path in ("/dashboard", "/account/activity"):
        phone.page.goto(path)
        for heading in phone.page.locator("h1, h2").all():
            assert heading.evaluate("h => h.scrollWidth <= h.clientWidth"), heading.text_content()
    phone.page.goto("/account/sessions")
    assert phone.page.locator("time").first.evaluate("time => getComputedStyle(time).whiteSpace") == "nowrap"
