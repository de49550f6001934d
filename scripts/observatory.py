"""Grade the app's HTTP security headers with the MDN HTTP Observatory, on this machine.

Starts a throwaway redis-server and the app in its production configuration
(gunicorn, TLS from a throwaway CA) on 127.0.0.1, installs the scanner once into
a cache folder outside the repository, scans ``https://127.0.0.1:PORT/`` and
prints the grade, the score and every test. It exits non-zero unless the grade
is A+ and every test passed, and it stops everything it started, whatever happens.

    python scripts/observatory.py      (or: make observatory)

Needs node and npm (Debian: apt-get install nodejs npm) and redis-server.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a file, Python puts scripts/ on the path, not the project root.
sys.path.insert(0, str(ROOT))

from tests.support.processes import start_production_site  # noqa: E402

SCANNER_PACKAGE = "@mdn/mdn-http-observatory"
SCANNER_VERSION = "1.4.8"
CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
SCANNER_HOME = CACHE_HOME / "flask-secure-sessions" / "observatory"
SCAN_TIMEOUT = 120
PASSING_GRADE = "A+"

# The response headers each test grades, shown when a test fails or costs points.
GRADED_HEADERS = {
    "content-security-policy": ("content-security-policy",),
    "cookies": ("set-cookie",),
    "cross-origin-resource-sharing": ("access-control-allow-origin", "access-control-allow-credentials"),
    "redirection": ("location",),
    "referrer-policy": ("referrer-policy",),
    "strict-transport-security": ("strict-transport-security",),
    "subresource-integrity": ("content-type",),
    "x-content-type-options": ("x-content-type-options",),
    "x-frame-options": ("x-frame-options", "content-security-policy"),
    "cross-origin-resource-policy": ("cross-origin-resource-policy",),
}


class ScanFailed(Exception):
    """The scan could not be run, or produced no report."""


def main():
    # A plain SIGTERM would skip the clean-up below and leave servers running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        scanner = install_scanner()
        with ExitStack() as running:
            directory = Path(running.enter_context(tempfile.TemporaryDirectory(prefix="observatory-")))
            site = start_production_site(running, directory)
            report = scan(scanner, site.url.removeprefix("https://"), site.ca_pem)
    except (ScanFailed, RuntimeError, TimeoutError, subprocess.SubprocessError) as error:
        print(f"observatory: {error}", file=sys.stderr)
        return 2
    print_report(report, site.url)
    summary = report["scan"]
    return 0 if summary["grade"] == PASSING_GRADE and summary["testsFailed"] == 0 else 1


def install_scanner():
    """Install the pinned scanner into the cache folder unless it is there; return its CLI."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise ScanFailed(f"{tool} not found: apt-get install nodejs npm")
    package = SCANNER_HOME / "node_modules" / SCANNER_PACKAGE
    if installed_version(package) != SCANNER_VERSION:
        SCANNER_HOME.mkdir(parents=True, exist_ok=True)
        print(f"Installing {SCANNER_PACKAGE}@{SCANNER_VERSION} into {SCANNER_HOME}", file=sys.stderr)
        # --ignore-scripts: its postinstall downloads Chromium's HSTS preload list and
        # IANA's TLD list, and no third-party install script needs to run here.
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(SCANNER_HOME),
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                "--save-exact",
                f"{SCANNER_PACKAGE}@{SCANNER_VERSION}",
            ],
            stdout=sys.stderr,
            check=True,
            timeout=600,
        )
    # Stand-ins for the two downloaded lists: no loopback address is preloaded,
    # and only the scanner's web API reads the TLD list.
    for name, empty in (("hsts-preload.json", {}), ("tld-list.json", [])):
        path = package / "conf" / name
        if not path.exists():
            path.write_text(json.dumps(empty))
    # Not bin/wrapper.js: it replaces NODE_EXTRA_CA_CERTS, so our CA would not be trusted.
    return package / "src" / "scan.js"


def installed_version(package):
    try:
        return json.loads((package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def scan(scanner, target, ca_pem):
    """Run the scanner's CLI on ``target`` (host:port) and return its JSON report."""
    completed = subprocess.run(
        ["node", str(scanner), target],
        env={**os.environ, "NODE_EXTRA_CA_CERTS": str(ca_pem)},
        capture_output=True,
        text=True,
        timeout=SCAN_TIMEOUT,
        check=False,
    )
    try:
        report = json.loads(completed.stdout)
    except ValueError:
        raise ScanFailed(f"the scanner printed no report:\n{completed.stdout}{completed.stderr}") from None
    if "error" in report:
        raise ScanFailed(f"the scanner failed: {report['error']}")
    return report


def print_report(report, url):
    summary, headers = report["scan"], report["scan"]["responseHeaders"]
    print(f"MDN HTTP Observatory {SCANNER_VERSION} on {url}/")
    print(
        f"Grade: {summary['grade']}  Score: {summary['score']}  "
        f"Tests passed: {summary['testsPassed']}/{summary['testsQuantity']}"
    )
    for name, test in report["tests"].items():
        modifier = test.get("scoreModifier", 0)
        print(f"  {'pass' if test['pass'] else 'FAIL'}  {name:<30} {modifier:+4d}  {test['result']}")
        if not test["pass"] or modifier < 0:
            for header in GRADED_HEADERS.get(name, ()):
                print(f"          {header}: {headers.get(header, '(not sent)')}")


if __name__ == "__main__":
    sys.exit(main())
