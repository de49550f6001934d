"""Scan the running app from the outside with wapiti, signed out and signed in.

Starts a throwaway redis-server and the app in its production configuration
(gunicorn, two workers, TLS from a throwaway CA that wapiti is told to trust) on
127.0.0.1 and creates a user. wapiti then crawls and attacks the site in three
passes (``SCAN_PASSES``): signed out, the sign-up form on its own, and signed in
through the login form, hidden CSRF token included. Sign-out, account deletion and
session revocation are never requested, so the scan stays signed in and keeps its
account. wapiti is installed once, pinned, into its own virtualenv in a cache
folder outside the repository: its dependencies never meet the app's.

Prints the findings of each pass per category and the URLs scanned. Exits 1 if
wapiti reported any vulnerability, 2 if the scan could not run or never got past
the login form, and stops everything it started, whatever happens.

    python scripts/wapiti_scan.py                     (or: make scan)
    python scripts/wapiti_scan.py --keep-files DIR    keep the reports and the logs

Needs redis-server (Debian: apt-get install redis-server) and Python 3.10 to 3.12
for wapiti (the project's own interpreter will do).
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a file, Python puts scripts/ on the path, not the project root.
sys.path.insert(0, str(ROOT))

from tests.support.processes import flask_command, free_port, start_production_site  # noqa: E402

SCANNER_PACKAGE = "wapiti3"
SCANNER_VERSION = "3.2.3"  # the newest release that still runs on Python 3.11
SCANNER_PYTHONS = ((3, 10), (3, 11), (3, 12))  # what wapiti3 3.2.3 declares
CACHE_HOME = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
SCANNER_VENV = CACHE_HOME / "flask-secure-sessions" / "wapiti-venv"

# The defaults ("common") plus the modules that fit a server-rendered app with forms.
# Left out, each for a reason seen on this app (docs/SCAN.md):
# - ssl: TLS here is gunicorn's with a throwaway certificate; production terminates
#   TLS in Caddy, so certificate findings would describe neither;
# - ldap: the app talks to no directory, and the module's page-difference test takes
#   the password form's validation messages ("too short", "characters not allowed")
#   for LDAP query results: a false positive on every run;
# - shellshock: a bash CGI bug; its payload replaces the Cookie header, and the fresh
#   anonymous session cookie in the answer signs the rest of the scan out.
MODULES = "common,-ssl,crlf,csrf,methods,timesql,xxe,backup,htaccess"
MAX_DEPTH = 10
MAX_CRAWL_SECONDS = 300  # --max-scan-time bounds the crawl only
MAX_SECONDS_PER_MODULE = 120  # --max-attack-time bounds each attack module
SCAN_TIMEOUT = 45 * 60  # a backstop for a scanner that hangs
REQUEST_TIMEOUT = 10

# High enough that no limit answers 429 during the scan: a rate-limited page would
# look like an empty one and hide its forms from the scanner.
SCAN_RATE_LIMITS = {
    "FLASK_LOGIN_RATE_LIMIT": "100000/minute",
    "FLASK_REGISTER_RATE_LIMIT": "100000/minute",
    "FLASK_REAUTH_RATE_LIMIT": "100000/minute",
    "FLASK_ACCOUNT_LOGIN_RATE_LIMIT": "100000/minute",
    "FLASK_REAUTH_ACCOUNT_RATE_LIMIT": "100000/minute",
    "FLASK_SUCCESSFUL_LOGIN_RATE_LIMIT": "100000/minute",
    "FLASK_ACCOUNT_SUCCESSFUL_LOGIN_RATE_LIMIT": "100000/minute",
}
# wapiti fills every field named "username" with "alice". With that name taken, a
# sign-up attempt succeeds only if a payload in the username field is a valid name.
SCAN_USERNAME = "alice"
# Requests that would end the scan's sign-in or delete its account.
EXCLUDED_PATHS = (
    "/auth/logout",
    "/account/delete",
    "/account/sessions/*/revoke",
    "/account/sessions/revoke-others",
)
# Pages only a signed-in user reaches: the proof that the form login worked.
SIGNED_IN_PAGES = ("/dashboard", "/account/sessions")


@dataclass(frozen=True)
class ScanPass:
    """One wapiti run: where it starts, what it leaves out, whether it signs in first."""

    name: str
    url_path: str = "/"
    scope: str = "folder"
    signed_in: bool = False
    start_paths: tuple = ()
    excluded_paths: tuple = ()
    skipped_parameters: tuple = ()


# A successful sign-up signs the scanner in with a new session and CSRF secret, and
# every form token it crawled before is dead from then on; signed in, the login and
# sign-up forms only redirect. So the sign-up form gets a pass of its own, where
# "username" is never attacked: a payload that happens to be a valid name would
# create that account. The signed-in pass starts at the re-authentication form too,
# which nothing links to while the sign-in is fresh.
SCAN_PASSES = (
    ScanPass("signed-out", excluded_paths=("/auth/register",)),
    ScanPass("sign-up", url_path="/auth/register", scope="page", skipped_parameters=("username",)),
    ScanPass("signed-in", signed_in=True, start_paths=("/auth/reauth",)),
)


class ScanFailed(Exception):
    """The scan could not be run, or produced no usable report."""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep-files", metavar="DIR", type=Path, help="write the reports and the logs to DIR and keep them"
    )
    args = parser.parse_args(argv)
    # A plain SIGTERM would skip the clean-up below and leave servers running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    started = time.monotonic()
    try:
        wapiti = install_scanner()
        with ExitStack() as running:
            if args.keep_files:
                directory = args.keep_files.resolve()
                directory.mkdir(parents=True, exist_ok=True)
            else:
                directory = Path(running.enter_context(tempfile.TemporaryDirectory(prefix="wapiti-")))
            site, ca_pem, password = start_site(running, directory)
            scanner = Scanner(wapiti, site.url, ca_pem, password, directory)
            reports = {scan_pass.name: scanner.run(scan_pass) for scan_pass in SCAN_PASSES}
    except (ScanFailed, RuntimeError, TimeoutError, subprocess.SubprocessError) as error:
        print(f"wapiti_scan: {error}", file=sys.stderr)
        return 2
    signed_in = next(reports[scan_pass.name] for scan_pass in SCAN_PASSES if scan_pass.signed_in)
    print_header(signed_in, site.url, time.monotonic() - started)
    for name, report in reports.items():
        print_findings(name, report)
    if not reached_signed_in_pages(signed_in, site.url):
        print("\nThe signed-in pass never reached the signed-in pages: the form login failed.", file=sys.stderr)
        return 2
    found = any(items for report in reports.values() for items in report["vulnerabilities"].values())
    return 1 if found else 0


def install_scanner():
    """Install the pinned wapiti into its own virtualenv unless it is there; return its CLI."""
    python = SCANNER_VENV / "bin" / "python"
    if installed_version(python) != SCANNER_VERSION:
        print(f"Installing {SCANNER_PACKAGE}=={SCANNER_VERSION} into {SCANNER_VENV}", file=sys.stderr)
        if not python.exists():
            subprocess.run([scanner_interpreter(), "-m", "venv", str(SCANNER_VENV)], check=True, timeout=300)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                f"{SCANNER_PACKAGE}=={SCANNER_VERSION}",
            ],
            stdout=sys.stderr,
            check=True,
            timeout=1200,
        )
    return SCANNER_VENV / "bin" / "wapiti"


def installed_version(python):
    if not python.exists():
        return None
    completed = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({SCANNER_PACKAGE!r}))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return completed.stdout.strip() or None


def scanner_interpreter():
    """This Python if wapiti supports it, else a supported one found on PATH."""
    if sys.version_info[:2] in SCANNER_PYTHONS:
        return sys.executable
    for major, minor in reversed(SCANNER_PYTHONS):
        found = shutil.which(f"python{major}.{minor}")
        if found:
            return found
    supported = ", ".join(f"{major}.{minor}" for major, minor in SCANNER_PYTHONS)
    raise ScanFailed(f"{SCANNER_PACKAGE} {SCANNER_VERSION} needs Python {supported}; none was found")


def start_site(running, directory):
    """Start Redis and the app as production runs them, with one user; ``running`` stops both."""
    site = start_production_site(running, directory, SCAN_RATE_LIMITS, workers=2)
    password = secrets.token_urlsafe(24)
    flask_command(site.app.env, ["create-user", SCAN_USERNAME], stdin=f"{password}\n{password}\n")
    return site, site.ca_pem, password


class Scanner:
    """Runs wapiti against the site, once per pass, each pass with its own report and log."""

    def __init__(self, wapiti, url, ca_pem, password, directory):
        self.wapiti = wapiti
        self.url = url
        self.ca_pem = ca_pem
        self.password = password
        self.directory = directory
        # Out-of-band checks (ssrf, xxe, exec) call back to wapiti's public server by
        # default; a closed local port keeps the scan on this machine.
        self.no_endpoint = f"http://127.0.0.1:{free_port()}/"

    def run(self, scan_pass):
        """Crawl and attack the site as ``scan_pass`` says; return wapiti's JSON report."""
        name, url = scan_pass.name, self.url
        report_path = self.directory / f"wapiti-{name}.json"
        log_path = self.directory / f"wapiti-{name}.log"
        command = [
            str(self.wapiti),
            "--url",
            url + scan_pass.url_path,
            "--scope",
            scan_pass.scope,
            *[arg for path in scan_pass.start_paths for arg in ("--start", url + path)],
            *[arg for path in EXCLUDED_PATHS + scan_pass.excluded_paths for arg in ("--exclude", url + path)],
            *[arg for parameter in scan_pass.skipped_parameters for arg in ("--skip", parameter)],
            "--module",
            MODULES,
            "--depth",
            str(MAX_DEPTH),
            # One page at a time: concurrent first requests would each get a session of
            # their own, and the CSRF tokens of all but one would never match again.
            "--tasks",
            "1",
            "--max-scan-time",
            str(MAX_CRAWL_SECONDS),
            "--max-attack-time",
            str(MAX_SECONDS_PER_MODULE),
            "--timeout",
            str(REQUEST_TIMEOUT),
            "--endpoint",
            self.no_endpoint,
            "--verify-ssl",
            "1",
            "--store-session",
            str(self.directory / f"wapiti-{name}-session"),
            "--store-config",
            str(self.directory / "wapiti-config"),
            "--format",
            "json",
            "--output",
            str(report_path),
            "--detailed-report",
            "1",
            "--no-bugreport",
            "--verbose",
            "1",
        ]
        if scan_pass.signed_in:
            # wapiti reads the form, hidden csrf_token included, and fills in the two fields.
            command += [
                "--form-url",
                f"{url}/auth/login",
                "--form-user",
                SCAN_USERNAME,
                "--form-password",
                self.password,
            ]
        # httpx, under wapiti, trusts the CA bundle named by SSL_CERT_FILE.
        env = {**os.environ, "SSL_CERT_FILE": str(self.ca_pem), "HOME": str(self.directory)}
        print(
            f"Scanning {url}{scan_pass.url_path} ({name}) with wapiti {SCANNER_VERSION}, log: {log_path}",
            file=sys.stderr,
        )
        with open(log_path, "w") as log:
            completed = subprocess.run(
                command,
                env=env,
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=SCAN_TIMEOUT,
                check=False,
            )
        if completed.returncode != 0 or not report_path.exists():
            log_tail = log_path.read_text(errors="replace")[-3000:]
            raise ScanFailed(f"wapiti ({name}) exited with {completed.returncode}:\n{log_tail}")
        return json.loads(report_path.read_text())


def print_header(signed_in, url, seconds):
    auth = signed_in["infos"].get("auth") or {}
    reached = {path: crawled_status(signed_in, url + path) for path in SIGNED_IN_PAGES}
    print(
        f"{signed_in['infos']['version']} on {url}/, "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {seconds / 60:.1f} minutes in all"
    )
    print(f"Modules: {MODULES}")
    print(f"Rate limits raised to 100000/minute for the scan: {', '.join(SCAN_RATE_LIMITS)}")
    print(f"Never requested: {', '.join(EXCLUDED_PATHS)}")
    print(
        f"Form login: {'succeeded' if auth.get('logged_in') else 'FAILED'}; "
        + ", ".join(f"{path}: {status or 'not crawled'}" for path, status in reached.items())
    )


def print_findings(name, report):
    print(f"\n== {name} pass: {report['infos']['crawled_pages_nbr']} URLs and forms scanned")
    for section in ("vulnerabilities", "anomalies", "additionals"):
        found = {category: items for category, items in report[section].items() if items}
        print(f"{section.capitalize()}: {sum(len(items) for items in found.values())}")
        for category, items in sorted(found.items()):
            print(f"  {len(items):3d}  {category}")
            # "Additionals" are facts (e.g. the methods a page allows), not problems.
            for item in items if section != "additionals" else ():
                parameter = f" [{item['parameter']}]" if item["parameter"] else ""
                print(f"         {item['method']} {item['path']}{parameter}: {item['info']}")


def reached_signed_in_pages(report, url):
    return all(crawled_status(report, url + path) == 200 for path in SIGNED_IN_PAGES)


def crawled_status(report, page_url):
    for page in report["infos"].get("crawled_pages") or []:
        request = page["request"]
        if request["url"] == page_url and request["method"] == "GET":
            return request["status_code"]
    return None


if __name__ == "__main__":
    sys.exit(main())
