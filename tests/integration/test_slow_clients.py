"""Clients that send their requests slowly cannot stall the site behind its proxy.

Kind of fault: a few connections that send headers and then trickle (or never finish)
a body. gunicorn gives each request one of its threads and has no read timeout, so
four such connections stalled an instance of one worker with four threads: /healthz
went unanswered for ten minutes in an attack on gunicorn alone. In the compose
topology Caddy stands in front: it reads each body whole (``request_buffers``) before
a replica sees the request, so slow clients wait there, and Caddy copes with many idle
connections. This test runs deploy/Caddyfile with the pinned official Caddy (the
version of the compose file's image) in front of gunicorn.
"""

import socket
import time

import pytest
import requests

from tests.support.processes import AppServer, CaddyProxy

pytestmark = pytest.mark.integration

SLOW_CLIENTS = 12  # three times the instance's 4 threads


@pytest.fixture(scope="module")
def app(module_deployment):
    """The app in production under gunicorn (one worker, four threads), plain HTTP behind Caddy."""
    redis = module_deployment.redis()
    module_deployment.migrate_db(redis.url)
    settings = module_deployment.settings(redis.url, FLASK_TRUSTED_PROXIES="1")
    return module_deployment.track(AppServer(module_deployment.directory / "plain-app", settings).start())


@pytest.fixture(scope="module")
def proxy(module_deployment, app):
    return module_deployment.track(CaddyProxy(module_deployment.directory / "caddy", f"127.0.0.1:{app.port}").start())


def slow_client(proxy):
    """A connection that sends a sign-in's headers and 3 of the 100 bytes it announces."""
    connection = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    connection.sendall(
        f"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1:{proxy.port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nabc".encode()
    )
    return connection


def test_slow_bodies_wait_in_the_proxy_and_do_not_stall_the_site(proxy, app):
    stalled = [slow_client(proxy) for _ in range(SLOW_CLIENTS)]
    try:
        started = time.monotonic()
        for _ in range(5):
            assert requests.get(proxy.url + "/healthz", timeout=5).status_code == 200
        assert time.monotonic() - started < 5
        # None of them took a gunicorn thread: the app never saw those requests.
        assert '"path": "/auth/login"' not in app.log()
    finally:
        for connection in stalled:
            connection.close()
