"""A Redis Cluster of three primaries behind two app instances (``REDIS_URL=redis+cluster://...``).

Sessions and rate-limit counters are spread over the primaries by the hash of their
keys, and everything that makes a session what it is must hold as on one server:
a session works on every instance, its end is seen everywhere at the next request,
and failed sign-ins are counted together. With one primary stopped, its share of
the users gets a quick 503 (never a 500), the others go on, and when it returns
everyone is served again, without a restart of the app.
"""

import os
import re
import shutil
import signal

import pytest

from tests.conftest import store_key
from tests.support.processes import FAST_UNLIMITED_SETTINGS, RedisCluster, wait_until
from tests.support.tools import require

from .conftest import PASSWORD, is_signed_in, sent_to_sign_in, timed, unique_username

pytestmark = pytest.mark.integration

# Attempts on one account from browsers it does not know (ACCOUNT_LOGIN_RATE_LIMIT).
ACCOUNT_ATTEMPTS = 4
# Everything else out of the way: the tests sign up more users than a real client may.
SETTINGS = {**FAST_UNLIMITED_SETTINGS, "FLASK_ACCOUNT_LOGIN_RATE_LIMIT": f"{ACCOUNT_ATTEMPTS}/15 minutes"}
# A stopped primary refuses connections at once; a refused request costs two of
# those and two reads of the slot map from the primaries that are up.
OUTAGE_ANSWER_DEADLINE = 2.0
# A primary that accepts connections but never answers costs REDIS_SOCKET_TIMEOUT twice.
FROZEN_ANSWER_DEADLINE = 3.0
RECOVERY_DEADLINE = 20
REVOKE_ACTION = re.compile(r'action="(/account/sessions/[^"/]+/revoke)"')


def start_cluster(deployment, name="cluster"):
    require(
        shutil.which("redis-server") is not None and shutil.which("redis-cli") is not None,
        "redis-server and redis-cli are needed for the Redis Cluster tests (apt-get install redis-server)",
    )
    return deployment.track(RedisCluster(deployment.directory / name).start())


@pytest.fixture(scope="module")
def cluster(module_deployment):
    return start_cluster(module_deployment)


@pytest.fixture(scope="module")
def instances(module_deployment, cluster):
    """Instances A and B: same secret key, same cluster, same database."""
    return module_deployment.app(cluster.url, **SETTINGS), module_deployment.app(cluster.url, **SETTINGS)


@pytest.fixture
def browser(module_deployment):
    return module_deployment.browser()


def test_signing_up_and_in_on_one_instance_is_valid_on_the_other(instances, browser):
    a, b = instances
    username = unique_username()
    browser.register(a, username)
    assert is_signed_in(browser.get(b, "/dashboard"))
    browser.logout(b)

    browser.login(b, username)

    for instance in (a, b):
        page = browser.get(instance, "/dashboard")
        assert is_signed_in(page)
        assert username in page.text
    assert browser.server_errors() == []


def test_signing_out_on_one_instance_is_seen_by_the_other_at_the_next_request(instances, module_deployment, browser):
    a, b = instances
    browser.register(a, unique_username())
    stolen_copy = module_deployment.browser(cookies_from=browser)
    assert is_signed_in(stolen_copy.get(b, "/dashboard"))

    browser.logout(a)

    assert sent_to_sign_in(stolen_copy.get(b, "/dashboard"))
    assert sent_to_sign_in(stolen_copy.get(a, "/dashboard"))
    assert sent_to_sign_in(browser.get(b, "/dashboard"))


def test_ending_a_session_on_the_devices_page_ends_it_on_every_instance(instances, module_deployment):
    a, b = instances
    username = unique_username()
    laptop, phone = module_deployment.browser(), module_deployment.browser()
    laptop.register(a, username)
    phone.login(b, username)
    assert is_signed_in(laptop.get(a, "/dashboard"))

    # The phone's page lists the laptop's session with an "End session" form.
    devices_page = phone.get(b, "/account/sessions").text
    (laptop_action,) = REVOKE_ACTION.findall(devices_page)
    ended = phone.submit(b, "/account/sessions", {}, action=laptop_action)

    assert ended.status_code == 303
    assert sent_to_sign_in(laptop.get(a, "/dashboard"))
    assert sent_to_sign_in(laptop.get(b, "/dashboard"))
    assert is_signed_in(phone.get(a, "/dashboard"))


def test_attempts_on_one_account_are_counted_across_instances(instances, module_deployment):
    a, b = instances
    username = unique_username()
    module_deployment.browser().register(a, username)
    guesser = module_deployment.browser()
    wrong = {"username": username, "password": "not the password"}

    statuses = []
    for instance in (a, b, a, b, a, b):
        statuses.append(guesser.submit(instance, "/auth/login", wrong).status_code)

    # Neither instance alone saw more than three; together they saw the limit.
    assert statuses == [401] * ACCOUNT_ATTEMPTS + [429, 429]
    right = {"username": username, "password": PASSWORD}
    assert guesser.submit(a, "/auth/login", right).status_code == 429
    assert guesser.submit(b, "/auth/login", right).status_code == 429


def test_sessions_and_counters_spread_over_the_primaries(instances, module_deployment, cluster):
    a, b = instances
    session_keys = []
    for number in range(12):
        user = module_deployment.browser()
        user.register((a, b)[number % 2], unique_username())
        session_keys.append(store_key(user.session_id))

    holders = {cluster.node_of(key).port for key in session_keys}
    for key in session_keys:
        node = cluster.node_of(key).client()
        assert node.cluster("countkeysinslot", node.cluster("keyslot", key)) >= 1
    # Twelve keys all on one of three primaries would be a one in 177,147 chance.
    assert len(holders) > 1
    sizes = [node.client().dbsize() for node in cluster.nodes]
    assert sum(size > 0 for size in sizes) > 1, sizes
    # No key carries a hash tag: nothing here is used together with another key.
    keys = [key.decode() for node in cluster.nodes for key in node.client().scan_iter()]
    assert not [key for key in keys if "{" in key]
    assert {key.split(":")[0] for key in keys} <= {"session", "LIMITS"}


def test_a_stopped_primary_gives_its_users_a_quick_503_and_they_return_with_it(deployment):
    cluster = start_cluster(deployment)
    a = deployment.app(cluster.url, **SETTINGS)
    b = deployment.app(cluster.url, **SETTINGS)
    users = []
    while len({cluster.node_of(store_key(user.session_id)) for user in users}) < 2:
        user = deployment.browser()
        user.register(a, unique_username())
        users.append(user)
    stranded = users[-1]
    down = cluster.node_of(store_key(stranded.session_id))
    unaffected = next(user for user in users if cluster.node_of(store_key(user.session_id)) is not down)
    visitor = deployment.browser()

    down.stop()
    # The other primaries agree that it failed: from now on it is a real outage.
    wait_until(lambda: cluster_calls_failed(cluster, down), what="the cluster to mark the primary failed")

    for instance in (a, b):
        response, seconds = timed(lambda instance=instance: stranded.get(instance, "/dashboard"))
        assert response.status_code == 503
        assert seconds < OUTAGE_ANSWER_DEADLINE, f"the 503 took {seconds:.2f}s"
        # The primaries that are up serve their share of the users as before.
        assert is_signed_in(unaffected.get(instance, "/dashboard"))
    health = visitor.get(a, "/healthz")
    assert health.status_code == 503
    # Both share the cluster; the services that do not use it stay "ok".
    states = health.json()
    assert (states.pop("status"), states.pop("redis"), states.pop("rate_limits")) == (
        "degraded",
        "unreachable",
        "unreachable",
    )
    assert set(states.values()) == {"ok"}
    # No sign-in while part of the store is missing: no password is tried, right or wrong.
    assert visitor.submit(b, "/auth/login", {"username": "anyone", "password": "a guess"}).status_code == 503

    cluster.restart(down)

    wait_until(lambda: visitor.get(a, "/healthz").status_code == 200, timeout=RECOVERY_DEADLINE, what="recovery")
    # Its append-only file kept the sessions it holds: nobody has to sign in again.
    for instance in (a, b):
        wait_until(
            lambda instance=instance: is_signed_in(stranded.get(instance, "/dashboard")),
            timeout=RECOVERY_DEADLINE,
            what="the stranded user to be served again",
        )
    for browser in (*users, visitor):
        assert browser.server_errors() == []
    for instance in (a, b):
        assert "Traceback" not in instance.log()


def test_a_frozen_primary_holds_its_users_no_longer_than_the_timeouts(deployment):
    cluster = start_cluster(deployment)
    app = deployment.app(cluster.url, **SETTINGS)
    user = deployment.browser()
    user.register(app, unique_username())
    frozen = cluster.node_of(store_key(user.session_id))

    # SIGSTOP: connections are accepted, nothing is answered, as behind a partition.
    # RedisCluster waits for ever without a socket timeout; here it waits for
    # REDIS_SOCKET_TIMEOUT twice (the retry), between them it reads the slot map
    # again from the primaries that are up.
    os.kill(frozen.process.pid, signal.SIGSTOP)
    try:
        response, seconds = timed(lambda: user.get(app, "/dashboard"))
    finally:
        os.kill(frozen.process.pid, signal.SIGCONT)

    assert response.status_code == 503
    assert seconds < FROZEN_ANSWER_DEADLINE, f"the 503 took {seconds:.2f}s"
    wait_until(lambda: is_signed_in(user.get(app, "/dashboard")), timeout=RECOVERY_DEADLINE, what="the user's session")
    assert user.server_errors() == []
    assert "Traceback" not in app.log()


def test_a_cluster_with_every_node_down_answers_503_quickly_and_recovers(deployment):
    """With no node left, redis-py raises RedisClusterException, which is no RedisError."""
    cluster = start_cluster(deployment)
    app = deployment.app(cluster.url, **SETTINGS)
    user, visitor = deployment.browser(), deployment.browser()
    username = unique_username()
    user.register(app, username)

    cluster.stop()

    for browser, path, status in ((user, "/dashboard", 503), (visitor, "/", 200), (visitor, "/healthz", 503)):
        response, seconds = timed(lambda browser=browser, path=path: browser.get(app, path))
        assert response.status_code == status, f"GET {path} answered {response.status_code}"
        assert seconds < OUTAGE_ANSWER_DEADLINE, f"GET {path} took {seconds:.2f}s"
    assert visitor.get(app, "/healthz").json()["redis"] == "unreachable"
    assert visitor.submit(app, "/auth/login", {"username": username, "password": PASSWORD}).status_code == 503

    for node in list(cluster.nodes):
        cluster.restart(node)

    wait_until(lambda: visitor.get(app, "/healthz").status_code == 200, timeout=RECOVERY_DEADLINE, what="recovery")
    wait_until(lambda: is_signed_in(user.get(app, "/dashboard")), timeout=RECOVERY_DEADLINE, what="the user's session")
    assert user.server_errors() == visitor.server_errors() == []
    assert "Traceback" not in app.log()


def cluster_calls_failed(cluster, down):
    """Whether every other node flags ``down`` as failed (``fail``, not just ``fail?``)."""
    for node in cluster.nodes:
        if node is down:
            continue
        view = node.client().cluster("nodes")
        flags = next(info["flags"] for address, info in view.items() if address.endswith(f":{down.port}"))
        if "fail" not in flags.split(","):
            return False
    return True
