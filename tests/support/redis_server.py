"""A real, throwaway Redis server (a free loopback port, no persistence): no Asterisk needed.

Needs only the host's ``redis-server`` (Debian's redis-server package; `hotline test`
installs it, for the unit run too). The ACD's unit tests take the session fixture
:func:`redis_url`; the ACD benchmark takes :func:`redis_server` directly.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

from tests.support.ports import free_port


@contextmanager
def redis_server(prefix: str = "acd-redis-") -> Iterator[str]:
    """A redis-server in a fresh temp dir; yields its URL once it answers PING."""
    workdir = tempfile.mkdtemp(prefix=prefix)
    port = free_port("tcp")
    proc = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", workdir,
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url
