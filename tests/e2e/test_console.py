"""Every page loads without a console error, a script error or a CSP violation.

A Content-Security-Policy that blocks one of the site's own styles or scripts
breaks the page quietly: the browser only says so in the console. So does a
missing file or a script that throws.
"""

import pytest

PUBLIC_PAGES = ["/", "/auth/register", "/auth/login"]
SIGNED_IN_PAGES = ["/", "/dashboard", "/account/sessions", "/account/password", "/account/activity"]
PROBE = "e2e console probe"

# Records CSP violations in each document, whether or not the browser also logs them.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`);
});
"""


class ConsoleWatch:
    """Collects console errors, uncaught script errors and CSP violations of a tab."""

    def __init__(self, page):
        self.page = page
        self.problems = []
        page.on("console", self.on_console)
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: uncaught {error}"))

    def on_console(self, message):
        if message.type == "error":
            location = message.location.get("url") or self.page.url
            self.problems.append(f"{self.page.url}: console error {message.text!r} (from {location})")

    def visit(self, path):
        response = self.page.goto(path, wait_until="networkidle")
        assert response.ok, f"{path} answered {response.status}"
        for violation in self.page.evaluate("window.__cspViolations"):
            self.problems.append(f"{self.page.url}: CSP violation: {violation}")


@pytest.fixture
def browser(launch_browser):
    """A browser of its own: it asks for some files (the favicon) only on its first page."""
    chromium = launch_browser()
    yield chromium
    chromium.close()


@pytest.fixture
def watched(device):
    device.context.add_init_script(RECORD_CSP_VIOLATIONS)
    return ConsoleWatch(device.page)


def test_the_watch_hears_console_errors(watched):
    watched.visit("/")
    with watched.page.expect_console_message(lambda message: PROBE in message.text):
        watched.page.evaluate("(probe) => console.error(probe)", PROBE)
    assert any(PROBE in problem for problem in watched.problems)


def test_the_browser_refuses_inline_script_and_the_watch_sees_it(watched):
    """Threat: markup that slipped past escaping runs as script (stored or reflected XSS)."""
    watched.visit("/")
    blocked_by = watched.page.evaluate(
        """() => new Promise((resolve) => {
          document.addEventListener("securitypolicyviolation", (event) => resolve(event.violatedDirective));
          setTimeout(() => resolve(null), 2000);
          const script = document.createElement("script");
          script.textContent = "window.injectedScriptRan = true";
          document.body.append(script);
        })"""
    )
    assert watched.page.evaluate("window.injectedScriptRan") is None
    assert blocked_by is not None and blocked_by.startswith("script-src")
    assert any(violation.startswith("script-src") for violation in watched.page.evaluate("window.__cspViolations"))


def test_no_console_error_or_csp_violation_on_any_page(device, user, watched):
    for path in PUBLIC_PAGES:
        watched.visit(path)
    device.register(user)
    for path in SIGNED_IN_PAGES:
        watched.visit(path)
    device.sign_out()
    assert watched.problems == []
