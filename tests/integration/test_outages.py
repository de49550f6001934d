"""Outages of the session store and of the database, with real servers stopped and started.

What an outage must look like from outside: pages that need the missing service
answer 503 ("try again shortly") within a couple of seconds, never 500 and never a
hang; the landing page and ``/healthz`` still answer, the latter saying what is
down; and when the service comes back the app recovers by itself, no restart.
"""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.processes import free_port, wait_until
from tests.support.tools import require

from .conftest import PASSWORD, csrf_token_from, is_signed_in, sent_to_sign_in, timed, unique_username

pytestmark = pytest.mark.integration

# A stopped server refuses connections at once; REDIS_CONNECT_TIMEOUT (0.5 s) and one
# retry bound the wait anyway.
OUTAGE_ANSWER_DEADLINE = 2.0
# A server that accepts but never answers costs REDIS_SOCKET_TIMEOUT (1 s) twice.
FROZEN_STORE_DEADLINE = 3.0
RECOVERY_DEADLINE = 20


def assert_quick(browser, server, path, status, deadline=OUTAGE_ANSWER_DEADLINE):
    """GET ``path`` and check that it answers ``status`` within ``deadline`` seconds."""
    response, seconds = timed(lambda: browser.get(server, path))
    assert response.status_code == status, f"GET {path} answered {response.status_code}"
    assert seconds < deadline, f"GET {path} took {seconds:.2f}s to answer {status}"
    return response


def health(browser, server):
    response = browser.get(server, "/healthz")
    return response.status_code, response.json()


def test_a_redis_outage_answers_503_quickly_and_recovers_without_a_restart(deployment):
    store = deployment.redis()
    app = deployment.app(store.url)
    user, visitor = deployment.browser(), deployment.browser()
    username = unique_username()
    user.register(app, username)

    store.stop()

    assert_quick(user, app, "/dashboard", 503)
    assert_quick(user, app, "/account/sessions", 503)
    assert_quick(user, app, "/", 200)
    assert_quick(visitor, app, "/", 200)
    health_check = assert_quick(visitor, app, "/healthz", 503)
    assert health_check.json() == {
        "status": "degraded",
        "redis": "unreachable",
        "rate_limits": "unreachable",
        "database": "ok",
        "mail": "ok",
    }

    deployment.redis(port=store.port)

    wait_until(lambda: health(visitor, app)[0] == 200, timeout=RECOVERY_DEADLINE, what="the app to see Redis again")
    # This Redis kept nothing on disk, so the old session is gone: back to sign-in.
    assert sent_to_sign_in(user.get(app, "/dashboard"))
    user.login(app, username)
    assert is_signed_in(user.get(app, "/dashboard"))
    assert user.server_errors() == visitor.server_errors() == []
    assert "Traceback" not in app.log()


def test_a_rate_limit_redis_outage_is_reported_logged_once_and_limits_still_hold(deployment):
    """Counters in a Redis of their own: without it limits hold per process, and it shows."""
    store, counters = deployment.redis(), deployment.redis("redis-limits")
    app = deployment.app(store.url, RATE_LIMIT_REDIS_URL=counters.url)
    guesser, visitor = deployment.browser(), deployment.browser()
    username = unique_username()
    deployment.browser().register(app, username)

    counters.stop()

    health_check = assert_quick(visitor, app, "/healthz", 503)
    assert health_check.json() == {
        "status": "degraded",
        "redis": "ok",
        "rate_limits": "unreachable",
        "database": "ok",
        "mail": "ok",
    }
    guess = {"username": username, "password": "a guess"}
    answers = [guesser.submit(app, "/auth/login", guess).status_code for _ in range(6)]
    # One worker here: its own count stops the sixth guess in a minute, as Redis would.
    assert answers == [401] * 5 + [429]
    assert health(visitor, app)[1]["rate_limits"] == "unreachable"

    deployment.redis("redis-limits", port=counters.port)

    # Each request lets Flask-Limiter probe its Redis again, 1, 2, 4 ... s apart.
    wait_until(lambda: health(visitor, app)[0] == 200, timeout=RECOVERY_DEADLINE, what="the limiter to use Redis again")
    assert health(visitor, app) == (
        200,
        {"status": "ok", "redis": "ok", "rate_limits": "ok", "database": "ok", "mail": "ok"},
    )
    log = app.log()
    # One line each way for the whole outage, and none for the services that stayed up.
    assert log.count("degraded:") == log.count("rate_limits degraded: unreachable") == 1
    assert log.count("recovered:") == log.count("rate_limits recovered: ok") == 1
    assert guesser.server_errors() == visitor.server_errors() == []
    assert "Traceback" not in log


def test_a_frozen_redis_holds_a_request_no_longer_than_its_timeouts(deployment):
    store = deployment.redis()
    app = deployment.app(store.url)
    user = deployment.browser()
    user.register(app, unique_username())

    # SIGSTOP: the kernel still accepts connections, but nothing ever answers, as
    # behind a network partition. Each command waits out REDIS_SOCKET_TIMEOUT (1 s),
    # once more for the retry, then the request gets its 503.
    os.kill(store.process.pid, signal.SIGSTOP)
    try:
        assert_quick(user, app, "/dashboard", 503, deadline=FROZEN_STORE_DEADLINE)
        assert_quick(user, app, "/", 200, deadline=FROZEN_STORE_DEADLINE)
    finally:
        os.kill(store.process.pid, signal.SIGCONT)

    assert_quick(user, app, "/dashboard", 200)
    assert user.server_errors() == []
    assert "Traceback" not in app.log()


def test_no_password_is_checked_while_redis_is_down(deployment):
    store = deployment.redis()
    app = deployment.app(store.url)
    username = unique_username()
    deployment.browser().register(app, username)
    with_form, without_form = deployment.browser(), deployment.browser()
    token = csrf_token_from(with_form.get(app, "/auth/login").text)
    store.stop()

    # A visitor's form needs no store (its CSRF secret is in a signed cookie), so a
    # guess with a valid form gets past the CSRF check; then the session store is
    # asked first, before the password is looked at: a 503, for any password.
    guess = {"username": username, "password": "a guess", "csrf_token": token}
    answers = [with_form.post(app, "/auth/login", guess).status_code for _ in range(6)]
    # The right password gets the same answer: the outage is no oracle.
    assert with_form.post(app, "/auth/login", {**guess, "password": PASSWORD}).status_code == 503
    # A client without the form fails the CSRF check (400) in a before-request hook that
    # runs before the rate limiter's; a 429 would be fine too.
    guess["csrf_token"] = "from an old form"
    answers += [without_form.post(app, "/auth/login", guess).status_code for _ in range(6)]

    assert answers[:6] == [503] * 6
    assert set(answers[6:]) <= {400, 429}
    log = app.log()
    assert '"event": "user_registered"' in log  # security events do reach this log
    assert '"event": "login_failed"' not in log
    assert "Traceback" not in log


def test_a_first_visit_to_a_form_during_a_redis_outage_is_served_without_the_store(deployment):
    store = deployment.redis()
    app = deployment.app(store.url)
    visitor = deployment.browser()
    store.stop()

    # The form's CSRF secret goes into a signed cookie, not the store: the form works.
    assert_quick(visitor, app, "/auth/login", 200)
    assert visitor.server_errors() == []
    assert "Traceback" not in app.log()


def test_sessions_survive_a_redis_restart_with_an_append_only_file(deployment):
    durable = ("--appendonly", "yes", "--appendfsync", "always")
    store = deployment.redis("durable-redis", extra=durable)
    app = deployment.app(store.url)
    browser = deployment.browser()
    browser.register(app, unique_username())

    # Killed, not shut down: with appendfsync always even a crash keeps every write.
    store.kill()
    deployment.redis("durable-redis", port=store.port, extra=durable)

    wait_until(
        lambda: is_signed_in(browser.get(app, "/dashboard")),
        timeout=RECOVERY_DEADLINE,
        what="the session to be served again",
    )
    assert browser.server_errors() == []


def test_an_unreachable_database_answers_503_and_the_landing_page_still_works(deployment):
    store = deployment.redis()
    # Nothing listens on port 1: every connection is refused at once.
    app = deployment.app(store.url, database_url="postgresql://nobody@127.0.0.1:1/none", migrate_db=False)
    visitor = deployment.browser()

    assert_quick(visitor, app, "/", 200)
    health_check = assert_quick(visitor, app, "/healthz", 503)
    assert health_check.json() == {
        "status": "degraded",
        "redis": "ok",
        "rate_limits": "ok",
        "database": "unreachable",
        "mail": "ok",
    }
    # The forms render (they need only the session); submitting them needs the database.
    credentials = {"username": "alice", "password": PASSWORD}
    sign_in, seconds = timed(lambda: visitor.submit(app, "/auth/login", credentials))
    assert sign_in.status_code == 503
    assert seconds < OUTAGE_ANSWER_DEADLINE * 2  # the form's GET and its POST
    fields = {"username": unique_username(), "password": PASSWORD, "confirm": PASSWORD}
    assert visitor.submit(app, "/auth/register", fields).status_code == 503
    assert visitor.server_errors() == []
    assert "Traceback" not in app.log()


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own in a temporary folder, on a free loopback port.

    PostgreSQL refuses to run as root, so under root it runs as the ``postgres``
    account, in a folder outside pytest's private (mode 0700) temporary tree.
    """

    def __init__(self, bindir, account):
        self.bindir = bindir
        self.account = account
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="integration-postgres-"))
        self.data = self.root / "data"
        if account:
            shutil.chown(self.root, user=account)

    @property
    def url(self):
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def create(self):
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync"
        )
        return self

    def start(self):
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "postgres.log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )
        return self

    def stop(self):
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self):
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program, *args):
        subprocess.run(
            [str(self.bindir / program), *args],
            user=self.account,
            cwd=self.root,
            check=True,
            capture_output=True,
            timeout=60,
        )


def postgres_bindir():
    """The newest installed server's bin folder (Debian: /usr/lib/postgresql/<major>/bin)."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda path: float(path.parts[-3]))
    return versions[-1].parent if versions else None


@pytest.fixture
def postgres():
    bindir = postgres_bindir()
    require(
        bindir is not None,
        "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)",
    )
    account = None
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres").pw_name
        except KeyError:
            require(False, "running as root, and no 'postgres' account to run PostgreSQL as")
    server = ThrowawayPostgres(bindir, account)
    try:
        yield server.create().start()
    finally:
        server.remove()


def test_a_database_outage_answers_503_and_recovers_without_a_restart(deployment, postgres):
    store = deployment.redis()
    app = deployment.app(store.url, database_url=postgres.url)
    user, visitor = deployment.browser(), deployment.browser()
    username = unique_username()
    user.register(app, username)

    postgres.stop()

    # The signed-in user waits out the outage: what they would see now is the
    # subject of the next test.
    assert_quick(visitor, app, "/", 200)
    health_check = assert_quick(visitor, app, "/healthz", 503)
    assert health_check.json() == {
        "status": "degraded",
        "redis": "ok",
        "rate_limits": "ok",
        "database": "unreachable",
        "mail": "ok",
    }
    credentials = {"username": username, "password": PASSWORD}
    sign_in, seconds = timed(lambda: visitor.submit(app, "/auth/login", credentials))
    assert sign_in.status_code == 503
    assert seconds < OUTAGE_ANSWER_DEADLINE * 2  # the form's GET and its POST

    postgres.start()

    # The session lived in Redis and the sign-in row in PostgreSQL: both are still there.
    wait_until(
        lambda: is_signed_in(user.get(app, "/dashboard")),
        timeout=RECOVERY_DEADLINE,
        what="the app to reach PostgreSQL again",
    )
    assert health(visitor, app) == (
        200,
        {"status": "ok", "redis": "ok", "rate_limits": "ok", "database": "ok", "mail": "ok"},
    )
    visitor.login(app, username)
    assert is_signed_in(visitor.get(app, "/dashboard"))
    assert user.server_errors() == visitor.server_errors() == []
    assert "Traceback" not in app.log()


def test_a_database_outage_answers_503_to_a_signed_in_user(deployment, postgres):
    store = deployment.redis()
    app = deployment.app(store.url, database_url=postgres.url)
    user = deployment.browser()
    user.register(app, unique_username())

    postgres.stop()

    # The dashboard is served from the session store alone: no SQL on a signed-in GET.
    assert is_signed_in(assert_quick(user, app, "/dashboard", 200))
    assert_quick(user, app, "/account/sessions", 503)
    assert user.get(app, "/").status_code == 200
    assert user.server_errors() == []
    assert "Traceback" not in app.log()
