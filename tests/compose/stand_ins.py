"""Local stand-ins for the images the compose file and the Dockerfile name.

No image registry is reachable here, so each image must exist before ``up``. The
stand-ins are built from a Debian 12 base made by ``debootstrap --variant=minbase``
from the mirror apt already uses, and tagged with the official names. How they differ
from the official images: stand-ins/README.md.

An image of that name that is not a stand-in (an official image pulled earlier) is
used as it is and never overwritten.
"""

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from tests.support.processes import caddy_binary

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
# Official name -> folder under stand-ins/.
STAND_INS = {
    "python:3.11-slim": "python",
    "alpine:3.20": "alpine",
    "redis:7-alpine": "redis",
    "postgres:16-alpine": "postgres",
    "caddy:2-alpine": "caddy",
    "axllent/mailpit:v1.21": "mailpit",
}
BASE_IMAGE = "flask-secure-sessions/stand-in-base:bookworm"
# Set on every stand-in, so that the test can tell one from an official image.
LABEL = "flask-secure-sessions.stand-in-for"
RELEASE = "bookworm"
# Extra certificate authorities of this machine (Debian's place for them): pip inside
# the app's image build reaches the package index only through a proxy that they sign.
LOCAL_AUTHORITIES = Path("/usr/local/share/ca-certificates")
DEBOOTSTRAP_TIMEOUT = 900


def images_the_files_name():
    """Every image named by docker-compose.yml (``image:``) or the Dockerfile (``FROM``)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    names = {service["image"] for service in compose["services"].values() if "image" in service}
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = set(re.findall(r"^FROM \S+ AS (\S+)", dockerfile, re.MULTILINE | re.IGNORECASE))
    names |= set(re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE | re.IGNORECASE)) - stages
    return names


def debian_mirror():
    """The Debian mirror apt uses here, from apt's own configuration."""
    output = subprocess.run(
        [
            "apt-get",
            "indextargets",
            "--format",
            "$(REPO_URI)",
            "Identifier: Packages",
            f"Release: {RELEASE}",
            "Component: main",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not output:
        raise RuntimeError(f"apt knows no Debian {RELEASE} mirror (run apt-get update)")
    return output[0]


def base_image_present(docker):
    return bool(docker.run("image", "ls", "--quiet", BASE_IMAGE).strip())


def build_base(docker, directory):
    """The minimal Debian base every stand-in starts from, kept once built (about 40 s)."""
    if base_image_present(docker):
        return
    rootfs = Path(directory) / "rootfs"
    result = subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=ca-certificates",
            RELEASE,
            str(rootfs),
            debian_mirror(),
        ],
        capture_output=True,
        text=True,
        timeout=DEBOOTSTRAP_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"debootstrap failed:\n{(result.stdout + result.stderr)[-3000:]}")
    if LOCAL_AUTHORITIES.is_dir():
        shutil.copytree(LOCAL_AUTHORITIES, rootfs / "usr/local/share/ca-certificates", dirs_exist_ok=True)
        subprocess.run(["chroot", str(rootfs), "update-ca-certificates"], capture_output=True, check=True)
    # Package installs in image builds must not try to start services.
    policy = rootfs / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    # The downloaded packages and lists: the stand-ins fetch fresh lists.
    for package in (rootfs / "var/cache/apt/archives").glob("*.deb"):
        package.unlink()
    shutil.rmtree(rootfs / "var/lib/apt/lists")
    archive = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    try:
        subprocess.run(
            [docker.binary, "import", "--change", 'CMD ["bash"]', "-", BASE_IMAGE],
            stdin=archive.stdout,
            env=docker.environment,
            capture_output=True,
            check=True,
            timeout=DEBOOTSTRAP_TIMEOUT,
        )
    finally:
        archive.stdout.close()
        archive.wait()
    shutil.rmtree(rootfs)


def official_image_present(docker, name):
    """True when ``name`` exists locally and is not one of our stand-ins."""
    labels = docker.run("image", "inspect", "--format", "{{json .Config.Labels}}", name, check=False).strip()
    return bool(labels) and LABEL not in (json.loads(labels) or {})


def images_without_a_stand_in():
    return sorted(images_the_files_name() - set(STAND_INS))


def build_stand_ins(docker, directory):
    """Build (or find in the engine's cache) a stand-in for every image the files name.

    Needs the base image (``build_base``). Returns the names left to an official
    image found locally.
    """
    official = []
    for name, folder in STAND_INS.items():
        if official_image_present(docker, name):
            official.append(name)
            continue
        with tempfile.TemporaryDirectory(dir=directory) as context:
            shutil.copytree(HERE / "stand-ins" / folder, context, dirs_exist_ok=True)
            if folder == "caddy":
                shutil.copy(caddy_binary(), Path(context) / "caddy")
            docker.run("build", "--force-rm", "--label", f"{LABEL}={name}", "--tag", name, context)
    return official
