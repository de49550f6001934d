"""Screenshots of the main pages for the README, taken by headless Chromium.

    make screenshots      (writes docs/screenshots/*.png)

Starts the app in the development config (embedded store, no services) under
gunicorn on a free loopback port, signs up a demo user through the real forms,
adds a second "device", and photographs each page at a laptop-sized viewport.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.support.processes import AppServer, app_environment  # noqa: E402

OUTPUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
PASSWORD = "a demo passphrase for screenshots"


def sign_up(page, base, username):
    page.goto(f"{base}/auth/register")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("button[type=submit]")


def sign_in(page, base, username):
    page.goto(f"{base}/auth/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.check("#remember")
    page.click("main button[type=submit]")


def main():
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir:
        env = {
            "APP_ENV": "development",
            "FLASK_SECRET_KEY": "screenshots-" + "k" * 40 + "0123456789abcdef",
            "DATABASE_URL": f"sqlite:///{workdir}/demo.db",
        }
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            check=True,
            env=app_environment(env),
            capture_output=True,
        )
        server = AppServer(Path(workdir) / "app", env).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                laptop = browser.new_context(
                    viewport={"width": 1100, "height": 760},
                    user_agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
                    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                )
                phone = browser.new_context(
                    viewport={"width": 390, "height": 780},
                    user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
                    "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
                    "Mobile/15E148 Safari/604.1",
                )
                page = laptop.new_page()
                page.goto(server.url + "/")
                page.screenshot(path=OUTPUT / "landing.png", full_page=True)
                page.goto(server.url + "/auth/login")
                page.screenshot(path=OUTPUT / "sign-in.png", full_page=True)
                sign_up(page, server.url, "ada")
                phone_page = phone.new_page()
                sign_in(phone_page, server.url, "ada")
                phone_page.screenshot(path=OUTPUT / "dashboard-phone.png", full_page=True)
                # The pages with tables, which become cards on a phone.
                for path, name in (
                    ("/account/sessions", "sessions"),
                    ("/privacy", "privacy"),
                    ("/account/activity", "activity"),
                ):
                    phone_page.goto(server.url + path)
                    phone_page.screenshot(path=OUTPUT / f"{name}-phone.png", full_page=True)
                page.goto(server.url + "/dashboard")
                page.screenshot(path=OUTPUT / "dashboard.png", full_page=True)
                page.goto(server.url + "/account/sessions")
                page.screenshot(path=OUTPUT / "sessions.png", full_page=True)
                page.goto(server.url + "/privacy")
                page.screenshot(path=OUTPUT / "privacy.png", full_page=True)
                page.goto(server.url + "/language/de?next=/dashboard")
                page.screenshot(path=OUTPUT / "dashboard-de.png", full_page=True)
                browser.close()
        finally:
            server.stop()
    for image in sorted(OUTPUT.glob("*.png")):
        print(image.relative_to(ROOT))


if __name__ == "__main__":
    main()
