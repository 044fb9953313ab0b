"""Installs what is missing, and reuses what is there: host packages, the Asterisk root.

Every step checks first, so a second `hotline up` costs seconds.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from infra.settings import Settings

# Host commands the hotline runs, and the Debian package that brings each.
HOST_COMMANDS = {
    "debootstrap": "debootstrap",
    "redis-server": "redis-server",
    "espeak-ng": "espeak-ng",
    "sox": "sox",
    "unshare": "util-linux",
}
# The wallboard test drives Debian's Chromium headless through its chromedriver; the
# softphone test registers Debian's baresip as a seat.
TEST_COMMANDS = {"sipp": "sip-tester", "chromium": "chromium", "chromedriver": "chromium-driver",
                 "baresip": "baresip-core"}
# Files the tests need that no command names: a CJK font, so the wallboard's screenshot
# shows Chinese rather than empty boxes.
TEST_FILES = {"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc": "fonts-wqy-zenhei"}

# What the root holds besides Asterisk: the fallback AGI script's Python and its database
# drivers (the script must not depend on the FastAGI service or the host's venv).
ROOT_PACKAGES = [
    "asterisk", "asterisk-modules", "asterisk-moh-opsound-wav",
    "python3", "python3-sqlalchemy", "python3-psycopg2",
]
ROOT_PIP_PACKAGES = ["pyst2==0.5.1", "six"]
ROOT_STAMP = "etc/hotline-root.stamp"


def say(message: str) -> None:
    print(f"hotline: {message}", flush=True)


def _apt_install(packages: list[str]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    say(f"installing {' '.join(packages)} (apt-get)")
    done = subprocess.run(["apt-get", "install", "-y", "-q", *packages], env=env,
                          stdout=subprocess.DEVNULL)
    if done.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-q", *packages], env=env, check=True,
                       stdout=subprocess.DEVNULL)


def ensure_host_commands(commands: dict[str, str]) -> None:
    missing = sorted({pkg for cmd, pkg in commands.items() if shutil.which(cmd) is None})
    if missing:
        _apt_install(missing)


def ensure_host_files(files: dict[str, str]) -> None:
    missing = sorted({pkg for path, pkg in files.items() if not Path(path).exists()})
    if missing:
        _apt_install(missing)


def root_is_ready(root: Path) -> bool:
    return (root / ROOT_STAMP).exists() and (root / "usr/sbin/asterisk").exists()


def ensure_asterisk_root(settings: Settings) -> None:
    root = settings.asterisk_root
    if not root_is_ready(root):
        partial = root.with_name(root.name + ".partial")
        if partial.exists():
            shutil.rmtree(partial)
        say(f"building the Asterisk root (Debian sid, debootstrap) in {root}; about a minute")
        root.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(ROOT_PACKAGES)}",
             "sid", str(partial), settings.debian_mirror],
            check=True, stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
             str(partial / "usr/local/lib/hotline-py"), *ROOT_PIP_PACKAGES],
            check=True,
        )
        (partial / ROOT_STAMP).write_text("packages: " + " ".join(ROOT_PACKAGES) + "\n")
        if root.exists():
            shutil.rmtree(root)
        partial.rename(root)
    prepare_root_for_start(root)


def prepare_root_for_start(root: Path) -> None:
    """What the root needs at every start, since the machine may have changed."""
    (root / "var/run/asterisk").mkdir(parents=True, exist_ok=True)
    # Without the hostname in /etc/hosts, every call does failed DNS look-ups.
    hostname = socket.gethostname()
    (root / "etc/hosts").write_text(
        f"127.0.0.1\tlocalhost {hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    )
