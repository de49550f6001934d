"""`flask security-check` names every insecure setting and fails when there is one."""

import pytest

from config import insecure_settings

STRONG_KEY = "Zq8vN2rT5wY1bC4eG7jK0mP3sU6xA9dF"
SAFE = {
    "SECRET_KEY": STRONG_KEY,
    "REDIS_URL": "rediss://:pw@redis.internal:6380/0",
    "SESSION_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "DEBUG": False,
    "STRICT_TRANSPORT_SECURITY": "max-age=63072000",
    "TRUSTED_HOSTS": ["example.org"],
    "RATELIMIT_STORAGE_URI": "rediss://:pw@redis.internal:6380/0",
    "PUBLIC_BASE_URL": "https://example.org",
    "MAIL_DEFAULT_SENDER": "Example <no-reply@example.org>",
    "MAIL_BACKEND": "smtp",
    "MAIL_SERVER": "smtp.example.org",
    "MAIL_USE_TLS": True,
}


def test_a_safe_config_has_no_findings():
    assert insecure_settings(SAFE) == []


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        ({"SECRET_KEY": "change-me-change-me-change-me-change-me"}, "placeholder"),
        ({"SECRET_KEY": "short"}, "shorter than 32 bytes"),
        ({"SESSION_COOKIE_SECURE": False}, "SESSION_COOKIE_SECURE is off"),
        ({"SESSION_COOKIE_HTTPONLY": False}, "SESSION_COOKIE_HTTPONLY is off"),
        ({"REMEMBER_COOKIE_HTTPONLY": False}, "REMEMBER_COOKIE_HTTPONLY is off"),
        ({"DEBUG": True}, "DEBUG is on"),
        ({"STRICT_TRANSPORT_SECURITY": None}, "STRICT_TRANSPORT_SECURITY is off"),
        ({"TRUSTED_HOSTS": None}, "TRUSTED_HOSTS is not set"),
        ({"RATELIMIT_STORAGE_URI": "memory://"}, "in memory"),
        ({"REDIS_URL": "redis://redis.internal:6379/0"}, "no password"),
        ({"REDIS_URL": "redis://:pw@10.0.0.5:6379/0"}, "without TLS"),
        ({"PUBLIC_BASE_URL": None}, "PUBLIC_BASE_URL is not set"),
        ({"PUBLIC_BASE_URL": "http://example.org"}, "PUBLIC_BASE_URL is not https"),
        ({"MAIL_DEFAULT_SENDER": None}, "MAIL_DEFAULT_SENDER is not set"),
        ({"MAIL_USE_TLS": False}, "mail server is reached without TLS"),
        ({"MAIL_BACKEND": "app.mail.outbox"}, "written to instance/outbox/"),
    ],
)
def test_each_insecure_setting_is_named(change, finding):
    findings = insecure_settings({**SAFE, **change})
    assert any(finding in line for line in findings), findings


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "redis://localhost/0", "redis://[::1]:6379", "unix:///run/redis.sock"]
)
def test_redis_on_this_machine_needs_neither_password_nor_tls(url):
    assert insecure_settings({**SAFE, "REDIS_URL": url}) == []


def test_a_mail_server_on_this_machine_or_ssl_needs_no_starttls():
    assert insecure_settings({**SAFE, "MAIL_USE_TLS": False, "MAIL_SERVER": "127.0.0.1"}) == []
    assert insecure_settings({**SAFE, "MAIL_USE_TLS": False, "MAIL_USE_SSL": True}) == []


def test_the_command_fails_on_the_development_config(make_app):
    app = make_app(embedded=True, APP_ENV="development")
    result = app.test_cli_runner().invoke(args=["security-check"])
    assert result.exit_code == 1
    assert "SESSION_COOKIE_SECURE is off" in result.output


def test_the_command_passes_on_a_safe_config(make_app):
    app = make_app(TRUSTED_HOSTS=["example.org"], REDIS_URL=SAFE["REDIS_URL"], create_tables=False)
    result = app.test_cli_runner().invoke(args=["security-check"])
    assert result.exit_code == 0, result.output
    assert "No insecure settings found" in result.output
