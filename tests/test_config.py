"""Configuration: production refuses unsafe settings; development needs nothing."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from app import create_app
from config import (
    OTHER_VARIABLES,
    DevelopmentConfig,
    InsecureConfigError,
    ProductionConfig,
    TestingConfig,
    load_config,
    parse_node_list_url,
)

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "Zq8vN2rT5wY1bC4eG7jK0mP3sU6xA9dF"


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("FLASK_") or name in OTHER_VARIABLES:
            monkeypatch.delenv(name)
    # A developer's .env must not leak into these tests.
    monkeypatch.setattr("config.load_dotenv", lambda: None)
    return monkeypatch


def production_env(**changes):
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("FLASK_") and key not in OTHER_VARIABLES
    }
    env.update(APP_ENV="production", FLASK_SECRET_KEY=STRONG_KEY, REDIS_URL="redis://127.0.0.1:6379/0")
    env.update(changes)
    return {key: value for key, value in env.items() if value is not None}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"FLASK_SECRET_KEY": None}, "FLASK_SECRET_KEY is not set"),
        ({"FLASK_SECRET_KEY": "too-short-key"}, "shorter than 32 bytes"),
        ({"FLASK_SECRET_KEY": "replace-with-a-long-random-value-0123456789"}, "placeholder"),
        ({"FLASK_SECRET_KEY": "a" * 40}, "too repetitive"),
        ({"REDIS_URL": None}, "REDIS_URL is not set"),
        ({"FLASK_SESSION_COOKIE_SECURE": "false"}, "SESSION_COOKIE_SECURE is off"),
        ({"APP_ENV": "staging"}, "is not one of"),
        ({"FLASK_SECRET_KEY": None, "FLASK_SECRET_KEY_FILE": "/no/such/file"}, "cannot read FLASK_SECRET_KEY_FILE"),
        ({"REDIS_URL": "redis+cluster://10.0.0.1:7000/0"}, "REDIS_URL names no database"),
    ],
)
def test_production_refuses_to_start_with_one_clear_line(tmp_path, changes, reason):
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=tmp_path,
        env={**production_env(**changes), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Refusing to start:")
    assert reason in lines[0]


def test_production_is_the_default_environment(clean_env, tmp_path):
    with pytest.raises(InsecureConfigError):
        create_app(instance_path=tmp_path)


def test_production_starts_with_strong_settings(clean_env, tmp_path):
    clean_env.setenv("FLASK_SECRET_KEY", STRONG_KEY)
    clean_env.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # never contacted at start-up
    app = create_app(instance_path=tmp_path)
    assert app.config["APP_ENV"] == "production"
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["SESSION_TYPE"] == "redis"
    assert not app.debug


def test_flask_prefixed_variables_override_any_setting(clean_env, tmp_path):
    clean_env.setenv("FLASK_LOGIN_RATE_LIMIT", "3/minute")
    clean_env.setenv("FLASK_MAX_CONTENT_LENGTH", "4096")
    app = create_app({"APP_ENV": "testing", "SECRET_KEY": STRONG_KEY}, instance_path=tmp_path)
    assert app.config["LOGIN_RATE_LIMIT"] == "3/minute"
    assert app.config["MAX_CONTENT_LENGTH"] == 4096


def test_database_url_selects_psycopg_for_postgresql(clean_env, tmp_path):
    clean_env.setenv("DATABASE_URL", "postgresql://app@db/app")
    app = create_app({"APP_ENV": "testing", "SECRET_KEY": STRONG_KEY}, instance_path=tmp_path)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://app@db/app"


def test_development_generates_a_key_once_and_keeps_it(clean_env, tmp_path, caplog):
    clean_env.setenv("APP_ENV", "development")
    first = create_app(instance_path=tmp_path)
    assert "generated a development key" in caplog.text
    second = create_app(instance_path=tmp_path)
    assert len(first.secret_key) == 64
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_development_without_redis_uses_the_embedded_store(clean_env, tmp_path):
    clean_env.setenv("APP_ENV", "development")
    app = create_app(instance_path=tmp_path)
    assert app.config["SESSION_TYPE"] == "cachelib"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert "redis" not in app.extensions


def test_only_development_relaxes_cookie_security():
    assert ProductionConfig.SESSION_COOKIE_SECURE and TestingConfig.SESSION_COOKIE_SECURE
    assert ProductionConfig.SESSION_COOKIE_NAME == TestingConfig.SESSION_COOKIE_NAME == "__Host-session"
    assert not DevelopmentConfig.SESSION_COOKIE_SECURE
    for config in (ProductionConfig, TestingConfig, DevelopmentConfig):
        assert config.SESSION_COOKIE_HTTPONLY and config.SESSION_COOKIE_SAMESITE == "Lax"
        assert config.WTF_CSRF_ENABLED


def test_forwarded_headers_are_ignored_without_trusted_proxies(make_app):
    app = make_app()

    @app.get("/whoami")
    def whoami():
        from flask import request

        return {"ip": request.remote_addr, "secure": request.is_secure}

    response = app.test_client().get(
        "/whoami", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    )
    assert response.get_json() == {"ip": "127.0.0.1", "secure": False}


def test_one_trusted_proxy_gives_the_real_client_address_and_scheme(make_app):
    app = make_app(TRUSTED_PROXIES=1)

    @app.get("/whoami")
    def whoami():
        from flask import request

        return {"ip": request.remote_addr, "secure": request.is_secure}

    headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9", "X-Forwarded-Proto": "https"}
    response = app.test_client().get("/whoami", headers=headers)
    # Only the entry added by our proxy counts; the client's own claim is ignored.
    assert response.get_json() == {"ip": "203.0.113.9", "secure": True}


def test_lifetimes_can_be_given_in_seconds(clean_env, tmp_path):
    from datetime import timedelta

    clean_env.setenv("FLASK_PERMANENT_SESSION_LIFETIME", "600")
    clean_env.setenv("FLASK_REMEMBER_COOKIE_DURATION", "86400")
    app = create_app({"APP_ENV": "testing", "SECRET_KEY": STRONG_KEY}, instance_path=tmp_path)
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=10)
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=1)


def secret_file(tmp_path, name, value):
    path = tmp_path / name
    path.write_text(value + "\n")  # a trailing newline, as editors and `echo` leave one
    return str(path)


def test_secrets_can_come_from_files(clean_env, tmp_path):
    """The compose way (deploy/make-secrets.sh): no secret in any variable."""
    password = "p@ss:w/rd%?#"  # every character that means something in a URL
    clean_env.setenv("FLASK_SECRET_KEY_FILE", secret_file(tmp_path, "key", STRONG_KEY))
    clean_env.setenv("REDIS_URL", "redis://redis:6379/0")
    clean_env.setenv("REDIS_PASSWORD_FILE", secret_file(tmp_path, "redis", password))
    clean_env.setenv("DATABASE_URL", "postgresql://app@db:5432/app")
    clean_env.setenv("DATABASE_PASSWORD_FILE", secret_file(tmp_path, "db", password))
    app = create_app(instance_path=tmp_path)
    config = app.config
    assert config["SECRET_KEY"] == STRONG_KEY
    assert "SECRET_KEY_FILE" not in config
    # Both Redis users (sessions, rate limiter) and SQLAlchemy get the password back intact.
    assert app.extensions["redis"].connection_pool.connection_kwargs["password"] == password
    assert config["RATELIMIT_STORAGE_URI"] == config["REDIS_URL"]
    database_url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    assert (database_url.drivername, database_url.username, database_url.password) == (
        "postgresql+psycopg",
        "app",
        password,
    )


def test_the_mail_password_can_come_from_a_file(clean_env, tmp_path):
    clean_env.setenv("FLASK_SECRET_KEY", STRONG_KEY)
    clean_env.setenv("REDIS_URL", "redis://redis:6379/0")
    clean_env.setenv("MAIL_PASSWORD_FILE", secret_file(tmp_path, "mail", "p@ss w/rd"))
    app = create_app(instance_path=tmp_path)
    assert app.config["MAIL_PASSWORD"] == "p@ss w/rd"
    assert app.extensions["mailman"].password == "p@ss w/rd"
    assert "MAIL_PASSWORD_FILE" not in app.config


@pytest.mark.parametrize(
    "url", ["example.org", "ftp://example.org", "https://", "https://example.org/?next=x", "https://example.org/#top"]
)
def test_a_public_base_url_links_cannot_be_built_from_is_refused(clean_env, tmp_path, url):
    clean_env.setenv("FLASK_SECRET_KEY", STRONG_KEY)
    clean_env.setenv("REDIS_URL", "redis://redis:6379/0")
    clean_env.setenv("FLASK_PUBLIC_BASE_URL", url)
    with pytest.raises(InsecureConfigError, match="PUBLIC_BASE_URL"):
        create_app(instance_path=tmp_path)


def test_old_keys_can_come_from_a_file_one_per_line(clean_env, tmp_path):
    clean_env.setenv("FLASK_SECRET_KEY", STRONG_KEY)
    clean_env.setenv("REDIS_URL", "redis://redis:6379/0")
    clean_env.setenv("FLASK_SECRET_KEY_FALLBACKS_FILE", secret_file(tmp_path, "old", "newer-old-key\nolder-old-key"))
    config = create_app(instance_path=tmp_path).config
    assert config["SECRET_KEY_FALLBACKS"] == ["newer-old-key", "older-old-key"]
    assert "SECRET_KEY_FALLBACKS_FILE" not in config
    # No rotation going on: an empty file is no fallback at all.
    clean_env.setenv("FLASK_SECRET_KEY_FALLBACKS_FILE", secret_file(tmp_path, "none", ""))
    assert create_app(instance_path=tmp_path).config["SECRET_KEY_FALLBACKS"] == []


@pytest.mark.parametrize(
    ("variables", "reason"),
    [
        ({"FLASK_SECRET_KEY": STRONG_KEY, "FLASK_SECRET_KEY_FILE": "key"}, "not both"),
        ({"FLASK_SECRET_KEY_FALLBACKS": '["old"]', "FLASK_SECRET_KEY_FALLBACKS_FILE": "key"}, "not both"),
        ({"FLASK_SECRET_KEY_FILE": "empty"}, "is empty"),
        ({"FLASK_SECRET_KEY_FILE": "missing"}, "cannot read FLASK_SECRET_KEY_FILE"),
        ({"REDIS_URL": None, "REDIS_PASSWORD_FILE": "key"}, "REDIS_PASSWORD_FILE is set but REDIS_URL is not"),
        ({"REDIS_URL": "redis://:old@redis:6379/0", "REDIS_PASSWORD_FILE": "key"}, "holds a password already"),
        ({"DATABASE_URL": "postgresql://app:old@db/app", "DATABASE_PASSWORD_FILE": "key"}, "not both"),
    ],
)
def test_ambiguous_or_unreadable_secret_files_stop_the_start(clean_env, tmp_path, variables, reason):
    files = {"key": secret_file(tmp_path, "key", STRONG_KEY), "empty": secret_file(tmp_path, "empty", "")}
    files["missing"] = str(tmp_path / "missing")
    settings = {"FLASK_SECRET_KEY": STRONG_KEY, "REDIS_URL": "redis://redis:6379/0", **variables}
    for name, value in settings.items():
        if value is None:
            continue
        clean_env.setenv(name, files.get(value, value) if name.endswith("_FILE") else value)
    if "FLASK_SECRET_KEY_FILE" in variables and "FLASK_SECRET_KEY" not in variables:
        clean_env.delenv("FLASK_SECRET_KEY")
    with pytest.raises(InsecureConfigError, match=reason):
        create_app(instance_path=tmp_path)


def test_only_development_relaxes_the_sign_up_limit():
    assert ProductionConfig.REGISTER_RATE_LIMIT == TestingConfig.REGISTER_RATE_LIMIT == "10/hour"
    assert DevelopmentConfig.REGISTER_RATE_LIMIT == "100/hour"


def test_make_run_takes_a_port():
    commands = subprocess.run(
        ["make", "--dry-run", "--always-make", "run", "PORT=5123"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--port 5123" in commands


def loaded_config(tmp_path):
    """The config ``create_app`` would get, without making the app: no Redis is contacted."""
    app = Flask(__name__, instance_path=str(tmp_path))
    load_config(app)
    return app.config


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("redis+cluster://10.0.0.1", "needs host:port for every node (node 1 of 1 lacks it)"),
        ("redis+cluster://10.0.0.1:7000,10.0.0.2", "needs host:port for every node (node 2 of 2 lacks it)"),
        ("redis+cluster://10.0.0.1:7000,", "needs host:port for every node (node 2 of 2 lacks it)"),
        ("redis+cluster://:secret@10.0.0.1:seven", "needs host:port for every node"),
        ("redis+cluster://:se/cret@10.0.0.1:7000", "needs host:port for every node"),
        ("redis+cluster://10.0.0.1:70000", "needs host:port for every node"),
        ("redis+cluster://10.0.0.1:7000/0", "names no database"),
        ("redis+cluster://10.0.0.1:7000?ssl=true", "takes no options"),
        ("redis+sentinel://10.0.0.1:26379", "needs the service name as its path"),
        ("redis-cluster://10.0.0.1:7000", "must start with redis://, rediss://, unix://"),
        ("10.0.0.1:6379", "must start with"),
    ],
)
@pytest.mark.parametrize("setting", ["REDIS_URL", "RATE_LIMIT_REDIS_URL"])
def test_a_malformed_redis_url_is_refused_with_a_clear_error(clean_env, tmp_path, setting, url, reason):
    clean_env.setenv("APP_ENV", "testing")
    clean_env.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    clean_env.setenv(setting, url)
    with pytest.raises(InsecureConfigError, match=f"^{setting} .*{re.escape(reason)}") as refusal:
        loaded_config(tmp_path)
    # The message names what is wrong, never the password the URL may hold.
    assert "secret" not in str(refusal.value)


@pytest.mark.parametrize(
    "url",
    [
        "redis+cluster://10.0.0.1:7000",
        "redis+cluster://10.0.0.1:7000/",
        "redis+cluster://:pw@10.0.0.1:7000,10.0.0.2:7001,[fd00::3]:7002",
        "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster",
    ],
)
def test_sentinel_and_cluster_urls_serve_sessions_and_limits(clean_env, tmp_path, url):
    clean_env.setenv("APP_ENV", "testing")
    clean_env.setenv("REDIS_URL", url)
    config = loaded_config(tmp_path)
    assert config["SESSION_TYPE"] == "redis"
    assert config["RATELIMIT_STORAGE_URI"] == url


def test_a_cluster_url_is_taken_apart_with_its_credentials_decoded():
    parsed = parse_node_list_url("redis+cluster://app:p%40ss%3Aw%2Frd@10.0.0.1:7000, redis-2:7001,[fd00::3]:7002")
    assert parsed.nodes == [("10.0.0.1", 7000), ("redis-2", 7001), ("fd00::3", 7002)]
    assert parsed.auth == {"username": "app", "password": "p@ss:w/rd"}
    assert parsed.name == ""


def test_a_cluster_url_takes_its_password_from_a_file(clean_env, tmp_path):
    password = "p@ss:w/rd%?#,"  # every character that means something in a URL, and the node separator
    clean_env.setenv("APP_ENV", "testing")
    clean_env.setenv("REDIS_URL", "redis+cluster://redis-1:7000,redis-2:7000")
    clean_env.setenv("REDIS_PASSWORD_FILE", secret_file(tmp_path, "redis", password))
    config = loaded_config(tmp_path)
    parsed = parse_node_list_url(config["REDIS_URL"])
    assert parsed.auth == {"password": password}
    assert parsed.nodes == [("redis-1", 7000), ("redis-2", 7000)]
