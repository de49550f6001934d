"""Fixtures for the compose test: a Docker engine, the stand-in images, the project.

Everything started here is stopped here, also when a test fails: the project goes
with ``down --volumes`` and its own images, and dockerd stops if this run started it.
The stand-in images stay in the engine's cache for the next run.
"""

import os
import shutil
import warnings

import pytest
import yaml

from tests.compose.engine import COMPOSE_VERSION, TIMINGS, Docker, Dockerd, link_compose_plugin, timed
from tests.compose.stand_ins import (
    ROOT,
    base_image_present,
    build_base,
    build_stand_ins,
    images_without_a_stand_in,
)
from tests.support.tools import require


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.write_sep("-", "compose test: where the time went")
        for step, seconds in TIMINGS:
            terminalreporter.write_line(f"{seconds:6.1f} s  {step}")


@pytest.fixture(scope="session")
def docker(tmp_path_factory):
    """The docker CLI with Compose v2, talking to a running engine (started here if none)."""
    config_dir = tmp_path_factory.mktemp("docker-config")
    try:
        link_compose_plugin(config_dir)
    except FileNotFoundError as error:
        require(False, str(error))
    client = Docker(ROOT, config_dir)
    require(client.binary is not None, "docker not found (apt-get install docker.io)")
    version = client.compose("version", "--short").strip()
    assert version == COMPOSE_VERSION, f"docker compose is {version}, not the pinned {COMPOSE_VERSION}"
    engine = None
    if not client.answers():
        require(
            shutil.which("dockerd") is not None and os.geteuid() == 0,
            "no Docker engine answers, and starting dockerd needs root and Debian's docker.io",
        )
        engine = Dockerd(tmp_path_factory.mktemp("dockerd"))
    try:
        if engine is not None:
            with timed("dockerd started"):
                engine.start(client)
        yield client
    finally:
        if engine is not None:
            engine.stop()


@pytest.fixture(scope="session")
def stand_ins(docker, tmp_path_factory):
    """Every image the compose file and the Dockerfile name, present in the engine."""
    missing = images_without_a_stand_in()
    assert missing == [], f"no stand-in in tests/compose/stand-ins for {missing}"
    require(
        base_image_present(docker) or (shutil.which("debootstrap") is not None and os.geteuid() == 0),
        "the stand-ins' base image is made by debootstrap, as root (apt-get install debootstrap)",
    )
    directory = tmp_path_factory.mktemp("stand-ins")
    with timed("stand-in base image (debootstrap; kept for later runs)"):
        build_base(docker, directory)
    with timed("stand-in images (docker build; cached after the first run)"):
        official = build_stand_ins(docker, directory)
    for name in official:
        warnings.warn(f"{name} exists and is not a stand-in: the test uses it as it is", stacklevel=1)


class Project:
    """The compose project of docker-compose.yml, as its user drives it: ``docker compose ...``."""

    def __init__(self, docker):
        self.docker = docker
        # What the engine held before the project started (set by the fixture).
        self.before = None
        self.name = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["name"]

    def compose(self, *args, **options):
        return self.docker.compose(*args, **options)

    def container(self, short_name):
        """``web-1`` -> the container's name, as compose names it."""
        return f"{self.name}-{short_name}"

    def owned(self, kind):
        """Ids of this project's containers, volumes or networks, found by compose's label."""
        listing = {"container": ("ps", "--all"), "volume": ("volume", "ls"), "network": ("network", "ls")}[kind]
        label = f"label=com.docker.compose.project={self.name}"
        return self.docker.run(*listing, "--quiet", "--filter", label).split()

    def everything(self):
        """Every container, volume, network and image in the engine, by id."""
        return {
            "containers": set(self.docker.run("ps", "--all", "--quiet", "--no-trunc").split()),
            "volumes": set(self.docker.run("volume", "ls", "--quiet").split()),
            "networks": set(self.docker.run("network", "ls", "--quiet", "--no-trunc").split()),
            "images": set(self.docker.run("image", "ls", "--all", "--quiet", "--no-trunc").split()),
        }

    def remove_everything_since(self, before):
        """After ``down``: whatever a failed step left, and the images the builds made.

        The engine is taken to be this test's alone while it runs: anything new in it
        since ``before`` is the test's doing.
        """
        now = self.everything()
        for kind, command in (
            ("containers", ("rm", "--force", "--volumes")),
            ("networks", ("network", "rm")),
            ("volumes", ("volume", "rm", "--force")),
            ("images", ("image", "rm", "--force")),
        ):
            left = sorted(now[kind] - before[kind])
            if left:
                # An image may already be gone with the one it belonged to.
                self.docker.run(*command, *left, check=False)


@pytest.fixture(scope="module")
def project(docker, stand_ins):
    """The project, not started; at the end, removed with everything it made."""
    project = Project(docker)
    found = {kind: project.owned(kind) for kind in ("container", "volume", "network")}
    if any(found.values()):
        # Never touch someone's running site and its data.
        pytest.fail(f"a {project.name} project already exists here ({found}); remove it first: docker compose down")
    project.before = project.everything()
    yield project
    project.compose("down", "--volumes", "--remove-orphans", check=False)
    project.remove_everything_since(project.before)
