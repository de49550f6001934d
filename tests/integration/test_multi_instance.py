"""Two app instances behind one Redis and one database, as a load balancer would spread them.

A user's requests land on either instance at random, so everything that makes a
session what it is must live in the shared stores, never in one process: the
session itself, its end (sign-out, revocation) and the failed sign-in counters.
"""

import signal

import pytest

from .conftest import PASSWORD, is_signed_in, sent_to_sign_in, unique_username

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def redis_server(module_deployment):
    return module_deployment.redis()


@pytest.fixture(scope="module")
def instances(module_deployment, redis_server):
    """Instances A and B: same secret key, same Redis, same database."""
    return module_deployment.app(redis_server.url), module_deployment.app(redis_server.url)


@pytest.fixture(autouse=True)
def empty_redis(redis_server):
    # Each test starts with no sessions and no rate-limit counters from the others.
    redis_server.client().flushall()


@pytest.fixture
def browser(module_deployment):
    return module_deployment.browser()


def test_a_session_started_on_one_instance_is_valid_on_the_other(instances, browser):
    a, b = instances
    username = unique_username()
    browser.register(a, username)

    on_b = browser.get(b, "/dashboard")

    assert is_signed_in(on_b)
    assert username in on_b.text
    assert browser.server_errors() == []


def test_signing_out_on_one_instance_ends_the_session_on_the_other(instances, module_deployment, browser):
    a, b = instances
    browser.register(a, unique_username())
    stolen_copy = module_deployment.browser(cookies_from=browser)
    assert is_signed_in(stolen_copy.get(a, "/dashboard"))

    browser.logout(b)

    # Neither the browser nor a copy of its old cookie gets in on either instance.
    assert sent_to_sign_in(browser.get(a, "/dashboard"))
    assert sent_to_sign_in(stolen_copy.get(a, "/dashboard"))
    assert sent_to_sign_in(stolen_copy.get(b, "/dashboard"))


def test_revoking_other_sessions_on_one_instance_ends_a_session_used_on_the_other(instances, module_deployment):
    a, b = instances
    username = unique_username()
    laptop, phone = module_deployment.browser(), module_deployment.browser()
    laptop.register(a, username)
    phone.login(b, username)
    assert is_signed_in(laptop.get(a, "/dashboard"))

    revoked = phone.submit(b, "/account/sessions", {"password": PASSWORD}, action="/account/sessions/revoke-others")

    assert revoked.status_code == 303
    assert sent_to_sign_in(laptop.get(a, "/dashboard"))
    assert sent_to_sign_in(laptop.get(b, "/dashboard"))
    assert is_signed_in(phone.get(a, "/dashboard"))
    assert is_signed_in(phone.get(b, "/dashboard"))


def test_failed_sign_ins_are_counted_across_instances(instances, browser):
    a, b = instances
    username = unique_username()
    browser.register(a, username)
    browser.logout(a)
    wrong = {"username": username, "password": "not the password"}

    statuses = [browser.submit(a, "/auth/login", wrong).status_code for _ in range(3)]
    statuses += [browser.submit(b, "/auth/login", wrong).status_code for _ in range(3)]

    # LOGIN_RATE_LIMIT is 5 failures a minute per address: the sixth overall is refused,
    # although neither instance alone has seen more than three.
    assert statuses == [401, 401, 401, 401, 401, 429]
    # Past the limit even the right password is not tried, on either instance.
    right = {"username": username, "password": PASSWORD}
    assert browser.submit(a, "/auth/login", right).status_code == 429
    assert browser.submit(b, "/auth/login", right).status_code == 429


def test_stopping_an_instance_loses_no_session(module_deployment, redis_server, instances, browser):
    _, b = instances
    leaving = module_deployment.app(redis_server.url)
    browser.register(leaving, unique_username())
    assert is_signed_in(browser.get(leaving, "/dashboard"))

    leaving.stop(signal.SIGTERM)

    # gunicorn shut down cleanly (exit code 0) and the session lives on in Redis.
    assert leaving.process.returncode == 0
    assert is_signed_in(browser.get(b, "/dashboard"))
    assert "Traceback" not in leaving.log()
