"""One test per row of docs/THREAT_MODEL.md, named for the threat it stops.

Each test plays the attack against the real app (real Redis, CSRF on) and checks
that it fails. The table in the docs links every row to the test here.
"""

import re
import secrets
import shutil
import statistics
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from app.extensions import db
from app.models import SignIn, User
from tests.conftest import AuthActions, csrf_token_from, store_key
from tests.support.processes import RedisServer
from tests.support.tools import require

ROOT = Path(__file__).resolve().parents[2]

PASSWORD = "correct horse battery"


@pytest.fixture
def victim(auth):
    auth.create_user()
    auth.login()
    return auth


def fresh(app, address="203.0.113.200"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return AuthActions(app, client)


def test_session_fixation(app, auth, redis_client):
    # Visitors have no stored session to plant, so the attacker picks an id of their own.
    planted = secrets.token_urlsafe(32)
    auth.create_user()
    auth.client.set_cookie("__Host-session", planted)
    auth.login()
    assert auth.session_cookie() != planted
    assert not redis_client.exists(store_key(planted))
    attacker = fresh(app)
    attacker.client.set_cookie("__Host-session", planted)
    assert attacker.client.get("/dashboard").status_code == 302


def test_session_hijack_with_a_stolen_cookie_after_logout(app, victim):
    stolen = victim.session_cookie()
    victim.logout()
    thief = fresh(app)
    thief.client.set_cookie("__Host-session", stolen)
    assert thief.client.get("/dashboard").status_code == 302


def post_routes(app):
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and rule.endpoint != "static":
            yield rule.rule.replace("<public_id>", "some-id")


def test_csrf_on_every_post(app, victim):
    routes = list(post_routes(app))
    assert len(routes) >= 8
    for route in routes:
        response = victim.client.post(route, data={"password": PASSWORD, "username": "alice"})
        assert response.status_code == 400, route
    assert victim.client.get("/dashboard").status_code == 200
    with app.app_context():
        assert db.session.query(User).count() == 1 and db.session.query(SignIn).count() == 1


def test_stored_xss_through_username_or_user_agent(app, client):
    token = csrf_token_from(client.get("/auth/register"))
    response = client.post(
        "/auth/register",
        data={"username": "<script>alert(1)</script>", "password": PASSWORD, "confirm": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)

    mallory = fresh(app)
    mallory.client.environ_base["HTTP_USER_AGENT"] = (
        '"><script>alert(1)</script> Chrome/1.0 <img src=x onerror=alert(2)>'
    )
    mallory.create_user("mallory")
    mallory.login("mallory")
    for page in ("/account/sessions", "/account/activity", "/dashboard"):
        text = mallory.client.get(page).get_data(as_text=True)
        assert "<script>alert" not in text and "onerror=alert" not in text, page


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "/\\evil.com",
        "https://evil.com",
        "https:evil.com",
        "%2F%2Fevil.com",
        "javascript:alert(1)",
        "/\t/evil.com",
    ],
)
def test_open_redirect(auth, target):
    auth.create_user()
    response = auth.login(path="/auth/login?next=" + quote(target, safe=""))
    assert response.headers["Location"] == "/dashboard"


def test_brute_force_from_one_address(auth):
    auth.create_user()
    statuses = [auth.login(password=f"guess number {n}").status_code for n in range(7)]
    assert statuses == [401] * 5 + [429, 429]


def test_credential_stuffing_across_many_addresses(app, auth):
    auth.create_user()
    statuses = [fresh(app, f"198.51.100.{n}").login(password=f"leaked password {n}").status_code for n in range(12)]
    assert statuses.count(401) == 10 and statuses[-1] == 429


def test_user_enumeration_by_message(auth):
    auth.create_user()
    unknown = auth.login("nobody-here").get_data(as_text=True)
    wrong = auth.login("alice", "not the password").get_data(as_text=True)
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # noqa: E731 - CSRF tokens differ
    assert "Invalid username or password." in unknown
    assert strip(unknown) == strip(wrong)


def test_user_enumeration_by_timing(make_app):
    """Medians of repeated tries: an unknown name must cost a password hash too."""
    app = make_app(
        LOGIN_RATE_LIMIT="1000/minute",
        ACCOUNT_LOGIN_RATE_LIMIT="1000/minute",
        PASSWORD_HASH_MEMORY_COST=32 * 1024,
        PASSWORD_HASH_TIME_COST=2,
    )
    actions = fresh(app)
    actions.create_user()

    def timed_attempt(username):
        token = actions.token()
        started = time.perf_counter()
        actions.client.post("/auth/login", data={"username": username, "password": "wrong guess", "csrf_token": token})
        return time.perf_counter() - started

    # Interleaved, so that load on the machine slows both kinds of attempt alike.
    known, unknown = [], []
    for _ in range(21):
        known.append(timed_attempt("alice"))
        unknown.append(timed_attempt("nobody-here"))
    ratio = statistics.median(unknown) / statistics.median(known)
    # Without the dummy hash the ratio is about 0.05: an unknown name costs no hash.
    assert 0.5 < ratio < 2, (statistics.median(known), statistics.median(unknown))


@pytest.mark.parametrize("cookie", ["", "x" * 43, "A" * 4000, "../../etc/passwd", "\u00e9t\u00e9", "' OR 1=1 --"])
def test_cookie_tampering(app, victim, cookie):
    tamperer = fresh(app)
    tamperer.client.set_cookie("__Host-session", cookie)
    assert tamperer.client.get("/dashboard").status_code == 302
    remember = tamperer.client
    remember.set_cookie("__Host-remember", "1|" + "0" * 128)
    assert remember.get("/dashboard").status_code == 302


def test_session_id_guessing(app, client):
    ids = set()
    for number in range(50):
        probe = fresh(app, f"203.0.113.{number}")
        probe.create_user(f"user{number}")
        probe.login(f"user{number}")
        ids.add(probe.session_cookie())
    assert len(ids) == 50
    assert all(len(value) == 43 and re.fullmatch(r"[A-Za-z0-9_-]+", value) for value in ids)  # 256 bits each
    guesser = fresh(app)
    for value in list(ids)[:5]:
        guessed = value[:-1] + ("A" if value[-1] != "A" else "B")
        guesser.client.set_cookie("__Host-session", guessed)
        assert guesser.client.get("/dashboard").status_code == 302


def test_clickjacking(client):
    headers = client.get("/auth/login").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


def test_cache_leaks(victim):
    response = victim.client.get("/dashboard")
    assert response.headers["Cache-Control"] == "no-store"
    assert "Cookie" in response.headers.get("Vary", "")


def test_host_header_injection(make_app):
    app = make_app(TRUSTED_HOSTS=["example.org"])
    response = app.test_client().get("/auth/login", headers={"Host": "evil.example"})
    assert response.status_code == 400


def test_oversized_input(app, client):
    response = client.post("/auth/login", data={"username": "a", "password": "p" * 50_000})
    assert response.status_code == 413


def compose_redis_setting(service, name):
    """A setting from the configuration a compose Redis service starts with, or None."""
    command = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"][service]["command"][0]
    found = re.search(rf"^{re.escape(name)} (\S+)$", command, re.MULTILINE)
    return found and found.group(1)


def test_session_store_flooding_by_anonymous_visitors(make_app, redis_url, tmp_path):
    """A flood of visitors writes nothing to the sessions' Redis, capped like the compose one.

    Every request comes without a cookie, a new visitor each time, and gets the sign-in
    or sign-up form with a fresh CSRF secret: that secret travels in a signed cookie.
    Signed-in users keep their sessions, and the rate-limit counters, in their own
    Redis as in the compose file, keep counting.
    """
    require(shutil.which("redis-server") is not None, "redis-server not found (apt-get install redis-server)")
    policy = compose_redis_setting("redis", "maxmemory-policy")
    assert compose_redis_setting("redis-limits", "maxmemory-policy") is None  # Redis's default: noeviction
    sessions = RedisServer(tmp_path / "redis", extra=["--maxmemory", "3mb", "--maxmemory-policy", policy]).start()
    try:
        app = make_app(REDIS_URL=sessions.url, RATE_LIMIT_REDIS_URL=redis_url)
        user = AuthActions(app, app.test_client())
        user.create_user()
        user.login()
        # Someone guessing alice's password from many addresses uses 9 of the 10
        # attempts the account allows per 15 minutes, then floods.
        guesses = [fresh(app, f"198.51.100.{n}").login(password=f"guess {n}").status_code for n in range(9)]
        assert guesses == [401] * 9
        # (Its first page stores the signed-in session's new CSRF secret: one write.)
        assert user.client.get("/dashboard").status_code == 200
        store = sessions.client()
        keys_before, writes_before = store.dbsize(), store.info("commandstats")["cmdstat_set"]["calls"]
        flood = app.test_client(use_cookies=False)
        for number in range(2000):
            page = flood.get(("/auth/login", "/auth/register", "/")[number % 3])
            assert page.status_code == 200
            assert "Set-Cookie" in page.headers or number % 3 == 2
            if number % 100 == 0:
                # The signed-in user keeps using the site while the flood goes on.
                assert user.client.get("/dashboard").status_code == 200
        assert store.dbsize() == keys_before == 1
        assert store.info("commandstats")["cmdstat_set"]["calls"] == writes_before
        assert store.info("stats")["evicted_keys"] == 0
        page = user.client.get("/dashboard")
        assert page.status_code == 200
        assert "alice" in page.get_data(as_text=True)
        after = [fresh(app, f"198.51.100.{n}").login(password=f"guess {n}").status_code for n in range(9, 11)]
        assert after == [401, 429]
    finally:
        sessions.stop()
