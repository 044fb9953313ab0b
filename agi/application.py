"""panoramisk's FastAGI application with a hardened request reader.

panoramisk 1.4 reads the AGI environment with `while b'\\n\\n' not in buffer: read()`:
a client that connects and closes (a health probe, a dropped call) makes `read()` return
b'' forever and that loop spins, blocking every call in the process. Here the environment
is read line by line with a time limit; EOF, junk or an unknown route closes only that
connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

from panoramisk.fast_agi import Application, Request

log = logging.getLogger(__name__)

ENV_TIMEOUT_S = 5.0
MAX_ENV_LINES = 200
MAX_LINE_BYTES = 4096


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
        if not sep or not key.startswith("agi_"):
            raise MalformedEnvironment(f"not an AGI variable: {line[:80]!r}")
        headers[key] = value
    raise MalformedEnvironment("AGI environment too long")


class FastAgiApplication(Application):
    async def handler(self, reader: asyncio.StreamReader,  # type: ignore[override]
                      writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            headers = await asyncio.wait_for(read_environment(reader), ENV_TIMEOUT_S)
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
