"""docker-compose.yml, the Dockerfile and gunicorn.conf.py agree with the app.

No Docker engine runs in CI, so these checks read the files: the services exist,
their variables are ones the app reads, and the health checks hit real routes.
"""

import re
from pathlib import Path

import pytest
import yaml

from app import create_app
from config import BaseConfig
from tests.support.tools import require

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ENV = {
    "FLASK_SECRET_KEY": "c0mp0se-t3st-k3y-7f3a9b2c4d6e8f1a3b5c7d9e",
    "REDIS_PASSWORD": "redis-pw",
    "POSTGRES_PASSWORD": "db-pw",
}


def interpolate(value):
    """Resolve ${NAME}, ${NAME:?message} and ${NAME:-default} the way compose does."""

    def resolve(match):
        name, _, default = match.group(1).partition(":")
        return SAMPLE_ENV.get(name, default[1:] if default.startswith("-") else "")

    return re.sub(r"\$\{([^}]+)\}", resolve, value)


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_expected_services(compose):
    assert set(compose["services"]) == {"proxy", "init-db", "web", "redis", "db"}


def test_web_environment_builds_a_production_app(compose, monkeypatch, tmp_path):
    environment = {key: interpolate(str(value)) for key, value in compose["services"]["web"]["environment"].items()}
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("config.load_dotenv", lambda: None)
    app = create_app(instance_path=tmp_path)
    assert app.config["APP_ENV"] == "production"
    assert app.config["REDIS_URL"] == "redis://:redis-pw@redis:6379/0"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://app:db-pw@db:5432/app"
    assert app.config["TRUSTED_PROXIES"] == 1
    assert app.config["TRUSTED_HOSTS"] == ["localhost"]


def test_every_web_variable_is_one_the_app_reads(compose):
    for name in compose["services"]["web"]["environment"]:
        setting = name.removeprefix("FLASK_")
        assert name in ("APP_ENV", "REDIS_URL", "DATABASE_URL") or hasattr(BaseConfig, setting), name


def test_secrets_are_required_not_defaulted(compose):
    environment = compose["services"]["web"]["environment"]
    assert environment["FLASK_SECRET_KEY"].startswith("${FLASK_SECRET_KEY:?")


def test_redis_persists_and_needs_a_password(compose):
    redis = compose["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert "--requirepass" in command
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
    assert "healthcheck" in redis


def test_database_keeps_its_data_and_has_a_health_check(compose):
    db = compose["services"]["db"]
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_two_web_replicas_run_behind_the_proxy(compose):
    assert compose["services"]["web"]["deploy"]["replicas"] == 2
    assert "ports" not in compose["services"]["web"]


def test_web_waits_for_the_schema_and_the_proxy_for_a_healthy_web(compose):
    assert compose["services"]["web"]["depends_on"]["init-db"]["condition"] == "service_completed_successfully"
    assert compose["services"]["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert compose["services"]["init-db"]["command"][-1] == "init-db"


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
    for part in ("app", "templates", "static", "config.py", "wsgi.py", "gunicorn.conf.py"):
        assert re.search(rf"^COPY .*\b{re.escape(part)}\b", dockerfile, re.MULTILINE), part


def test_caddy_accepts_the_caddyfile():
    """The real Caddy parses the proxy config (CI installs Debian's caddy)."""
    import json
    import shutil
    import subprocess

    caddy = shutil.which("caddy")
    require(caddy is not None, "caddy is not installed (apt-get install caddy)")
    result = subprocess.run(
        [caddy, "adapt", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    route = json.loads(result.stdout)["apps"]["http"]["servers"]["srv0"]["routes"][0]
    proxy = route["handle"][0]["routes"][0]["handle"][0]
    assert proxy["dynamic_upstreams"] == {"name": "web", "port": "8000", "refresh": 5_000_000_000, "source": "a"}
    assert proxy["health_checks"]["active"]["uri"] == "/healthz"
