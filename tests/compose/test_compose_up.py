"""`docker compose up`, proven: the unmodified docker-compose.yml run by a real engine.

One walk through the README's Docker section, in order, as one user: the site comes up
healthy behind Caddy; sign-up and sign-in work over https://localhost with Caddy's
local CA trusted; both web replicas serve the signed-in user; the user stays signed in
while one replica is stopped, across `docker compose restart web`, across `down` and
`up` (the secrets are made once and reused) and across a key rotation done the README's
way; `down --volumes` leaves nothing. Requests go only to the published ports on
localhost. The images are local stand-ins (stand-ins/README.md), so this proves the
compose file, the Dockerfile, the Caddyfile and deploy/make-secrets.sh, not the
official images themselves.
"""

import re
import secrets
import shlex
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.compose.engine import CommandFailed, timed
from tests.compose.stand_ins import ROOT
from tests.integration.conftest import (
    PASSWORD,
    Browser,
    csrf_token_from,
    is_signed_in,
    sent_to_sign_in,
    unique_username,
)
from tests.support.processes import wait_until

README = (ROOT / "README.md").read_text()
# The README's own commands, run as written (each is checked to be in the README).
TRUST_CADDY = "docker compose exec -T proxy cat /data/caddy/pki/authorities/local/root.crt"
OLD_DATABASE_PASSWORD = (
    "docker compose exec db sh -c 'echo \"ALTER ROLE app PASSWORD '\"'\"'$(cat /run/app-secrets/postgres_password)'"
    "\"'\"'\" | psql -U app -d app'"
)
ROTATE_KEY = "docker compose run --rm make-secrets sh /make-secrets.sh /run/app-secrets rotate-key"
DROP_OLD_KEYS = "docker compose run --rm make-secrets sh /make-secrets.sh /run/app-secrets drop-old-keys"
RESTART_WEB = "docker compose restart web"
SECRET_FILES = ("secret_key", "previous_secret_keys", "redis_password", "postgres_password")
# The mail catcher's web inbox, published on this machine only.
INBOX = "http://127.0.0.1:8025"
# Time for replicas to pass their health check after a (re)start.
HEALTHY_TIMEOUT = 120


class Site:
    """https://localhost as compose publishes it; ``url`` is what Browser requests go to."""

    url = "https://localhost"

    def __init__(self, project, ca):
        self.project = project
        self.ca = ca

    def wait_until_serving(self):
        """Caddy has no health check, so `up --wait` can return before it listens."""
        wait_until(
            lambda: requests.get(self.url + "/healthz", verify=str(self.ca), timeout=5).status_code == 200,
            timeout=60,
            what="https://localhost/healthz",
        )


def readme_command(project, command, **options):
    """Run a `docker compose ...` command exactly as the README writes it."""
    assert command in README, f"the README no longer says: {command}"
    program, *args = shlex.split(command)
    assert program == "docker"
    return project.docker.run(*args, **options)


def containers(project, service=None):
    """{"web-1": (state, health, exit code), ...} for the project, or for one service."""
    listing = project.compose(
        "ps", "--all", "--format", "{{.Name}}\t{{.State}}\t{{.Health}}\t{{.ExitCode}}", *([service] if service else [])
    )
    rows = [line.split("\t") for line in listing.splitlines() if line]
    return {name.removeprefix(f"{project.name}-"): (state, health, int(code)) for name, state, health, code in rows}


def wait_until_healthy(project, service):
    def healthy():
        states = containers(project, service).values()
        return bool(states) and all(state == "running" and health == "healthy" for state, health, _ in states)

    wait_until(healthy, timeout=HEALTHY_TIMEOUT, what=f"every {service} container healthy")


def in_the_secrets_volume(project, command):
    """Run ``command`` in the app-secrets volume, in a one-off make-secrets container."""
    return project.compose("run", "--rm", "--no-deps", "make-secrets", "sh", "-c", f"cd /run/app-secrets && {command}")


def secrets_fingerprint(project):
    """SHA-256 of each file in the app-secrets volume: compared, never printed."""
    listing = in_the_secrets_volume(project, f"sha256sum {' '.join(SECRET_FILES)}")
    return {name: digest for digest, name in (line.split() for line in listing.splitlines() if line)}


def dashboard_answered_by(site, browser):
    """GET /dashboard; returns the response and the web replica that answered it.

    The request carries a User-Agent of its own, and the replica is the one whose
    gunicorn access log (`docker logs`) shows it: no test hook in the app.
    """
    marker = f"compose-test/{secrets.token_hex(8)}"
    browser.http.headers["User-Agent"] = marker
    response = browser.get(site, "/dashboard")
    replicas = []

    def logged():
        replicas[:] = [
            name
            for name in containers(site.project, "web")
            if marker in site.project.docker.run("logs", site.project.container(name))
        ]
        return replicas

    wait_until(logged, timeout=10, what="the request in a replica's access log")
    assert len(replicas) == 1, replicas
    return response, replicas[0]


@pytest.fixture(scope="module")
def site(project, tmp_path_factory):
    """The project up as `docker compose up` brings it up, its CA trusted by the test."""
    with timed("first docker compose up --wait (builds the app's image)"):
        project.compose("up", "--detach", "--wait")
    ca = tmp_path_factory.mktemp("caddy") / "root.crt"

    def fetch_ca():
        # Caddy writes its root certificate when it first starts, just after --wait returns.
        ca.write_text(readme_command(project, TRUST_CADDY, check=False))
        return "BEGIN CERTIFICATE" in ca.read_text()

    wait_until(fetch_ca, timeout=60, what="Caddy's root certificate")
    site = Site(project, ca)
    site.wait_until_serving()
    return site


@pytest.fixture(scope="module")
def user(site):
    """One browser for the whole walk, and the account it signs up."""
    browser = Browser(site.ca)
    yield browser, unique_username("compose")
    browser.http.close()


def test_up_runs_every_service_and_makes_the_secrets(site):
    states = containers(site.project)
    assert states.pop("make-secrets-1") == ("exited", "", 0)
    assert states.pop("migrate-1") == ("exited", "", 0)
    assert states.pop("proxy-1")[0] == "running"
    assert states.pop("mail-1")[0] == "running"  # no health check, like the proxy
    assert set(states) == {"web-1", "web-2", "redis-1", "redis-limits-1", "db-1"}
    assert all(state == ("running", "healthy", 0) for state in states.values()), states
    made = site.project.compose("logs", "--no-log-prefix", "make-secrets").split("\n")
    assert [line for line in made if line] == ["made secret_key", "made redis_password", "made postgres_password"]


def test_no_secret_shows_in_docker_inspect(site):
    """README: no secret is in the compose file, in a variable or in `docker inspect`."""
    values = in_the_secrets_volume(site.project, "for name in *; do cat $name; echo; done").split()
    assert len(values) == 3  # the key and two passwords; no previous keys yet
    every_container = site.project.compose("ps", "--all", "--quiet").split()
    inspected = site.project.docker.run("inspect", *every_container)
    # any() over a generator: a failure must not print the secrets.
    assert not any(value in inspected for value in values)


def test_https_with_the_production_config_and_http_redirects(site):
    answer = requests.get(site.url + "/healthz", verify=str(site.ca), timeout=10)
    assert answer.json() == {"status": "ok", "redis": "ok", "rate_limits": "ok", "database": "ok", "mail": "ok"}
    # The compose file's own setting reached the app.
    assert answer.headers["Strict-Transport-Security"] == "max-age=300"
    plain = requests.get("http://localhost/", allow_redirects=False, timeout=10)
    assert plain.status_code in (301, 308)
    assert plain.headers["Location"] == "https://localhost/"


def test_sign_up_then_sign_in(site, user):
    browser, username = user
    browser.register(site, username)
    session_cookie = next(cookie for cookie in browser.http.cookies if cookie.name == "__Host-session")
    assert session_cookie.secure
    assert is_signed_in(browser.get(site, "/dashboard"))
    browser.logout(site)
    assert sent_to_sign_in(browser.get(site, "/dashboard"))
    browser.login(site, username)
    dashboard = browser.get(site, "/dashboard")
    assert is_signed_in(dashboard)
    assert username in dashboard.text


def test_a_confirmation_email_reaches_the_local_inbox_and_its_link_works(site):
    """Sign-up with an address: the app sends through the mail service, the inbox shows it."""
    browser, address = Browser(site.ca), f"{unique_username('mail')}@example.org"
    response = browser.submit(
        site,
        "/auth/register",
        {"username": unique_username("mail"), "password": PASSWORD, "confirm": PASSWORD, "email": address},
    )
    assert response.status_code == 303

    def message_to_the_address():
        listed = requests.get(INBOX + "/api/v1/messages", timeout=10).json()["messages"]
        return next((entry for entry in listed if address in [to["Address"] for to in entry["To"]]), None)

    # Sent off the request path: it arrives a moment after the answer.
    wait_until(lambda: message_to_the_address() is not None, timeout=30, what="the confirmation email")
    text = requests.get(f"{INBOX}/api/v1/message/{message_to_the_address()['ID']}", timeout=10).json()["Text"]
    link = re.search(r"https://localhost(/email/confirm\?token=\S+)", text)
    assert link, "no confirmation link built from FLASK_PUBLIC_BASE_URL"
    path, token = link.group(1), parse_qs(urlsplit(link.group(1)).query)["token"][0]
    assert browser.submit(site, path, {"token": token}).status_code == 200
    assert address in browser.get(site, "/account/email").text
    browser.http.close()


def test_both_replicas_serve_the_signed_in_user(site, user):
    browser, username = user
    answered = set()
    for _ in range(6):
        response, replica = dashboard_answered_by(site, browser)
        assert is_signed_in(response) and username in response.text
        answered.add(replica)
    assert answered == {"web-1", "web-2"}


def test_stopping_one_replica_keeps_the_user_signed_in(site, user):
    browser, _ = user
    site.project.docker.run("stop", site.project.container("web-1"))
    try:
        for _ in range(4):
            response, replica = dashboard_answered_by(site, browser)
            assert is_signed_in(response)
            assert replica == "web-2"
    finally:
        site.project.docker.run("start", site.project.container("web-1"))
    wait_until_healthy(site.project, "web")


def test_restarting_web_keeps_the_user_signed_in(site, user):
    browser, _ = user
    readme_command(site.project, RESTART_WEB)
    wait_until_healthy(site.project, "web")
    assert is_signed_in(browser.get(site, "/dashboard"))


def test_down_then_up_keeps_the_user_signed_in_and_reuses_the_secrets(site, user):
    browser, _ = user
    made = secrets_fingerprint(site.project)
    site.project.compose("down")
    assert site.project.owned("container") == []
    site.project.compose("up", "--detach", "--wait")
    # Nothing new was made, and every file is as it was: the same passwords and key.
    assert site.project.compose("logs", "--no-log-prefix", "make-secrets").strip() == ""
    assert secrets_fingerprint(site.project) == made
    # Caddy's data volume kept its CA too: the trusted root still verifies the site.
    site.wait_until_serving()
    assert is_signed_in(browser.get(site, "/dashboard"))


def test_a_database_with_an_old_password_is_fixed_the_readme_way(site, user):
    """Coming from secrets in .env (README): the database keeps the password it had, so
    `migrate` fails to sign in until the README's ALTER ROLE gives it the new one."""
    browser, _ = user
    site.project.compose("exec", "db", "psql", "-U", "app", "-d", "app", "-c", "ALTER ROLE app PASSWORD 'from-.env'")
    with pytest.raises(CommandFailed, match=r'"migrate" didn.t complete successfully'):
        site.project.compose("up", "--detach", "--wait")
    assert "ALTER ROLE" in readme_command(site.project, OLD_DATABASE_PASSWORD)
    site.project.compose("up", "--detach", "--wait")
    assert containers(site.project, "migrate")["migrate-1"] == ("exited", "", 0)
    site.wait_until_serving()
    assert is_signed_in(browser.get(site, "/dashboard"))


def test_rotating_the_key_the_readme_way_keeps_the_user_signed_in(site, user):
    browser, username = user
    before = secrets_fingerprint(site.project)
    # A form loaded before the rotation: its CSRF token is signed with the old key.
    sign_out_form = csrf_token_from(browser.get(site, "/dashboard").text)

    assert "rotated secret_key" in readme_command(site.project, ROTATE_KEY)
    readme_command(site.project, RESTART_WEB)
    wait_until_healthy(site.project, "web")
    after = secrets_fingerprint(site.project)
    assert after["secret_key"] != before["secret_key"]
    assert after["previous_secret_keys"] != before["previous_secret_keys"]
    assert is_signed_in(browser.get(site, "/dashboard"))
    # The old form still submits (the old key is a fallback): it signs the user out.
    signed_out = browser.post(site, "/auth/logout", {"csrf_token": sign_out_form})
    assert signed_out.status_code == 303
    assert sent_to_sign_in(browser.get(site, "/dashboard"))

    # 30 days later, as the README goes on: the old key is dropped; signing in still works.
    assert "dropped the previous secret keys" in readme_command(site.project, DROP_OLD_KEYS)
    readme_command(site.project, RESTART_WEB)
    wait_until_healthy(site.project, "web")
    assert secrets_fingerprint(site.project)["secret_key"] == after["secret_key"]
    browser.login(site, username)
    assert is_signed_in(browser.get(site, "/dashboard"))


def test_down_volumes_leaves_nothing_behind(site):
    site.project.compose("down", "--volumes")
    assert {kind: site.project.owned(kind) for kind in ("container", "volume", "network")} == {
        "container": [],
        "volume": [],
        "network": [],
    }
    now = site.project.everything()
    # Nothing without the project's label either (an image's anonymous volume, say).
    assert {kind: now[kind] - site.project.before[kind] for kind in ("containers", "volumes", "networks")} == {
        "containers": set(),
        "volumes": set(),
        "networks": set(),
    }
