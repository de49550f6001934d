"""Redis Sentinel: the primary dies, a replica takes over, and nobody is signed out.

With ``REDIS_URL=redis+sentinel://...`` the app asks the sentinel where the primary
is, and asks again when a connection fails, so a failover needs no restart. While
it is under way the app may answer 503 ("try again shortly"), never 500.
"""

import pytest

from tests.conftest import store_key
from tests.support.processes import RedisSentinel, wait_until

from .conftest import is_signed_in, unique_username

pytestmark = pytest.mark.integration

# Sentinel calls the primary down after a second of silence; allow for the election.
FAILOVER_DEADLINE = 30
RECOVERY_DEADLINE = 10


def test_a_signed_in_user_stays_signed_in_through_a_failover(deployment):
    # No diskless-sync delay: the replica copies the data set at once instead of after 5 s.
    primary = deployment.redis("primary", extra=("--repl-diskless-sync-delay", "0"))
    replica = deployment.redis("replica", extra=("--replicaof", "127.0.0.1", str(primary.port)))
    sentinel = deployment.track(RedisSentinel(deployment.directory / "sentinel", primary.port).start())
    app = deployment.app(sentinel.url)
    browser = deployment.browser()
    browser.register(app, unique_username())
    assert is_signed_in(browser.get(app, "/dashboard"))
    session_key = store_key(browser.session_id)
    wait_until(lambda: replica.client().exists(session_key), what="the session to reach the replica")
    wait_until(lambda: sentinel.knows_healthy_replica(replica.port), what="the sentinel to see the replica in sync")

    primary.kill()

    def replica_promoted():
        # Keep the user clicking meanwhile: every answer during the failover is kept.
        browser.get(app, "/dashboard")
        return sentinel.primary_address() == ("127.0.0.1", replica.port)

    wait_until(replica_promoted, timeout=FAILOVER_DEADLINE, what="the sentinel to promote the replica")
    wait_until(
        lambda: is_signed_in(browser.get(app, "/dashboard")),
        timeout=RECOVERY_DEADLINE,
        what="the app to reach the new primary",
    )

    statuses = {status for _, _, status in browser.seen}
    assert statuses <= {200, 303, 503}, f"unexpected answers during the failover: {browser.seen}"
    assert browser.server_errors() == []
    assert "Traceback" not in app.log()
