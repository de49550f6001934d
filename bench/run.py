"""Benchmark: what the server-side sessions cost, measured on real processes.

One run starts a throwaway redis-server, the app under gunicorn in its production
configuration, and two one-route reference apps (``bench/baseline_app.py``): the
baseline, whose session is Flask's signed cookie, and the same route with its
session in Redis. It signs in through the real form, drives the routes with wrk,
counts the Redis commands of an authenticated request and the bytes a session takes
in Redis, then writes the results to ``bench/RESULTS.md``. Every process it starts
is stopped at the end, also when something fails.

The baseline, the Redis reference and the dashboard take turns for several rounds
and each row reports the median round: the speed of a shared virtual machine can
change several times over within a minute, and a slow spell should not fall on one
of the compared routes only.

    .venv/bin/python bench/run.py [--duration 5] [--rounds 5]        (make bench)

Needs the Debian packages ``wrk`` and ``redis-server``. This is a benchmark, not a
test: it passes or fails nothing, it reports whether each target is met.
"""

import argparse
import hashlib
import importlib.metadata
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import breakdown  # noqa: E402
from bench.baseline_app import create_app as create_baseline_app  # noqa: E402
from bench.baseline_app import create_redis_app as create_redis_reference_app  # noqa: E402
from bench.baseline_app import session_cookie as baseline_session_cookie  # noqa: E402
from config import ProductionConfig  # noqa: E402
from tests.support.processes import (  # noqa: E402
    AppServer,
    Process,
    RedisServer,
    app_environment,
    flask_command,
    free_port,
    gunicorn_command,
    wait_until,
)

BENCH_DIR = Path(__file__).resolve().parent
WRK_SCRIPT = BENCH_DIR / "report.lua"
SESSION_COOKIE = "__Host-session"
USERNAME = "benchuser"
WRONG_PASSWORD = "not the password at all"  # noqa: S105 - wrong on purpose
# Every client of the bench looks like one browser at one address.
USER_AGENT = "session-bench/1.0"
CLIENT_ADDRESS = "198.51.100.7"
# Sign-in limits (per address, per account), raised so that the failed-login run
# measures the password hash and not the 429 page.
RAISED_LIMIT = "1000000/minute"
RAISED_LIMITS = (
    "FLASK_LOGIN_RATE_LIMIT",
    "FLASK_ACCOUNT_LOGIN_RATE_LIMIT",
    "FLASK_SUCCESSFUL_LOGIN_RATE_LIMIT",
    "FLASK_ACCOUNT_SUCCESSFUL_LOGIN_RATE_LIMIT",
)
GUNICORN_THREADS = 4
WARMUP_SECONDS = 1
# The routes that are not compared run once, long enough for a p99 of the slow
# failed sign-ins (about a dozen a second).
OTHER_ROUTE_SECONDS = 10
SIGN_IN_WARMUP = 8
MEMORY_READINGS = 20
REQUEST_TIMEOUT = 30

# The targets this benchmark reports against.
MIN_DASHBOARD_SHARE = 0.60
MAX_REDIS_ROUND_TRIPS = 2
MAX_P99_MS = 50
TARGET_CONNECTIONS = 16

# The bench's own commands, left out when counting what the app sends.
OWN_REDIS_COMMANDS = ("cmdstat_config", "cmdstat_info", "cmdstat_memory", "cmdstat_scan", "cmdstat_client")


BASELINE = "Baseline `GET /` (signed-cookie session)"
REDIS_REFERENCE = "Reference `GET /` (the same route, Flask-Session on Redis)"
DASHBOARD = "`GET /dashboard` (signed in)"


class BenchError(RuntimeError):
    """The benchmark could not measure what it meant to (not a missed target)."""


@dataclass
class WrkResult:
    label: str
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    unexpected: int
    socket_errors: int
    timeouts: int

    @property
    def problems(self):
        return self.unexpected + self.socket_errors + self.timeouts


class Rounds:
    """The runs of the compared routes, round by round, and their medians."""

    def __init__(self, count):
        self.count = count
        self.runs = {}

    def add(self, label, result):
        self.runs.setdefault(label, []).append(result)

    def median(self, label):
        """One row for the route: median rate and latencies, every request counted."""
        runs = self.runs[label]
        return WrkResult(
            label=label,
            requests=sum(run.requests for run in runs),
            requests_per_second=statistics.median(run.requests_per_second for run in runs),
            p50_ms=statistics.median(run.p50_ms for run in runs),
            p99_ms=statistics.median(run.p99_ms for run in runs),
            unexpected=sum(run.unexpected for run in runs),
            socket_errors=sum(run.socket_errors for run in runs),
            timeouts=sum(run.timeouts for run in runs),
        )

    def rounds_under(self, label, milliseconds):
        """In how many rounds the route's p99 stayed under ``milliseconds``."""
        return sum(run.p99_ms < milliseconds for run in self.runs[label])

    def worst_p99(self, label):
        return max(run.p99_ms for run in self.runs[label])

    def shares(self, label, reference=BASELINE):
        """Requests/s of ``label`` over the reference's, in each round (run back to back)."""
        return [
            run.requests_per_second / base.requests_per_second
            for run, base in zip(self.runs[label], self.runs[reference], strict=True)
        ]


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds of wrk per route and round (default 5)")
    parser.add_argument(
        "--rounds", type=int, default=5, help="turns of baseline, Redis reference and dashboard (default 5)"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app (default 2)")
    parser.add_argument(
        "--sessions", type=int, default=200, help="sign-ins for the average bytes per session (default 200)"
    )
    parser.add_argument(
        "--redis-requests", type=int, default=1000, help="dashboard requests for the Redis command count (default 1000)"
    )
    parser.add_argument(
        "--database-url",
        help="an empty database for the app (default: a new SQLite file); e.g. postgresql://postgres@127.0.0.1/bench",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=BENCH_DIR / "RESULTS.md",
        help="where to write the markdown table (default bench/RESULTS.md)",
    )
    return parser.parse_args()


def main():
    options = parse_arguments()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="session-bench-"))
    started = []
    try:
        report = run_benchmark(options, workdir, started)
    except BaseException:
        for process in started:
            print(f"--- last lines of {process.log_path}", file=sys.stderr)
            print("\n".join(process.log().splitlines()[-40:]), file=sys.stderr)
        print(f"Logs kept in {workdir}", file=sys.stderr)
        raise
    finally:
        for process in reversed(started):
            process.stop()
    options.output.write_text(report)
    print(report)
    print(f"Written to {options.output}")
    shutil.rmtree(workdir, ignore_errors=True)


def run_benchmark(options, workdir, started):
    load_at_start = os.getloadavg()
    password = secrets.token_urlsafe(16)
    redis_server = RedisServer(workdir / "redis")
    started.append(redis_server)
    redis_server.start()

    settings = app_settings(redis_server.url, options.database_url or f"sqlite:///{workdir / 'bench.db'}")
    flask_command(settings, ["db", "upgrade"])
    flask_command(settings, ["create-user", USERNAME, "--password", password])
    app = AppServer(workdir / "app", settings, workers=options.workers)
    started.append(app)
    app.start()

    baseline_key = secrets.token_hex(32)
    baseline = reference_server(workdir / "baseline", "create_app()", {"BASELINE_SECRET_KEY": baseline_key}, options)
    redis_reference = reference_server(
        workdir / "redis-reference",
        "create_redis_app()",
        {"BASELINE_SECRET_KEY": baseline_key, "BASELINE_REDIS_URL": redis_server.url},
        options,
    )
    for server in (baseline, redis_reference):
        started.append(server)
        server.start()
        wait_until(lambda server=server: requests.get(server.url + "/", timeout=2).ok, what="a reference app")

    user = ProxiedBrowser(app.url)
    user.sign_in(USERNAME, password)
    store = redis_server.client()
    load = Load(options)
    baseline_cookie = baseline_session_cookie(create_baseline_app(baseline_key), USERNAME)
    redis_reference_cookie = baseline_session_cookie(
        create_redis_reference_app(baseline_key, redis_server.url), USERNAME
    )

    # The order matters. The dashboard runs before the memory count, so every worker
    # thread already holds its Redis connection then (a new connection would count
    # as session memory). Memory is measured before the anonymous login-page run
    # fills Redis with sessions, and the failed sign-ins come last: their slow
    # requests outlive wrk's run and would overlap whatever came next.
    targets = {
        BASELINE: (baseline.url, "/", f"session={baseline_cookie}"),
        REDIS_REFERENCE: (redis_reference.url, "/", f"session={redis_reference_cookie}"),
        DASHBOARD: (app.url, "/dashboard", f"{SESSION_COOKIE}={user.session_id}"),
    }
    compared = Rounds(options.rounds)
    for round_number in range(options.rounds):
        # Each round starts with the next route, so no route always runs first (or
        # right after the same other one) when the machine's speed drifts.
        order = list(targets)[round_number % 3 :] + list(targets)[: round_number % 3]
        for label in order:
            base_url, path, cookie = targets[label]
            compared.add(label, load.run(label, base_url, path, cookie=cookie, warm_up=round_number == 0))
    redis_calls = redis_calls_per_request(store, user, options.redis_requests)
    memory = session_memory(store, app.url, user, password, options.sessions)
    layers = breakdown.measure(
        settings,
        workdir / "in-process",
        redis_server.url,
        baseline_key,
        sign_in=lambda client: sign_in_test_client(client, password),
        proxy_headers=TEST_CLIENT_HEADERS,
    )
    others = [
        load.run("`GET /auth/login` (anonymous)", app.url, "/auth/login", seconds=OTHER_ROUTE_SECONDS),
        failed_login_load(load, app.url),
    ]
    return render_report(options, compared, others, layers, redis_calls, memory, store, load_at_start)


def app_settings(redis_url, database_url):
    """Production settings, plus what the bench needs: plain HTTP, raised sign-in limits."""
    return {
        "APP_ENV": "production",
        "FLASK_SECRET_KEY": secrets.token_hex(32),
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        # wrk speaks plain HTTP, but production cookies are Secure "__Host-" cookies
        # and CSRF checks the Referer on HTTPS. With one trusted proxy, the app takes
        # X-Forwarded-Proto: https from the bench as a TLS-terminating proxy's word and
        # runs exactly as it does in production behind one; the clients of the bench
        # send that header (and X-Forwarded-For) on every request.
        "FLASK_TRUSTED_PROXIES": "1",
        **{name: RAISED_LIMIT for name in RAISED_LIMITS},
        "GUNICORN_THREADS": str(GUNICORN_THREADS),
    }


def reference_server(directory, factory, settings, options):
    """A reference app under the app's own gunicorn settings (workers, threads, access log)."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environment = app_environment({**settings, "GUNICORN_THREADS": str(GUNICORN_THREADS)})
    server = Process(
        gunicorn_command(port, options.workers, f"bench.baseline_app:{factory}"),
        directory / f"gunicorn-{port}.log",
        env=environment,
    )
    server.url = f"http://127.0.0.1:{port}"
    return server


def proxy_headers(base_url):
    """What a TLS-terminating proxy in front of the app would add to each request."""
    return {
        "Host": base_url.removeprefix("http://"),
        "User-Agent": USER_AGENT,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": CLIENT_ADDRESS,
    }


class ProxiedBrowser:
    """One browser reaching the app through the pretend TLS proxy.

    requests (like a browser) never sends a Secure cookie over plain HTTP, so the
    session cookie is taken from each response and sent back by hand.
    """

    def __init__(self, base_url):
        self.base_url = base_url
        self.http = requests.Session()
        self.http.headers.update(proxy_headers(base_url))
        self.session_id = None

    def get(self, path):
        return self._keep_cookie(
            self.http.get(
                self.base_url + path, headers=self._cookie_header(), allow_redirects=False, timeout=REQUEST_TIMEOUT
            )
        )

    def post(self, path, data):
        # On HTTPS, Flask-WTF rejects a POST without a same-origin Referer.
        headers = {**self._cookie_header(), "Referer": f"https://{self.http.headers['Host']}/"}
        return self._keep_cookie(
            self.http.post(
                self.base_url + path, data=data, headers=headers, allow_redirects=False, timeout=REQUEST_TIMEOUT
            )
        )

    def sign_in(self, username, password):
        """Sign in through the form, like a person would; keep the new session cookie."""
        form = self.get("/auth/login")
        expect_status(form, 200, "the sign-in page")
        answer = self.post(
            "/auth/login",
            {
                "csrf_token": csrf_token(form.text),
                "username": username,
                "password": password,
            },
        )
        expect_status(answer, 303, "signing in")

    def _cookie_header(self):
        return {"Cookie": f"{SESSION_COOKIE}={self.session_id}"} if self.session_id else {}

    def _keep_cookie(self, response):
        if SESSION_COOKIE in response.cookies:
            self.session_id = response.cookies[SESSION_COOKIE] or None
        return response


# The in-process client of bench/breakdown.py, seen by the app as the same browser
# behind the same TLS-terminating proxy.
TEST_CLIENT_HEADERS = {"User-Agent": USER_AGENT, "X-Forwarded-Proto": "https", "X-Forwarded-For": CLIENT_ADDRESS}


def sign_in_test_client(client, password):
    """Sign a Flask test client in through the form, as ``ProxiedBrowser.sign_in`` does."""
    form = client.get("/auth/login", base_url=breakdown.BASE_URL, headers=TEST_CLIENT_HEADERS)
    expect_status(form, 200, "the sign-in page (in-process)")
    answer = client.post(
        "/auth/login",
        base_url=breakdown.BASE_URL,
        headers={**TEST_CLIENT_HEADERS, "Referer": breakdown.BASE_URL + "/"},
        data={"csrf_token": csrf_token(form.text), "username": USERNAME, "password": password},
    )
    expect_status(answer, 303, "signing in (in-process)")


class _CsrfFieldFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.token = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("name") == "csrf_token":
            self.token = attributes.get("value")


def csrf_token(page):
    finder = _CsrfFieldFinder()
    finder.feed(page)
    if not finder.token:
        raise BenchError("no csrf_token field in the sign-in form")
    return finder.token


def expect_status(response, status, doing):
    if response.status_code != status:
        raise BenchError(f"{doing} answered {response.status_code}, expected {status}:\n{response.text[:500]}")


def session_store_key(session_id):
    """The Redis key of a session: the SHA-256 of its id (see app/sessions.py)."""
    return "session:" + hashlib.sha256(session_id.encode()).hexdigest()


def redis_calls_per_request(store, user, count):
    """Redis commands the app sends per authenticated dashboard request, by command."""
    for _ in range(20):
        # Warm up: every worker thread has its Redis connection before counting starts.
        user.get("/dashboard")
    store.config_resetstat()
    for _ in range(count):
        page = user.get("/dashboard")
        expect_status(page, 200, "the dashboard")
        if USERNAME not in page.text:
            raise BenchError("the dashboard did not show the signed-in user")
    stats = store.info("commandstats")
    calls = {
        name.removeprefix("cmdstat_"): values["calls"] / count
        for name, values in stats.items()
        if not name.startswith(OWN_REDIS_COMMANDS)
    }
    return {"total": sum(calls.values()), "by_command": calls, "requests": count}


def session_memory(store, base_url, user, password, count):
    """Bytes a signed-in session takes in Redis: one key, and the average over ``count``.

    Each sign-in leaves one key: its anonymous session (which held the form's CSRF
    secret) is deleted when the sign-in gives the session a new id. The average is
    the growth of Redis's own count of data memory (``used_memory_dataset``: used
    memory less client buffers, scripts and other overhead) plus that of its key and
    expiry tables, less any new key that is not a session, divided by ``count``.
    """
    one_session = store.memory_usage(session_store_key(user.session_id), samples=0)

    def sign_in_many(times):
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda _: ProxiedBrowser(base_url).sign_in(USERNAME, password), range(times)))

    # Warm up: the first sign-ins also pay for one-off allocations (the rate
    # limiter's scripts, say), which are no session's cost.
    sign_in_many(SIGN_IN_WARMUP)
    keys_before = set(store.scan_iter(count=1000))
    memory_before = session_data_bytes(store)
    sign_in_many(count)
    memory_after = session_data_bytes(store)

    new_keys = set(store.scan_iter(count=1000)) - keys_before
    new_sessions = [key for key in new_keys if key.startswith(b"session:")]
    if len(new_sessions) != count:
        raise BenchError(f"{count} sign-ins left {len(new_sessions)} new session keys in Redis")
    other_bytes = sum(store.memory_usage(key, samples=0) or 0 for key in new_keys if key not in new_sessions)
    return {
        "one_session": one_session,
        "key_average": sum(store.memory_usage(key, samples=0) for key in new_sessions) / count,
        "average": (memory_after - memory_before - other_bytes) / count,
        "sessions": count,
        "other_keys": len(new_keys) - count,
    }


def session_data_bytes(store):
    """Redis's data memory plus its key and expiry tables (database 0, the app's).

    Read until two readings half a second apart agree: buffers of the last replies
    (the app's, and the bench's own key scan) take a moment to be released.
    """
    previous = None
    for _ in range(MEMORY_READINGS):
        tables = store.memory_stats().get("db.0", {})
        current = (
            store.info("memory")["used_memory_dataset"]
            + tables.get("overhead.hashtable.main", 0)
            + tables.get("overhead.hashtable.expires", 0)
        )
        if current == previous:
            return current
        previous = current
        time.sleep(0.5)
    raise BenchError("Redis memory kept changing while the app was idle")


class Load:
    """wrk with the bench's settings: one warm-up, then one measured run per route."""

    def __init__(self, options):
        self.options = options

    def run(
        self,
        label,
        base_url,
        path,
        cookie=None,
        method="GET",
        body="",
        expected_status=200,
        referer=False,
        warm_up=True,
        seconds=None,
    ):
        seconds = seconds or self.options.duration
        headers = proxy_headers(base_url)
        if cookie:
            headers["Cookie"] = cookie
        if referer:
            headers["Referer"] = f"https://{headers['Host']}/"
        arguments = [str(expected_status), method, body]
        if warm_up:
            self._wrk(base_url + path, headers, WARMUP_SECONDS, arguments)
        result = self._wrk(base_url + path, headers, seconds, arguments)
        if result["requests"] == 0:
            raise BenchError(f"{label}: no request finished within {seconds} s; run longer")
        if result["expected"] == 0:
            raise BenchError(f"{label}: no request got the expected status {expected_status}")
        return WrkResult(
            label=label,
            requests=result["requests"],
            requests_per_second=result["requests"] / (result["duration_us"] / 1e6),
            p50_ms=result["p50_us"] / 1000,
            p99_ms=result["p99_us"] / 1000,
            unexpected=result["unexpected"],
            socket_errors=result["socket_errors"],
            timeouts=result["timeouts"],
        )

    def _wrk(self, url, headers, seconds, script_arguments):
        command = [
            "wrk",
            f"--threads={self.options.threads}",
            f"--connections={self.options.connections}",
            f"--duration={seconds}s",
            "--timeout=20s",
            f"--script={WRK_SCRIPT}",
        ]
        for name, value in headers.items():
            command += ["--header", f"{name}: {value}"]
        command += [url, "--", *script_arguments]
        finished = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
        for line in finished.stdout.splitlines():
            if line.startswith("BENCH-RESULT "):
                return json.loads(line.removeprefix("BENCH-RESULT "))
        raise BenchError(f"wrk printed no result:\n{finished.stdout}\n{finished.stderr}")


def failed_login_load(load, base_url):
    """Wrong passwords for a real account, each with a valid CSRF token and session."""
    visitor = ProxiedBrowser(base_url)
    form = visitor.get("/auth/login")
    expect_status(form, 200, "the sign-in page")
    fields = {"csrf_token": csrf_token(form.text), "username": USERNAME, "password": WRONG_PASSWORD}
    expect_status(visitor.post("/auth/login", fields), 401, "a wrong password")
    return load.run(
        "`POST /auth/login` (wrong password)",
        base_url,
        "/auth/login",
        cookie=f"{SESSION_COOKIE}={visitor.session_id}",
        method="POST",
        body=urlencode(fields),
        expected_status=401,
        referer=True,
        warm_up=False,
        seconds=OTHER_ROUTE_SECONDS,
    )


def machine_description(store, workers):
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    wrk_banner = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return {
        "CPU": f"{model}, {os.cpu_count()} cores",
        "Python": platform.python_version(),
        "gunicorn": f"{importlib.metadata.version('gunicorn')}, {workers} workers x {GUNICORN_THREADS} threads "
        "(gthread), JSON access log on, for both apps",
        "Redis": store.info("server")["redis_version"],
        "wrk": (wrk_banner.stdout or wrk_banner.stderr).split(" [")[0].removeprefix("wrk "),
    }


def verdict(met):
    return "**met**" if met else "**NOT met**"


def p99_list(runs):
    """The p99 of each run, in order."""
    return ", ".join(f"{run.p99_ms:.1f} ms" for run in runs)


def percentages(shares):
    return ", ".join(f"{share:.0%}" for share in shares)


def render_report(options, compared, others, layers, redis_calls, memory, store, load_at_start):
    rows = [compared.median(label) for label in (BASELINE, REDIS_REFERENCE, DASHBOARD)]
    dashboard_shares = compared.shares(DASHBOARD)
    reference_shares = compared.shares(REDIS_REFERENCE)
    share = statistics.median(dashboard_shares)
    reference_share = statistics.median(reference_shares)
    share_of_reference = statistics.median(compared.shares(DASHBOARD, reference=REDIS_REFERENCE))
    machine = machine_description(store, options.workers)
    load_at_end = os.getloadavg()
    if options.connections == TARGET_CONNECTIONS:
        # wrk reports a p99 per run, and percentiles of separate runs cannot be pooled
        # into one: the verdict counts the rounds instead.
        rounds_met = compared.rounds_under(DASHBOARD, MAX_P99_MS)
        if rounds_met == options.rounds:
            p99_verdict = verdict(True)
        elif rounds_met == 0:
            p99_verdict = verdict(False)
        else:
            p99_verdict = f"**met in {rounds_met} of {options.rounds} rounds**"
    else:
        p99_verdict = f"not comparable (run with --connections {TARGET_CONNECTIONS})"
    hash_memory_mib = ProductionConfig.PASSWORD_HASH_MEMORY_COST // 1024
    database_kind = "PostgreSQL" if (options.database_url or "").startswith("postgres") else "SQLite"
    commands = ", ".join(f"{name} {calls:.3f}" for name, calls in sorted(redis_calls["by_command"].items()))

    lines = [
        "# Benchmark results",
        "",
        f"Run with `python bench/run.py{''.join(' ' + argument for argument in sys.argv[1:])}` on "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
        "| Machine | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in machine.items()),
        f"| Load | {options.connections} connections, {options.threads} wrk threads, "
        f"{options.duration} s per route and round after a {WARMUP_SECONDS} s warm-up |",
        f"| Load average (1 min) | {load_at_start[0]:.2f} at the start, {load_at_end[0]:.2f} at the end |",
        "",
        f"The compared routes, {options.rounds} rounds of baseline, Redis reference and dashboard back to back; "
        "each figure is the median round, the share is the median of each round's own share:",
        "",
        "| Route | Requests/s | Share of the baseline | p50 (ms) | p99 (ms) | p99, worst round (ms) "
        "| Requests (all rounds) | Other statuses / errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        row_share = statistics.median(compared.shares(row.label))
        lines.append(
            f"| {row.label} | {row.requests_per_second:,.0f} | {row_share:.0%} | {row.p50_ms:.1f} "
            f"| {row.p99_ms:.1f} | {compared.worst_p99(row.label):.1f} | {row.requests:,} | {row.problems} |"
        )
    lines += [
        "",
        f"The app's other routes, one run of {OTHER_ROUTE_SECONDS} s each:",
        "",
        "| Route | Requests/s | p50 (ms) | p99 (ms) | Requests | Other statuses / errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in others:
        lines.append(
            f"| {result.label} | {result.requests_per_second:,.0f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} "
            f"| {result.requests:,} | {result.problems} |"
        )
    lines += [
        "",
        "| Target | Measured | |",
        "|---|---|---|",
        f"| `/dashboard` req/s >= {MIN_DASHBOARD_SHARE:.0%} of the baseline | {share:.0%} "
        f"(rounds: {percentages(dashboard_shares)}) | {verdict(share >= MIN_DASHBOARD_SHARE)} |",
        f"| <= {MAX_REDIS_ROUND_TRIPS} Redis round trips per authenticated request "
        f"| {redis_calls['total']:.2f} commands ({commands}); each is one round trip at most "
        f"| {verdict(redis_calls['total'] <= MAX_REDIS_ROUND_TRIPS)} |",
        f"| `/dashboard` p99 < {MAX_P99_MS} ms at {TARGET_CONNECTIONS} connections "
        f"| {p99_list(compared.runs[DASHBOARD])} in the {options.rounds} rounds "
        f"at {options.connections} connections | {p99_verdict} |",
        "",
        f"What the Redis session alone costs: the reference route, which does nothing but read its session "
        f"with one Redis `GET`, served {reference_share:.0%} of the baseline's requests per second "
        f"(rounds: {percentages(reference_shares)}). "
        + (
            f"That is below the {MIN_DASHBOARD_SHARE:.0%} target before any page is rendered: on this machine no "
            "route that reads a Flask-Session from Redis reached the target, so the dashboard cannot either. "
            if reference_share < MIN_DASHBOARD_SHARE
            else ""
        )
        + f"The dashboard served {share_of_reference:.0%} of the reference's rate: that part is the page itself "
        "(loading the sign-in from SQL, the template, the CSRF token, headers and rate limiter).",
        "",
        "Where the dashboard's time goes (`bench/breakdown.py`): each of the app's layers adds one part of the "
        "dashboard's work to the layer it is compared with; median of "
        f"{breakdown.BATCHES} batches of {breakdown.BATCH_SIZE} requests, layers taking turns.",
        "",
        *breakdown.render(layers),
        "",
        "| Redis memory per signed-in session | Bytes |",
        "|---|---:|",
        f"| `MEMORY USAGE` of the benchmark user's session key (it has visited the dashboard, "
        f"so it also holds a CSRF secret) | {memory['one_session']} |",
        f"| Average `MEMORY USAGE` of {memory['sessions']} sessions fresh from the sign-in form "
        f"| {memory['key_average']:.0f} |",
        f"| **Bytes per session**: growth of `used_memory_dataset` plus key and expiry tables, "
        f"over {memory['sessions']} sign-ins | **{memory['average']:.0f}** |",
        "",
        "Notes:",
        "",
        "- The app runs in its production configuration (`APP_ENV=production`, Secure `__Host-` cookies, "
        f"CSRF with the Referer check, Redis sessions, {database_kind} database). wrk speaks plain HTTP, so the app "
        "trusts one proxy (`FLASK_TRUSTED_PROXIES=1`) and every request carries `X-Forwarded-Proto: https` "
        "and `X-Forwarded-For`, as a TLS-terminating proxy would add: TLS itself is not measured.",
        f"- Failed sign-ins: the sign-in rate limits were raised to `{RAISED_LIMIT}` "
        f"({', '.join(f'`{name}`' for name in RAISED_LIMITS)}) so that this row measures the argon2id "
        f"verification of a wrong password (production parameters: {hash_memory_mib} MiB, "
        f"{ProductionConfig.PASSWORD_HASH_TIME_COST} passes, {ProductionConfig.PASSWORD_HASH_PARALLELISM} lanes), "
        "not the 429 page. "
        "It runs last and without a warm-up: its requests take seconds and would spill into the next run.",
        "- `GET /auth/login` is anonymous: each request starts a session that stores a CSRF secret "
        "(one Redis write, an hour's lifetime).",
        f"- Redis commands were counted with `CONFIG RESETSTAT` / `INFO commandstats` over "
        f"{redis_calls['requests']} sequential dashboard requests of one signed-in session.",
        "- The baseline app (`bench/baseline_app.py`) keeps the name in Flask's signed-cookie session and "
        "renders no template: it is the cost floor of Flask and gunicorn here, not a like-for-like page. "
        "The Redis reference is the same app with Flask-Session on the same Redis server.",
        "- wrk measures latency from when it sends each request (closed loop): p99 under overload "
        "understates what users would see.",
    ]
    if memory["other_keys"]:
        lines.append(
            f"- {memory['other_keys']} other keys appeared during the sign-ins; their "
            "memory was subtracted from the per-session average."
        )
    if any(result.problems for result in [*rows, *others]):
        lines.append("- Some requests got an unexpected status: see the last column.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
