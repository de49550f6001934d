"""Where the project's requests spend their time, one layer at a time.

wrk says how fast each served page is; this says why. In the bench's own process,
with no HTTP server and no other load, it times requests through Werkzeug's test
client, each layer compared with the one it adds to:

1. the bare floor's one route (Flask's signed-cookie session);
2. the typical Flask starter's ``/dashboard``, compared with 1;
3. a bare route of the project: its Redis session, rate limiter, security headers
   and locale, but no sign-in and no page, compared with 1;
4. the same route behind ``login_required``: the sign-in checked and its user
   loaded, compared with 3;
5. the project's ``/dashboard``: the page, its translations and its CSRF token,
   compared with 4;
6. the starter's anonymous ``/auth/login``, compared with 1;
7. the project's anonymous ``/auth/login``, compared with 6.

The probe routes of 3 and 4 exist only on the in-process copy of the project, never
on the one wrk measures. The test client's own cost is in every layer alike, so the
differences between layers are what each part adds. Layers take turns in short
batches and each figure is the median batch: the machine's speed can change within
seconds.
"""

import statistics
import time
from dataclasses import dataclass, field

from flask_login import login_required

BATCHES = 15
BATCH_SIZE = 100
WARMUP_BATCHES = 1
PROBE_PATH = "/_bench/bare"
SIGNED_IN_PROBE_PATH = "/_bench/signed-in"


def add_probe_routes(app):
    """The bare routes of layers 3 and 4, on an in-process copy of the project."""
    app.add_url_rule(PROBE_PATH, "bench_bare", _bare)
    app.add_url_rule(SIGNED_IN_PROBE_PATH, "bench_signed_in", login_required(_bare))


def _bare():
    return "ok\n"


@dataclass
class Layer:
    label: str
    browser: object
    path: str
    compared_with: int | None = None
    batch_ms: list = field(default_factory=list)

    def time_batch(self):
        start = time.perf_counter()
        for _ in range(BATCH_SIZE):
            answer = self.browser.get(self.path)
            if answer.status_code != 200:
                raise RuntimeError(f"{self.label}: {self.path} answered {answer.status_code}")
        self.batch_ms.append((time.perf_counter() - start) * 1000 / BATCH_SIZE)


def measure(floor, starter, project, anonymous_starter, anonymous_project):
    """Median milliseconds per request of each layer, as ``[(label, ms, compared_with), ...]``.

    Each argument is a browser (``bench.contenders.WsgiBrowser``): the first three
    signed in, the last two without cookies.
    """
    layers = [
        Layer("1. Bare floor: one route, signed-cookie session", floor, "/"),
        Layer("2. Typical Flask starter, `/dashboard`", starter, "/dashboard", 0),
        Layer("3. Project, a bare route (Redis session, rate limiter, headers, locale)", project, PROBE_PATH, 0),
        Layer("4. Project, the same route behind `login_required` (sign-in checked)", project, SIGNED_IN_PROBE_PATH, 2),
        Layer("5. Project, `/dashboard` (template, translations, CSRF token)", project, "/dashboard", 3),
        Layer("6. Typical Flask starter, anonymous `/auth/login`", anonymous_starter, "/auth/login", 0),
        Layer("7. Project, anonymous `/auth/login`", anonymous_project, "/auth/login", 5),
    ]
    for layer in layers:
        for _ in range(WARMUP_BATCHES):
            layer.time_batch()
        layer.batch_ms.clear()
    for _ in range(BATCHES):
        for layer in layers:
            layer.time_batch()
    return [(layer.label, statistics.median(layer.batch_ms), layer.compared_with) for layer in layers]


def render(layers):
    """The markdown table of the layers."""
    lines = [
        "| Layer (in-process, Werkzeug test client, one thread) | ms per request | Added (ms) | Compared with |",
        "|---|---:|---:|---:|",
    ]
    for label, milliseconds, compared_with in layers:
        if compared_with is None:
            lines.append(f"| {label} | {milliseconds:.2f} | | |")
        else:
            added = milliseconds - layers[compared_with][1]
            lines.append(f"| {label} | {milliseconds:.2f} | {added:+.2f} | {compared_with + 1} |")
    return lines
