"""The benchmark's reference apps measure what they claim to (bench/baseline_app.py).

If the baseline stopped reading its session, or the Redis reference read more than
its one key, every share in bench/RESULTS.md would compare against the wrong floor.
"""

import redis

from bench.baseline_app import create_app, create_redis_app, session_cookie

KEY = "bench-test-key-0123456789abcdef0123456789abcdef"


def whoami(app, cookie=None):
    client = app.test_client()
    if cookie is not None:
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return client.get("/").text


def test_baseline_reads_the_name_from_its_signed_cookie():
    app = create_app(KEY)
    cookie = session_cookie(app, "bench")

    assert whoami(app, cookie) == "Signed in as bench\n"
    assert whoami(app) == "Signed in as nobody\n"
    # The signature is checked on every request: that cost is part of the baseline.
    assert whoami(app, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")) == "Signed in as nobody\n"


def test_redis_reference_reads_its_session_with_one_get_and_nothing_else(redis_url):
    app = create_redis_app(KEY, redis_url)
    cookie = session_cookie(app, "bench")
    server = redis.Redis.from_url(redis_url)
    assert server.exists(f"baseline:{cookie}")

    server.config_resetstat()
    requests = 20
    for _ in range(requests):
        assert whoami(app, cookie) == "Signed in as bench\n"
    calls = {
        name.removeprefix("cmdstat_"): stats["calls"]
        for name, stats in server.info("commandstats").items()
        if not name.startswith(("cmdstat_info", "cmdstat_config"))
    }
    server.flushdb()

    assert calls == {"get": requests}
