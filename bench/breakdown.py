"""Where a signed-in dashboard request spends its time, one layer at a time.

wrk says how fast the served dashboard is; this says why. In the bench's own
process, with no HTTP server and no other load, it times requests through Flask's
test client:

1. the baseline route (Flask's signed-cookie session);
2. the same route with Flask-Session on Redis, compared with 1;
3. a bare route of the app itself: its Redis session, rate limiter, security headers
   and locale, but no sign-in and no page, compared with 1;
4. the same route behind ``login_required``: the sign-in and its user loaded from
   SQL, compared with 3;
5. the dashboard: the page, its translations and its CSRF token, compared with 4.

The extra routes exist only on the copy of the app built here, never on the one
wrk measures. The test client's own cost is in every layer alike, so the
differences between layers are what each part adds. Layers take turns in short
batches and each figure is the median batch, for the reason ``bench/run.py`` runs
rounds: the machine's speed can change within seconds.
"""

import os
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask_login import login_required

from bench.baseline_app import create_app as create_baseline_app
from bench.baseline_app import create_redis_app as create_redis_reference_app
from bench.baseline_app import session_cookie

BASE_URL = "https://localhost"
BATCHES = 15
BATCH_SIZE = 100
WARMUP_REQUESTS = 100


@dataclass
class Layer:
    label: str
    client: object
    path: str
    headers: dict
    compared_with: int | None = None
    batch_ms: list = field(default_factory=list)

    def time_batch(self):
        start = time.perf_counter()
        for _ in range(BATCH_SIZE):
            answer = self.client.get(self.path, base_url=BASE_URL, headers=self.headers)
            if answer.status_code != 200:
                raise RuntimeError(f"{self.label}: {self.path} answered {answer.status_code}")
        self.batch_ms.append((time.perf_counter() - start) * 1000 / BATCH_SIZE)


@contextmanager
def environment(settings):
    """The app's settings as environment variables, for as long as the app is built."""
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def measure(settings, instance_path, redis_url, secret_key, sign_in, proxy_headers):
    """Median milliseconds per request of each layer, as ``[(label, ms, compared_with), ...]``.

    ``sign_in(client)`` signs the test client in through the app's real form.
    """
    with environment(settings):
        from app import create_app

        app = create_app(instance_path=instance_path)
    app.add_url_rule("/_bench/bare", "bench_bare", _bare)
    app.add_url_rule("/_bench/signed-in", "bench_signed_in", login_required(_bare))
    signed_in = app.test_client()
    sign_in(signed_in)

    baseline = create_baseline_app(secret_key)
    reference = create_redis_reference_app(secret_key, redis_url)
    layers = [
        _layer("1. Baseline route (signed-cookie session)", baseline, "/", session_cookie(baseline, "bench")),
        _layer("2. The same route, Flask-Session on Redis", reference, "/", session_cookie(reference, "bench"), 0),
        Layer(
            "3. The app, a bare route (Redis session, rate limiter, headers, locale)",
            signed_in,
            "/_bench/bare",
            proxy_headers,
            compared_with=0,
        ),
        Layer(
            "4. The app, the same route behind `login_required` (sign-in and user from SQL)",
            signed_in,
            "/_bench/signed-in",
            proxy_headers,
            compared_with=2,
        ),
        Layer(
            "5. The app, `/dashboard` (template, translations, CSRF token)",
            signed_in,
            "/dashboard",
            proxy_headers,
            compared_with=3,
        ),
    ]
    for layer in layers:
        for _ in range(WARMUP_REQUESTS // BATCH_SIZE):
            layer.time_batch()
        layer.batch_ms.clear()
    for _ in range(BATCHES):
        for layer in layers:
            layer.time_batch()
    return [(layer.label, statistics.median(layer.batch_ms), layer.compared_with) for layer in layers]


def _layer(label, app, path, cookie, compared_with=None):
    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie, domain="localhost")
    return Layer(label, client, path, {}, compared_with)


def _bare():
    return "ok\n"


def render(layers):
    """The markdown table of the layers."""
    lines = [
        "| Layer (in-process, Flask test client, one thread) | ms per request | Added (ms) | Compared with |",
        "|---|---:|---:|---:|",
    ]
    for label, milliseconds, compared_with in layers:
        if compared_with is None:
            lines.append(f"| {label} | {milliseconds:.2f} | | |")
        else:
            added = milliseconds - layers[compared_with][1]
            lines.append(f"| {label} | {milliseconds:.2f} | {added:+.2f} | {compared_with + 1} |")
    return lines
