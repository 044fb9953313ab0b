"""panoramisk's FastAGI application with a hardened request reader.

panoramisk 1.4 reads the AGI environment with `while b'\\n\\n' not in buffer: read()`:
a client that connects and closes (a health probe, a dropped call) makes `read()` return
b'' forever and that loop spins, blocking every call in the process. Here the environment
is read line by line with a time limit and size caps; EOF, junk, a missing uniqueid or
channel, or an unknown route closes only that connection.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict

from panoramisk.fast_agi import Application, Request

log = logging.getLogger(__name__)

# The whole environment must arrive within ENV_TIMEOUT_S (a slow-drip client is dropped
# then), in at most MAX_ENV_LINES lines of MAX_LINE_BYTES: about 800 KB at the very most.
ENV_TIMEOUT_S = 5.0
MAX_ENV_LINES = 200
MAX_LINE_BYTES = 4096
# Asterisk's variable names; values may be any bytes (a caller's name in Latin-1, say).
AGI_NAME = re.compile(r"agi_[a-z0-9_]{1,64}")
# What every real FastAGI request from Asterisk carries, and the routes rely on.
REQUIRED = ("agi_network_script", "agi_uniqueid", "agi_channel")


class MalformedEnvironment(Exception):
    pass


async def read_environment(reader: asyncio.StreamReader) -> OrderedDict[str, str]:
    headers: OrderedDict[str, str] = OrderedDict()
    for _ in range(MAX_ENV_LINES):
        raw = await reader.readline()
        if not raw:
            raise MalformedEnvironment("connection closed before the AGI environment ended")
        if len(raw) > MAX_LINE_BYTES:
            raise MalformedEnvironment("AGI environment line too long")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            return headers
        key, sep, value = line.partition(": ")
        if not sep or not AGI_NAME.fullmatch(key):
            raise MalformedEnvironment(f"not an AGI variable: {line[:80]!r}")
        headers[key] = value
    raise MalformedEnvironment("AGI environment too long")


def check_environment(headers: OrderedDict[str, str]) -> None:
    missing = [name for name in REQUIRED if not headers.get(name)]
    if missing:
        raise MalformedEnvironment(f"AGI environment without {', '.join(missing)}")


class FastAgiApplication(Application):
    async def handler(self, reader: asyncio.StreamReader,  # type: ignore[override]
                      writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            headers = await asyncio.wait_for(read_environment(reader), ENV_TIMEOUT_S)
            check_environment(headers)
        except (MalformedEnvironment, TimeoutError, ConnectionError, ValueError) as exc:
            log.info("dropping FastAGI connection from %r: %s", peer, exc or "timeout")
            writer.close()
            return
        script = headers.get("agi_network_script", "")
        route = self._route.get(script)
        if route is None:
            log.warning("no FastAGI route %r (from %r)", script, peer)
            writer.close()
            return
        request = Request(app=self, headers=headers, reader=reader, writer=writer,
                          encoding=self.default_encoding)
        try:
            await route(request)
        except Exception:
            log.exception("FastAGI route %r failed", script)
        finally:
            writer.close()
