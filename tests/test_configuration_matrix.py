"""Every documented setting a user may flip boots and serves a whole visit with no 5xx.

Kind of fault: a supported setting that was never booted. ``FLASK_RATELIMIT_ENABLED=false``
(Flask-Limiter's own switch) turned every sign-in into a 500. Each row below is set the
way a user sets it, as environment variables read by ``load_config``, and the app then
walks sign-up, sign-in with and without remember-me, dashboard, devices, password change
and sign-out, over HTTPS with the production cookies.
"""

import shutil

import pytest
import redis

from app import create_app
from app.extensions import db
from tests.conftest import csrf_token_from
from tests.support.processes import RedisCluster, RedisSentinel, RedisServer
from tests.support.tools import require

SECRET_KEY = "Matrix-7d2b0c9e4f1a8b3c6d5e2f0a9b8c7d6e"
OLD_KEY = "Matrix-old-1f2e3d4c5b6a79880716253443526170"
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "another long passphrase here"

# (row name, environment). "{redis}", "{limits_redis}", "{sentinel}" and "{cluster}" are filled in.
MATRIX = [
    ("production defaults", {}),
    ("rate limits off", {"FLASK_RATELIMIT_ENABLED": "false"}),
    ("rate limits on", {"FLASK_RATELIMIT_ENABLED": "true"}),
    ("limiter errors raised", {"FLASK_RATELIMIT_SWALLOW_ERRORS": "false"}),
    ("no in-memory fallback", {"FLASK_RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": "false"}),
    ("fixed-window limits", {"FLASK_RATELIMIT_STRATEGY": "fixed-window"}),
    ("no rate-limit headers", {"FLASK_RATELIMIT_HEADERS_ENABLED": "false"}),
    ("separate rate-limit Redis", {"RATE_LIMIT_REDIS_URL": "{limits_redis}"}),
    ("Redis through Sentinel", {"REDIS_URL": "{sentinel}"}),
    ("Redis Cluster", {"REDIS_URL": "{cluster}"}),
    ("one trusted proxy", {"FLASK_TRUSTED_PROXIES": "1"}),
    ("two trusted proxies", {"FLASK_TRUSTED_PROXIES": "2"}),
    ("trusted hosts set", {"FLASK_TRUSTED_HOSTS": '["localhost"]'}),
    ("trusted hosts unset", {"FLASK_TRUSTED_HOSTS": "null"}),
    ("key fallbacks", {"FLASK_SECRET_KEY_FALLBACKS": f'["{OLD_KEY}"]'}),
    ("sessions refreshed each request", {"FLASK_SESSION_REFRESH_EACH_REQUEST": "true"}),
    ("remember cookie refreshed", {"FLASK_REMEMBER_COOKIE_REFRESH_EACH_REQUEST": "true"}),
    ("no Referer check", {"FLASK_WTF_CSRF_SSL_STRICT": "false"}),
    ("short timeouts", {"FLASK_IDLE_TIMEOUT": "120", "FLASK_PERMANENT_SESSION_LIFETIME": "600"}),
    ("development, embedded store", {"APP_ENV": "development", "REDIS_URL": ""}),
    ("development with Redis", {"APP_ENV": "development"}),
]


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Redis for sessions, a second one for counters, a sentinel watching the first, a cluster."""
    require(
        shutil.which("redis-server") is not None and shutil.which("redis-cli") is not None,
        "redis-server or redis-cli not found: apt-get install redis-server",
    )
    directory = tmp_path_factory.mktemp("matrix")
    started = []
    try:
        for server in (RedisServer(directory / "sessions"), RedisServer(directory / "limits")):
            started.append(server.start())
        started.append(RedisSentinel(directory / "sentinel", started[0].port).start())
        started.append(RedisCluster(directory / "cluster").start())
        yield {"redis": started[0].url, "limits_redis": started[1].url, "sentinel": started[2].url}, started[3]
    finally:
        for server in reversed(started):
            server.stop()


@pytest.fixture
def configured_app(servers, monkeypatch, tmp_path, request):
    urls, cluster = servers
    environment = {
        "APP_ENV": "production",
        "FLASK_SECRET_KEY": SECRET_KEY,
        "REDIS_URL": "{redis}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "FLASK_PASSWORD_HASH_TIME_COST": "1",
        "FLASK_PASSWORD_HASH_MEMORY_COST": "8192",
        "FLASK_PASSWORD_HASH_PARALLELISM": "1",
        **request.param,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value.format(**urls, cluster=cluster.url))
    app = create_app(instance_path=tmp_path / "instance")
    with app.app_context():
        db.create_all()
    yield app
    for url in urls.values():
        if not url.startswith("redis+sentinel"):
            redis.Redis.from_url(url).flushall()
    for node in cluster.nodes:
        node.client().flushall()


class Visit:
    """A browser on the site, with the headers a browser behind the configured proxies sends."""

    def __init__(self, app):
        self.app = app
        secure = app.config["SESSION_COOKIE_SECURE"]
        self.origin = f"{'https' if secure else 'http'}://localhost"
        self.client = app.test_client()
        self.headers = {"Referer": self.origin + "/", "User-Agent": "Mozilla/5.0 Firefox/133.0"}
        if app.config["TRUSTED_PROXIES"]:
            hops = ["198.51.100.7:51000"] + ["10.0.0.2"] * (app.config["TRUSTED_PROXIES"] - 1)
            self.headers["X-Forwarded-For"] = ", ".join(hops)
            self.headers["X-Forwarded-Proto"] = "https" if secure else "http"
        self.statuses = []

    def get(self, path):
        response = self.client.get(path, base_url=self.origin, headers=self.headers)
        self.statuses.append((path, response.status_code))
        return response

    def post(self, path, form_page, **fields):
        token = csrf_token_from(self.get(form_page))
        response = self.client.post(
            path, base_url=self.origin, headers=self.headers, data={"csrf_token": token, **fields}
        )
        self.statuses.append((path, response.status_code))
        return response


@pytest.mark.parametrize("configured_app", [row for _, row in MATRIX], ids=[name for name, _ in MATRIX], indirect=True)
def test_the_setting_boots_and_serves_a_whole_visit(configured_app):
    visit = Visit(configured_app)
    remember_cookie = configured_app.config["REMEMBER_COOKIE_NAME"]
    session_cookie = configured_app.config["SESSION_COOKIE_NAME"]
    assert visit.get("/").status_code == 200
    registered = visit.post("/auth/register", "/auth/register", username="alice", password=PASSWORD, confirm=PASSWORD)
    assert registered.status_code == 303
    assert visit.post("/auth/logout", "/dashboard").status_code == 303

    assert visit.post("/auth/login", "/auth/login", username="alice", password=PASSWORD).status_code == 303
    assert visit.get("/dashboard").status_code == 200
    assert visit.get("/account/sessions").status_code == 200
    changed = visit.post(
        "/account/password",
        "/account/password",
        current_password=PASSWORD,
        new_password=NEW_PASSWORD,
        confirm=NEW_PASSWORD,
    )
    assert changed.status_code == 303
    assert visit.post("/auth/logout", "/dashboard").status_code == 303
    assert visit.get("/dashboard").status_code == 302

    signed_in = visit.post("/auth/login", "/auth/login", username="alice", password=NEW_PASSWORD, remember="y")
    assert signed_in.status_code == 303
    visit.client.delete_cookie(session_cookie)
    assert visit.client.get_cookie(remember_cookie) is not None
    assert visit.get("/dashboard").status_code == 200, "the remember-me cookie did not restore the sign-in"
    assert visit.post("/auth/logout", "/dashboard").status_code == 303
    assert visit.get("/dashboard").status_code == 302
    assert [step for step in visit.statuses if step[1] >= 500] == []
