"""Brute force: failed sign-ins and sign-ups are limited per client address."""

import re

import pytest
from werkzeug.exceptions import TooManyRequests

from app import errors, rate_limits
from app.extensions import limiter
from tests.conftest import AuthActions
from tests.support.processes import RedisServer


def test_sixth_failed_login_in_a_minute_is_429_with_retry_after(auth):
    auth.create_user()
    for _ in range(5):
        assert auth.login(password="wrong password").status_code == 401
    response = auth.login(password="wrong password")
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 0 < wait <= 60
    # The page says the same wait as the header, in whole seconds or minutes rounded up.
    number, unit = re.search(r"Please wait (\d+) (second|minute)", response.get_data(as_text=True)).groups()
    assert int(number) == 1 if unit == "minute" else abs(int(number) - wait) <= 1
    # Even the right password waits: the limit is checked before the password.
    assert auth.login().status_code == 429


def test_a_refusal_by_an_account_limit_names_that_limits_wait_not_another_ones(make_app):
    # The per-address limits of the route hold hours; the per-account one refusing holds a minute.
    app = make_app(
        LOGIN_RATE_LIMIT="50/hour",
        SUCCESSFUL_LOGIN_RATE_LIMIT="50/hour",
        ACCOUNT_SUCCESSFUL_LOGIN_RATE_LIMIT="2/minute",
    )
    auth = AuthActions(app, app.test_client())
    auth.create_user()
    for _ in range(2):
        assert auth.login().status_code == 303
        auth.logout()
    refused = auth.login()
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= 60
    assert re.search(rf"Please wait ({wait} seconds?|1 minute)", refused.get_data(as_text=True))


def test_no_answer_tells_a_guesser_how_many_tries_are_left(auth):
    auth.create_user()
    answers = [auth.login(password="wrong password") for _ in range(6)]
    assert [answer.status_code for answer in answers] == [401] * 5 + [429]
    for answer in answers:
        assert not [name for name, _value in answer.headers if name.lower().startswith("x-ratelimit")]


def test_successful_logins_do_not_count_against_the_limit(auth):
    auth.create_user()
    for _ in range(8):
        assert auth.login().status_code == 303
        auth.logout()


def test_limits_are_per_client_address(app, auth):
    auth.create_user()
    for _ in range(5):
        auth.login(password="wrong password")
    assert auth.login(password="wrong password").status_code == 429

    from tests.conftest import csrf_token_from

    neighbour = app.test_client()
    environ = {"REMOTE_ADDR": "192.0.2.7"}
    token = csrf_token_from(neighbour.get("/auth/login", environ_base=environ))
    response = neighbour.post(
        "/auth/login",
        data={"username": "alice", "password": "correct horse battery", "csrf_token": token},
        environ_base=environ,
    )
    assert response.status_code == 303


def test_a_spoofed_forwarded_for_header_does_not_dodge_the_limit(auth):
    auth.create_user()
    for attempt in range(5):
        auth.client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{attempt}"
        auth.login(password="wrong password")
    auth.client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.99"
    assert auth.login(password="wrong password").status_code == 429


def test_registration_is_limited_per_address(make_app):
    app = make_app(REGISTER_RATE_LIMIT="2/hour")
    client = app.test_client()
    from tests.conftest import csrf_token_from

    statuses = []
    for number in range(3):
        token = csrf_token_from(client.get("/auth/register"))
        response = client.post(
            "/auth/register",
            data={
                "username": f"user{number}",
                "password": "a long password",
                "confirm": "a long password",
                "csrf_token": token,
            },
        )
        statuses.append(response.status_code)
        client.delete_cookie("__Host-session")
    assert statuses == [303, 303, 429]


def test_counters_live_in_redis(auth, redis_client):
    auth.create_user()
    auth.login(password="wrong password")
    assert any(b"ratelimit/127.0.0.1/auth.login" in key for key in redis_client.scan_iter())


def test_counters_can_live_in_a_redis_of_their_own(make_app, tmp_path):
    """RATE_LIMIT_REDIS_URL: counters apart from the sessions, which may be evicted."""
    server = RedisServer(tmp_path / "counters").start()
    app = make_app(RATE_LIMIT_REDIS_URL=server.url)
    counters, sessions = server.client(), app.extensions["redis"]
    try:
        auth = AuthActions(app, app.test_client())
        auth.create_user()
        assert auth.login(password="wrong password").status_code == 401
        assert any(b"ratelimit" in key for key in counters.scan_iter())
        assert not any(b"ratelimit" in key for key in sessions.scan_iter())
        assert auth.login().status_code == 303
        assert any(key.startswith(b"session:") for key in sessions.scan_iter())
    finally:
        server.stop()


def test_an_ipv6_client_is_counted_by_its_slash_64(app, auth):
    """One host has a whole /64: new addresses in it must not mean new guesses."""
    auth.create_user()

    def guess_from(address):
        guesser = AuthActions(app, app.test_client())
        guesser.client.environ_base["REMOTE_ADDR"] = address
        return guesser.login(password="wrong password").status_code

    same_network = [guess_from(f"2001:db8:1:2::{n:x}") for n in range(1, 9)]
    assert same_network == [401] * 5 + [429] * 3
    assert guess_from("2001:db8:1:3::1") == 401  # the neighbouring /64 has its own budget


@pytest.mark.parametrize("carrier", ["::ffff:192.0.2.44", "64:ff9b::c000:22c"])
def test_an_ipv6_address_carrying_an_ipv4_one_counts_as_that_ipv4_address(app, auth, carrier):
    """IPv4-mapped, or from a NAT64 gateway (64:ff9b::192.0.2.44)."""
    auth.create_user()
    mapped = AuthActions(app, app.test_client())
    mapped.client.environ_base["REMOTE_ADDR"] = carrier
    plain = AuthActions(app, app.test_client())
    plain.client.environ_base["REMOTE_ADDR"] = "192.0.2.44"
    statuses = [(mapped if n % 2 else plain).login(password="wrong password").status_code for n in range(6)]
    assert statuses == [401] * 5 + [429]


@pytest.mark.parametrize(
    ("seconds", "sentence"),
    [
        (1, "wait 1 second and"),
        (59, "wait 59 seconds"),
        (60, "wait 60 seconds"),
        (119, "wait 119 seconds"),
        (120, "wait 2 minutes"),
        (121, "wait 3 minutes"),
        (3600, "wait 60 minutes"),
    ],
)
def test_the_429_page_says_how_long_to_wait(app, seconds, sentence):
    from app.errors import too_many_requests_message

    with app.test_request_context():
        assert sentence in str(too_many_requests_message(seconds))


def test_limits_that_count_get_requests_are_still_checked_on_get(app, client):
    # Unknown emailed links are GETs, counted per client (EMAIL_LINK_RATE_LIMIT, 20/minute).
    answers = [client.get(f"/auth/reset?token=unknown-{number}").status_code for number in range(21)]
    assert answers == [404] * 20 + [429]


def test_safe_methods_skip_the_limiter_where_no_limit_counts_them(auth, client, monkeypatch):
    resolved, checked = [], []
    original_resolve = limiter.limit_manager.resolve_limits
    monkeypatch.setattr(
        limiter.limit_manager,
        "resolve_limits",
        lambda *args, **kwargs: resolved.append(1) or original_resolve(*args, **kwargs),
    )
    # Flask-Limiter asks its request filters on every request it checks: never on a skipped one.
    monkeypatch.setattr(limiter, "_request_filters", [lambda: checked.append(1) or False])
    # Worked out once for the route, on its first safe request; never again after.
    assert client.get("/auth/login").status_code == 200
    assert resolved == [1]
    resolved.clear()
    assert client.get("/auth/login").status_code == 200
    assert client.head("/auth/login").status_code == 200
    assert client.options("/auth/login").status_code == 200
    assert resolved == []
    assert checked == []
    # A POST is checked, by the route's decorator and by the hook alike.
    assert auth.login(password="wrong password").status_code == 401
    assert resolved
    assert len(checked) == 2


def test_an_operator_limit_on_every_route_counts_get_requests_too(make_app):
    app = make_app(RATELIMIT_DEFAULT="3/minute")
    client = app.test_client()
    answers = [client.get("/auth/login").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


def test_a_limit_on_every_route_does_not_outlive_the_app_that_set_it(make_app):
    # One Flask-Limiter serves every app of a process (the tests make hundreds).
    make_app(RATELIMIT_DEFAULT="1/minute", RATELIMIT_APPLICATION="1/minute", RATELIMIT_META="1/minute")
    client = make_app().test_client()
    assert [client.get("/auth/login").status_code for _ in range(3)] == [200, 200, 200]


def test_a_hand_counted_limit_asks_for_the_full_wait_rounded_up(app):
    # A minute's window, just hit: the slot frees in a little under 60 s. Cut down to 59,
    # a client that waited exactly that long got another 429.
    with app.test_request_context("/"):
        rate_limits.take("1/minute", "wait-test", "client")
        with pytest.raises(TooManyRequests) as refused:
            rate_limits.take("1/minute", "wait-test", "client")
    assert refused.value.retry_after == 60


@pytest.mark.parametrize(
    "wait, header, words", [(59.2, 60, "60 seconds"), (61, 61, "61 seconds"), (130, 130, "3 minutes")]
)
def test_the_429_page_and_header_name_the_same_wait_never_less(app, wait, header, words):
    with app.test_request_context("/"):
        seconds = errors.seconds_to_wait(TooManyRequests(retry_after=wait))
        assert seconds == header
        assert f"Please wait {words}" in errors.too_many_requests_message(seconds)


def test_a_limiter_store_lost_after_the_refusal_still_gives_a_429_page(auth, monkeypatch):
    from flask_limiter._extension import RequestLimit
    from redis.exceptions import ConnectionError as RedisConnectionError

    auth.create_user()
    for _ in range(5):
        auth.login(password="wrong password")

    def store_gone(_limit):
        raise RedisConnectionError("the limiter's Redis went away")

    monkeypatch.setattr(RequestLimit, "window", property(store_gone))
    refused = auth.login(password="wrong password")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(errors.DEFAULT_WAIT_SECONDS)
