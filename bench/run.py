"""Benchmark: this project's pages against the peers in ``bench/peers``, on real processes.

One run starts a throwaway redis-server and five apps under the project's own
gunicorn config: this project in its production configuration, the typical Flask
starter, the same on Flask-Session's Redis defaults, Django 5.2 with cache sessions
on Redis, and the bare floor (``bench/contenders.py`` says how each is set up). It
signs one user in to each through its real form, checks that every app answers
with the signed-in page (and the sign-in page), then drives the signed-in
``/dashboard`` and the anonymous ``/auth/login`` of every app with wrk, in rotated
rounds, checking every answer. In the bench's own process it counts what one
request of each app sends to Redis and SQL (``bench/counting.py``) and times the
layers of the project's requests (``bench/breakdown.py``). It writes
``bench/RESULTS.md`` and the table in README.md, and prints the report: every
target with its verdict, and for each one not met, why. Every process it starts is
stopped at the end, also when something fails.

The machine's speed can change several times over within a minute, so the runs
take turns: in each round every app and page runs once, each round starting at
another point of the list; each figure is the median round, and each comparison
is the median of the rounds' own ratios (run minutes apart at most).

    .venv/bin/python bench/run.py [--duration 5] [--rounds 5]        (make bench)

Needs the Debian packages ``wrk`` and ``redis-server``, and ``bench/requirements.txt``.
This is a benchmark, not a test: it exits 0 whether or not the targets are met.
"""

import argparse
import importlib.metadata
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import breakdown, counting  # noqa: E402
from bench.contenders import (  # noqa: E402
    GUNICORN_THREADS,
    SIGN_IN_PAGE,
    SIGNED_IN_PAGE,
    BenchError,
    HttpBrowser,
    WsgiBrowser,
    all_contenders,
    expect_page,
    proxy_headers,
)
from tests.support.processes import RedisServer  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
WRK_SCRIPT = BENCH_DIR / "report.lua"
README = ROOT / "README.md"
README_START = "<!-- bench-table: written by make bench (bench/run.py) -->"
README_END = "<!-- /bench-table -->"
WARMUP_SECONDS = 1
# Above this load average the report says the machine was busy with other work.
BUSY_LOAD = 1.5

# The targets of issue 14, all in one run.
MIN_DASHBOARD_RATIO_STARTER = 1.0
MIN_DASHBOARD_RATIO_DJANGO = 1.3
MIN_LOGIN_RATIO_STARTER = 1.0
MAX_SQL_PER_SIGNED_IN_GET = 0
MAX_REDIS_ROUND_TRIPS = 1
MAX_ANONYMOUS_REDIS_WRITES = 0
MAX_P99_MS = 50
TARGET_CONNECTIONS = 16

THROUGHPUT_TARGETS = ("`/dashboard` req/s", "anonymous `/auth/login` req/s")
PAGE_TITLES = {SIGNED_IN_PAGE: "signed-in `GET /dashboard`", SIGN_IN_PAGE: "anonymous `GET /auth/login`"}


@dataclass
class WrkResult:
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    wrong: int
    socket_errors: int
    timeouts: int

    @property
    def problems(self):
        return self.wrong + self.socket_errors + self.timeouts


@dataclass
class Target:
    """One app and page that wrk drives: its URL, the exact headers, what each answer must hold."""

    contender: object
    page: str
    url: str
    headers: dict
    markers: list

    @property
    def key(self):
        return (self.contender.key, self.page)


class Rounds:
    """Every run of every target, round by round, and their medians."""

    def __init__(self):
        self.runs = {}

    def add(self, key, result):
        self.runs.setdefault(key, []).append(result)

    def median(self, key):
        runs = self.runs[key]
        return WrkResult(
            requests=sum(run.requests for run in runs),
            requests_per_second=statistics.median(run.requests_per_second for run in runs),
            p50_ms=statistics.median(run.p50_ms for run in runs),
            p99_ms=statistics.median(run.p99_ms for run in runs),
            wrong=sum(run.wrong for run in runs),
            socket_errors=sum(run.socket_errors for run in runs),
            timeouts=sum(run.timeouts for run in runs),
        )

    def ratios(self, key, other):
        """Requests/s of ``key`` over those of ``other``, round by round."""
        return [
            run.requests_per_second / peer.requests_per_second
            for run, peer in zip(self.runs[key], self.runs[other], strict=True)
        ]

    def ratio(self, key, other):
        return statistics.median(self.ratios(key, other))


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds of wrk per app, page and round (default 5)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every app and page (default 5)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app (default 2)")
    parser.add_argument(
        "--count-requests", type=int, default=200, help="requests per app and page for the Redis and SQL counts"
    )
    parser.add_argument(
        "--database-url",
        help="an empty database for the project (default: a new SQLite file); e.g. postgresql://postgres@127.0.0.1/bench",
    )
    parser.add_argument(
        "--output", type=Path, default=BENCH_DIR / "RESULTS.md", help="the report (default bench/RESULTS.md)"
    )
    parser.add_argument(
        "--readme",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write the table into README.md (default: yes)",
    )
    return parser.parse_args()


def main():
    options = parse_arguments()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="session-bench-"))
    started = []
    try:
        report, readme_block = run_benchmark(options, workdir, started)
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
    if options.readme:
        write_readme_table(readme_block)
    shutil.rmtree(workdir, ignore_errors=True)


def run_benchmark(options, workdir, started):
    load_at_start = os.getloadavg()
    password = secrets.token_urlsafe(16)
    redis_server = RedisServer(workdir / "redis")
    started.append(redis_server)
    redis_server.start()
    store = redis_server.client()

    apps = all_contenders(workdir, redis_server.url, options.database_url)
    by_key = {app.key: app for app in apps}
    print("Preparing the apps and their users...", flush=True)
    for app in apps:
        app.prepare(password)

    # In-process first: a wrong count should stop the run before minutes of wrk.
    print("Counting Redis commands and SQL statements per request, in-process...", flush=True)
    in_process = {app.key: app.sign_in(WsgiBrowser(app.build()), password) for app in apps}
    costs = {app.key: counting.measure(app, store, in_process[app.key], options.count_requests) for app in apps}
    print("Timing the layers of the project's requests, in-process...", flush=True)
    layers = breakdown.measure(
        floor=in_process["floor"],
        starter=in_process["starter"],
        project=in_process["project"],
        anonymous_starter=WsgiBrowser(by_key["starter"].build(), use_cookies=False),
        anonymous_project=WsgiBrowser(by_key["project"].build(), use_cookies=False),
    )

    print("Starting the apps under gunicorn and signing in...", flush=True)
    targets = []
    for app in apps:
        server = app.server(options.workers)
        started.append(server)
        server.start()
        browser = app.sign_in(HttpBrowser(server.url), password)
        targets.append(Target(app, SIGNED_IN_PAGE, server.url + app.signed_in_path, browser.request_headers(), []))
        if app.sign_in_path:
            anonymous = proxy_headers(server.url.removeprefix("http://"))
            targets.append(Target(app, SIGN_IN_PAGE, server.url + app.sign_in_path, anonymous, []))
    for target in targets:
        target.markers = target.contender.markers(target.page)
        check_before_timing(target)

    load = Load(options)
    rounds = Rounds()
    for round_number in range(options.rounds):
        # Each round starts at another point of the list, so no app always runs
        # first, or right after the same other one, while the machine's speed drifts.
        start = round_number * len(targets) // options.rounds
        order = targets[start:] + targets[:start]
        print(f"Round {round_number + 1} of {options.rounds}...", flush=True)
        for target in order:
            rounds.add(target.key, load.run(target, warm_up=round_number == 0))
    return render_report(options, apps, rounds, costs, layers, store, load_at_start)


def check_before_timing(target):
    """One request with exactly wrk's headers: it must get the page wrk will count."""
    answer = requests.get(target.url, headers=target.headers, allow_redirects=False, timeout=30)
    expect_page(answer, 200, target.markers, f"{target.contender.label}, {PAGE_TITLES[target.page]}")


class Load:
    """wrk with the bench's settings: one warm-up on the first round, then the measured run."""

    def __init__(self, options):
        self.options = options

    def run(self, target, warm_up):
        if warm_up:
            self._wrk(target, WARMUP_SECONDS)
        result = self._wrk(target, self.options.duration)
        if result["requests"] == 0:
            raise BenchError(f"{target.contender.label}: no request finished within {self.options.duration} s")
        return WrkResult(
            requests=result["requests"],
            requests_per_second=result["requests"] / (result["duration_us"] / 1e6),
            p50_ms=result["p50_us"] / 1000,
            p99_ms=result["p99_us"] / 1000,
            wrong=result["unexpected"],
            socket_errors=result["socket_errors"],
            timeouts=result["timeouts"],
        )

    def _wrk(self, target, seconds):
        command = [
            "wrk",
            f"--threads={self.options.threads}",
            f"--connections={self.options.connections}",
            f"--duration={seconds}s",
            "--timeout=20s",
            f"--script={WRK_SCRIPT}",
        ]
        for name, value in target.headers.items():
            command += ["--header", f"{name}: {value}"]
        command += [target.url, "--", "200", *target.markers]
        finished = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
        for line in finished.stdout.splitlines():
            if line.startswith("BENCH-RESULT "):
                return json.loads(line.removeprefix("BENCH-RESULT "))
        raise BenchError(f"wrk printed no result:\n{finished.stdout}\n{finished.stderr}")


def versions(*packages):
    return ", ".join(f"{name} {importlib.metadata.version(name)}" for name in packages)


def machine_description(store, options):
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    wrk_banner = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return {
        "CPU": f"{model}, {os.cpu_count()} cores (shared: wrk, Redis and every app run on them)",
        "Python": platform.python_version(),
        "gunicorn": f"{importlib.metadata.version('gunicorn')}, the project's gunicorn.conf.py for every app: "
        f"{options.workers} workers x {GUNICORN_THREADS} threads (gthread), JSON access log",
        "Redis": f"{store.info('server')['redis_version']}, one server, a database number per app",
        "Libraries": versions("Flask", "Flask-Login", "Flask-WTF", "Flask-Session", "Flask-SQLAlchemy", "SQLAlchemy")
        + ", "
        + versions("Django", "redis", "hiredis"),
        "wrk": (wrk_banner.stdout or wrk_banner.stderr).split(" [")[0].removeprefix("wrk "),
    }


def verdict(met):
    return "**met**" if met else "**NOT met**"


def times(ratios):
    return ", ".join(f"{ratio:.2f}" for ratio in ratios)


def evaluate(options, rounds, costs):
    """Every target as ``(name, measured, met, why)``; ``why`` says what stands in the way."""
    project, starter, django = ("project", SIGNED_IN_PAGE), ("starter", SIGNED_IN_PAGE), ("django", SIGNED_IN_PAGE)
    project_login, starter_login = ("project", SIGN_IN_PAGE), ("starter", SIGN_IN_PAGE)
    signed_in, anonymous = costs["project"]["signed_in"], costs["project"]["sign_in_page"]
    targets = []
    for name, key, other, minimum in (
        ("`/dashboard` req/s, this project ÷ the typical Flask starter", project, starter, MIN_DASHBOARD_RATIO_STARTER),
        ("`/dashboard` req/s, this project ÷ Django", project, django, MIN_DASHBOARD_RATIO_DJANGO),
        (
            "anonymous `/auth/login` req/s, this project ÷ the starter's sign-in page",
            project_login,
            starter_login,
            MIN_LOGIN_RATIO_STARTER,
        ),
    ):
        ratio = rounds.ratio(key, other)
        ours, theirs = rounds.median(key).requests_per_second, rounds.median(other).requests_per_second
        cores = os.cpu_count()
        targets.append(
            (
                f"{name} >= {minimum:.1f}",
                f"{ratio:.2f} (rounds: {times(rounds.ratios(key, other))})",
                ratio >= minimum,
                f"at the peer's median {theirs:,.0f} req/s the target is {minimum * theirs:,.0f}; the project did "
                f"{ours:,.0f}. On {cores} cores that leaves a request {1000 * cores / (minimum * theirs):.2f} ms of "
                f"CPU in all (wrk, Redis and gunicorn included); it takes {1000 * cores / ours:.2f} ms now",
            )
        )
    targets += [
        (
            f"SQL statements per signed-in GET between last-seen writes = {MAX_SQL_PER_SIGNED_IN_GET}",
            f"{signed_in.sql:.2f}",
            signed_in.sql <= MAX_SQL_PER_SIGNED_IN_GET,
            f"each signed-in GET runs {signed_in.describe_sql()}",
        ),
        (
            f"Redis round trips per signed-in GET <= {MAX_REDIS_ROUND_TRIPS}",
            f"{signed_in.redis_round_trips:.2f} ({signed_in.describe_commands()})",
            signed_in.redis_round_trips <= MAX_REDIS_ROUND_TRIPS,
            f"each signed-in GET sends {signed_in.describe_commands()} in "
            f"{signed_in.redis_round_trips:.2f} round trips",
        ),
        (
            f"Redis writes per anonymous page view = {MAX_ANONYMOUS_REDIS_WRITES}",
            f"{anonymous.writes:.2f} ({anonymous.describe_commands(anonymous.redis_writes)})",
            anonymous.writes <= MAX_ANONYMOUS_REDIS_WRITES,
            f"each anonymous `GET /auth/login` writes {anonymous.describe_commands(anonymous.redis_writes)}: "
            "it stores a session (the form's CSRF secret) for every visitor",
        ),
    ]
    for key in (project, project_login):
        runs = rounds.runs[key]
        p99 = statistics.median(run.p99_ms for run in runs)
        within = sum(run.p99_ms < MAX_P99_MS for run in runs)
        comparable = options.connections == TARGET_CONNECTIONS
        targets.append(
            (
                f"p99 of {PAGE_TITLES[key[1]]} < {MAX_P99_MS} ms at {TARGET_CONNECTIONS} connections",
                f"{p99:.1f} ms in the median round; under {MAX_P99_MS} ms in {within} of {len(runs)} rounds "
                f"({', '.join(f'{run.p99_ms:.0f}' for run in runs)} ms)"
                + ("" if comparable else f", at {options.connections} connections: not comparable"),
                comparable and p99 < MAX_P99_MS,
                "latency",
            )
        )
    return targets


def explain_throughput(layers, rounds):
    """Why the project is slower than the starter, from the breakdown's layers (in ms)."""
    floor, starter, bare, signed_in, page, starter_login, project_login = (value for _, value, _ in layers)
    dashboard_vs_starter = rounds.ratio(("project", SIGNED_IN_PAGE), ("starter", SIGNED_IN_PAGE))
    return [
        f"- In-process, one thread, a signed-in `/dashboard` costs the project {page:.2f} ms and the typical "
        f"starter {starter:.2f} ms (the floor: {floor:.2f} ms). Served, the project runs at "
        f"{dashboard_vs_starter:.2f}x the starter's rate. Of the project's {page - floor:.2f} ms over the floor: "
        f"{bare - floor:.2f} ms its session, rate limiter, headers and locale (a bare route), "
        f"{signed_in - bare:.2f} ms checking the sign-in and loading the user (`login_required`), "
        f"{page - signed_in:.2f} ms the page (template, translations, CSRF token). The starter spends "
        f"{starter - floor:.2f} ms over the floor on all of that together.",
        f"- The anonymous sign-in page costs the project {project_login:.2f} ms and the starter "
        f"{starter_login:.2f} ms in-process.",
    ]


def render_report(options, apps, rounds, costs, layers, store, load_at_start):
    machine = machine_description(store, options)
    load_at_end = os.getloadavg()
    targets = evaluate(options, rounds, costs)
    missed = [target for target in targets if not target[2]]
    command = f"python bench/run.py{''.join(' ' + argument for argument in sys.argv[1:])}"

    lines = [
        "# Benchmark results",
        "",
        f"Run with `{command}` on {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
        "| Machine | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in machine.items()),
        f"| Load | {options.connections} connections, {options.threads} wrk threads, {options.duration} s per app, "
        f"page and round, {options.rounds} rounds (a {WARMUP_SECONDS} s warm-up before the first) |",
        f"| Load average (1 min) | {load_at_start[0]:.2f} at the start, {load_at_end[0]:.2f} at the end |",
        "",
    ]
    if max(load_at_start[0], load_at_end[0]) > BUSY_LOAD:
        lines += [
            f"The machine was not idle (load average up to {max(load_at_start[0], load_at_end[0]):.1f} on "
            f"{os.cpu_count()} cores): other work shared the cores with wrk and the apps, so every rate is lower "
            "and every latency higher than on an idle machine. The ratios, taken round by round, are the figures "
            "to compare.",
            "",
        ]
    lines += [
        "## Targets",
        "",
        "| Target | Measured | |",
        "|---|---|---|",
        *(f"| {name} | {measured} | {verdict(met)} |" for name, measured, met, _ in targets),
        "",
    ]
    lines += why_lines(options, missed, layers, rounds) if missed else ["Every target is met in this run.", ""]
    for page in (SIGNED_IN_PAGE, SIGN_IN_PAGE):
        lines += page_table(page, apps, rounds, costs)
    lines += [
        "## Every round",
        "",
        "Requests per second of each run. Each round runs this list once, starting at another point of it.",
        "",
        "| App, page | " + " | ".join(f"Round {n + 1}" for n in range(options.rounds)) + " |",
        "|---|" + "---:|" * options.rounds,
    ]
    for (key, page), runs in rounds.runs.items():
        label = next(app.label for app in apps if app.key == key)
        lines.append(
            f"| {label}, {PAGE_TITLES[page]} | " + " | ".join(f"{run.requests_per_second:,.0f}" for run in runs) + " |"
        )
    lines += [
        "",
        "## Where the project's time goes",
        "",
        f"`bench/breakdown.py`: median of {breakdown.BATCHES} batches of {breakdown.BATCH_SIZE} requests per layer, "
        "layers taking turns; each layer adds one part of the work to the layer it is compared with.",
        "",
        *breakdown.render(layers),
        "",
        *notes(options),
    ]
    report = "\n".join(lines) + "\n"
    when = f"{datetime.now(UTC).strftime('%Y-%m-%d')}, load average {load_at_start[0]:.1f} at the start"
    return report, readme_block(apps, rounds, costs, targets, when)


def why_lines(options, missed, layers, rounds):
    lines = ["## Why targets are not met", ""]
    reasons = []
    if any(name.startswith(THROUGHPUT_TARGETS) for name, *_ in missed):
        reasons += explain_throughput(layers, rounds)
    for name, measured, _, reason in missed:
        if reason == "latency":
            reasons.append(
                f"- {name}: {measured}. With {options.connections} connections kept busy, the mean latency is "
                f"{options.connections} ÷ requests per second (Little's law), so the p99 falls only as the rate rises."
            )
        else:
            reasons.append(f"- {re.split(' >?<?=', name)[0]}: {reason}.")
    return [*lines, *reasons, ""]


def page_table(page, apps, rounds, costs):
    signed_in = page == SIGNED_IN_PAGE
    lines = [
        f"## {PAGE_TITLES[page][0].upper()}{PAGE_TITLES[page][1:]}",
        "",
        "Requests/s, p50 and p99: the median round. This project ÷ app: the median of the rounds' own ratios. "
        "Redis and SQL: per request, counted in-process.",
        "",
        "| App | Requests/s | p50 (ms) | p99 (ms) | This project ÷ app | Redis commands | Redis round trips "
        + ("| SQL statements | Redis bytes per session " if signed_in else "| Redis writes | SQL statements ")
        + "| Wrong answers / errors |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for app in apps:
        key = (app.key, page)
        if key not in rounds.runs:
            continue
        row = rounds.median(key)
        cost = costs[app.key]["signed_in" if signed_in else "sign_in_page"]
        ratio = "" if app.key == "project" else f"{rounds.ratio(('project', page), key):.2f}"
        extra = f"{cost.sql:.2f} | {cost.session_bytes:,}" if signed_in else f"{cost.writes:.2f} | {cost.sql:.2f}"
        lines.append(
            f"| {app.label} | {row.requests_per_second:,.0f} | {row.p50_ms:.1f} | {row.p99_ms:.1f} | {ratio} "
            f"| {cost.describe_commands()} | {cost.redis_round_trips:.2f} | {extra} | {row.problems} |"
        )
    return [*lines, ""]


def notes(options):
    return [
        "## How it was measured",
        "",
        "- Every app runs under the project's `gunicorn.conf.py` and is reached as if through one TLS-terminating "
        "proxy: wrk speaks plain HTTP, every request carries `X-Forwarded-Proto: https` and `X-Forwarded-For`, and "
        "every app trusts one proxy. TLS itself is not measured. The project runs in its production configuration "
        "(Secure `__Host-` cookies, CSRF with the Referer check, Redis sessions, "
        f"{'PostgreSQL' if (options.database_url or '').startswith('postgres') else 'SQLite'}); the Flask peers and "
        "Django use SQLite.",
        "- Signed-in runs send the cookies each app gave its browser at sign-in and on a first visit of the "
        "dashboard; anonymous runs send no cookie, so every request is a new visitor.",
        "- Before timing, one request with wrk's exact headers must get the signed-in page (or the sign-in "
        "page). During timing, wrk checks every answer for the status 200, the user's name, the sign-out form and "
        "its CSRF field (the sign-in page: the CSRF and password fields); any other answer is counted in the last "
        "column.",
        "- The peers (`bench/peers/`) serve pages equivalent to the project's: the same facts, nav, sign-out form "
        "with a CSRF token, stylesheet and security headers, sizes within 5% "
        "(`tests/test_bench_reference_apps.py` checks this). The bare floor answers one line.",
        f"- Redis and SQL counts: {options.count_requests} requests per app and page through Werkzeug's test "
        "client in the bench's process, after 20 unmeasured ones; Redis commands from `INFO commandstats` on the "
        "bench's redis-server, writes being the commands of Redis's `@write` category, round trips counted in "
        "redis-py (a pipeline is one), SQL statements from SQLAlchemy's `before_cursor_execute` and Django's "
        "`execute_wrapper`. The signed-in requests run right after the sign-in, within the project's "
        "`LAST_SEEN_RESOLUTION` (a minute): they are requests between last-seen writes. Django's default "
        "`CONN_MAX_AGE = 0` also opens a database "
        "connection per request, which no statement count shows.",
        "- Redis bytes per session: `MEMORY USAGE` of the keys one signed-in request touches. The cookie "
        "apps keep their session in the browser: 0 bytes in Redis.",
        "- wrk measures latency from when it sends each request (closed loop): p99 under overload understates "
        "what users would see.",
    ]


def readme_block(apps, rounds, costs, targets, when):
    lines = [
        f"Run on {when}:",
        "",
        "| App | `/dashboard` req/s | p99 (ms) | This project ÷ app | `/auth/login` req/s | p99 (ms) "
        "| This project ÷ app | Redis commands per signed-in GET | SQL per signed-in GET | Redis bytes per session |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for app in apps:
        cells = []
        for page in (SIGNED_IN_PAGE, SIGN_IN_PAGE):
            key = (app.key, page)
            if key not in rounds.runs:
                cells += ["", "", ""]
                continue
            row = rounds.median(key)
            ratio = "" if app.key == "project" else f"{rounds.ratio(('project', page), key):.2f}"
            cells += [f"{row.requests_per_second:,.0f}", f"{row.p99_ms:.1f}", ratio]
        cost = costs[app.key]["signed_in"]
        cells += [cost.describe_commands(), f"{cost.sql:.2f}", f"{cost.session_bytes:,}"]
        lines.append(f"| {app.label} | " + " | ".join(cells) + " |")
    lines += ["", "| Target | Measured | |", "|---|---|---|"]
    lines += [f"| {name} | {measured} | {verdict(met)} |" for name, measured, met, _ in targets]
    return "\n".join(lines)


def write_readme_table(block):
    text = README.read_text()
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        print(f"README.md has no {README_START} ... {README_END} block: not updated", file=sys.stderr)
        return
    README.write_text(pattern.sub(lambda _: f"{README_START}\n{block}\n{README_END}", text))
    print("README.md table updated")


if __name__ == "__main__":
    main()
