"""One canonical client address, whatever the trusted proxy writes.

Kind of fault: a proxy that writes ports, brackets or zone ids (or something that is
no address at all) into X-Forwarded-For. Counted as written, each port was a new
rate-limit bucket, and a 47-character value did not fit the 45-character column on
PostgreSQL. ``canonical_address`` is the one function that reads it.
"""

import json
import logging

import pytest

from app.client_network import canonical_address
from app.extensions import db
from app.models import SecurityEvent, SignIn
from tests.conftest import AuthActions


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("198.51.100.8", "198.51.100.8"),
        ("198.51.100.8:40000", "198.51.100.8"),
        (" 198.51.100.8 ", "198.51.100.8"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("[2001:db8:0:0:0:0:0:1]:65535", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("[fe80::1%25eth0]:443", "fe80::1"),
        ("::ffff:198.51.100.8", "198.51.100.8"),
        ("[::ffff:198.51.100.8]:80", "198.51.100.8"),
        ("", "unknown"),
        (None, "unknown"),
        ("unknown", "unknown"),
        ("198.51.100.8:99999999", "unknown"),
        ("198.51.100.8, 203.0.113.9", "unknown"),
        ("not an address", "unknown"),
        ("x" * 500, "unknown"),
    ],
)
def test_canonical_address(written, canonical):
    assert canonical_address(written) == canonical


def behind_proxy(app, forwarded_for):
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return AuthActions(app, client)


def test_ports_written_by_the_proxy_do_not_split_a_client_into_many_buckets(make_app):
    app = make_app(TRUSTED_PROXIES=1)
    AuthActions(app, app.test_client()).create_user()
    for port in range(40000, 40005):
        assert behind_proxy(app, f"198.51.100.8:{port}").login(password="wrong password").status_code == 401
    assert behind_proxy(app, "198.51.100.8:40005").login(password="wrong password").status_code == 429


def test_a_long_bracketed_address_is_stored_in_its_short_form(make_app):
    # 47 characters as written; the column holds 45 (PostgreSQL enforces it).
    app = make_app(TRUSTED_PROXIES=1)
    auth = behind_proxy(app, "[2001:db8:0:0:0:0:0:1]:65535")
    auth.create_user()
    assert auth.login(remember=True).status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(SignIn.ip_address)) == "2001:db8::1"
        assert set(db.session.scalars(db.select(SecurityEvent.ip_address))) == {"2001:db8::1"}


def test_what_is_no_address_is_one_shared_logged_bucket(make_app, caplog):
    app = make_app(TRUSTED_PROXIES=1)
    AuthActions(app, app.test_client()).create_user()
    with caplog.at_level(logging.INFO, logger="security"):
        for junk in ("junk-1", "junk-2", "junk-3", "junk-4", "junk-5"):
            assert behind_proxy(app, junk).login(password="wrong password").status_code == 401
        assert behind_proxy(app, "junk-6").login(password="wrong password").status_code == 429
    logged = [json.loads(record.getMessage()) for record in caplog.records if record.name == "security"]
    unknown = [entry for entry in logged if entry["event"] == "client_address_unknown"]
    assert unknown and {entry["remote_addr"] for entry in unknown} >= {"junk-1", "junk-6"}
