"""Redis Sentinel: the primary dies, a replica takes over, and nobody is signed out.

With ``REDIS_URL=redis+sentinel://...`` the app asks the sentinel where the primary
is, and asks again when a connection fails, so a failover needs no restart. While
it is under way the app may answer 503 ("try again shortly"), never 500.
"""

import pytest
import redis

from tests.conftest import store_key
from tests.support.processes import Process, free_port, redis_server_binary, wait_until

from .conftest import is_signed_in, unique_username

pytestmark = pytest.mark.integration

SERVICE = "mymaster"
# Sentinel calls the primary down after a second of silence; allow for the election.
FAILOVER_DEADLINE = 30
RECOVERY_DEADLINE = 10


class RedisSentinel(Process):
    """One sentinel watching ``primary_port``: redis-server in sentinel mode.

    Debian's ``redis-sentinel`` program is this same binary under another name; the
    ``--sentinel`` flag works where only the redis-server package is installed.
    Sentinel rewrites its config file as it learns, so the file lives in ``directory``.
    """

    def __init__(self, directory, primary_port):
        self.port = free_port()
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "sentinel.conf"
        config.write_text(
            f"port {self.port}\n"
            "bind 127.0.0.1\n"
            f"dir {directory}\n"
            "sentinel resolve-hostnames no\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {primary_port} 1\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 5000\n"
        )
        super().__init__([redis_server_binary(), str(config), "--sentinel"], directory / "sentinel.log")

    @property
    def url(self):
        return f"redis+sentinel://127.0.0.1:{self.port}/{SERVICE}"

    def client(self):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2, decode_responses=True)

    def primary_address(self):
        host, port = self.client().sentinel_get_master_addr_by_name(SERVICE)
        return host, int(port)

    def knows_healthy_replica(self, port):
        return any(
            replica["port"] == port
            and replica["master-link-status"] == "ok"
            and not (replica["is_sdown"] or replica["is_disconnected"])
            for replica in self.client().sentinel_slaves(SERVICE)
        )

    def start(self):
        super().start()
        wait_until(lambda: self.client().ping(), what=f"redis-sentinel on {self.port}")
        return self


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
