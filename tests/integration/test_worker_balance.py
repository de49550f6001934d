"""gunicorn's workers share the connections: each has a listening socket of its own.

Kind of fault: with one listening socket shared by every worker, the workers race to
accept, and a burst of keep-alive connections (a proxy's pool, a load test) could all
land on one worker while the other idled: the benchmark measured half the throughput
in one run of three. gunicorn.conf.py sets ``reuse_port``, so each worker listens on
a socket of its own (SO_REUSEPORT) and the kernel spreads new connections over them.
"""

import socket
import threading
import time
from pathlib import Path

import pytest

from tests.support.processes import AppServer

pytestmark = pytest.mark.integration

WORKERS = 2
CONNECTIONS = 16
LOAD_SECONDS = 2
LISTEN = "0A"  # the state column of /proc/net/tcp


@pytest.fixture(scope="module")
def app(module_deployment):
    redis = module_deployment.redis()
    module_deployment.migrate_db(redis.url)
    settings = module_deployment.settings(redis.url)
    server = AppServer(module_deployment.directory / "balanced-app", settings, workers=WORKERS)
    return module_deployment.track(server.start())


def listening_sockets(port):
    """The inodes of the sockets listening on ``port`` (IPv4)."""
    inodes = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == LISTEN:
            inodes.append(fields[9])
    return inodes


def workers_of(master_pid):
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def cpu_ticks(pid):
    """User and system time of ``pid`` so far, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def keep_asking(port, stop):
    """One keep-alive connection sending /healthz until ``stop`` is set."""
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        reader = connection.makefile("rb")
        while not stop.is_set():
            connection.sendall(request)
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            reader.read(length)


def test_each_worker_listens_on_a_socket_of_its_own(app):
    assert len(set(listening_sockets(app.port))) == WORKERS


def test_a_burst_of_keep_alive_connections_reaches_every_worker(app):
    workers = workers_of(app.process.pid)
    assert len(workers) == WORKERS
    before = {pid: cpu_ticks(pid) for pid in workers}
    stop = threading.Event()
    clients = [threading.Thread(target=keep_asking, args=(app.port, stop)) for _ in range(CONNECTIONS)]
    for client in clients:
        client.start()
    time.sleep(LOAD_SECONDS)
    stop.set()
    for client in clients:
        client.join(timeout=15)
    spent = {pid: cpu_ticks(pid) - before[pid] for pid in workers}
    # Spread by the kernel, each worker gets about half; all sixteen connections on one
    # worker (what the shared socket did in one run of three) leaves the other at zero.
    total = sum(spent.values())
    assert total > 0
    assert all(ticks > total * 0.05 for ticks in spent.values()), spent
