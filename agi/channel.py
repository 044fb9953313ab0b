"""One live call's AGI conversation, over panoramisk's FastAGI request.

panoramisk reads exactly one line per command, but Asterisk also pushes an unsolicited
"HANGUP" line when the caller hangs up. A reader task here splits that notice from the
command replies, so replies never get out of step and a waiting call learns of the
hang-up at once, without polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from panoramisk.fast_agi import Request

log = logging.getLogger(__name__)


class ChannelGone(Exception):
    """The AGI socket closed: Asterisk ended the session."""


@dataclass(frozen=True)
class AgiReply:
    code: int
    result: str
    data: str
    line: str

    @property
    def hung_up(self) -> bool:
        return self.code == 511 or (self.code == 200 and self.result == "-1")

    @property
    def digit(self) -> str | None:
        """The key pressed, for STREAM FILE / WAIT FOR DIGIT replies."""
        if self.code == 200 and self.result.isdigit() and int(self.result) > 0:
            return chr(int(self.result))
        return None


def parse_reply(line: str) -> AgiReply:
    code_text, _, rest = line.partition(" ")
    try:
        code = int(code_text[:3])
    except ValueError:
        return AgiReply(code=0, result="", data="", line=line)
    result, data = "", ""
    if code == 200 and rest.startswith("result="):
        value, _, tail = rest[len("result="):].partition(" ")
        result = value
        if tail.startswith("(") and tail.endswith(")"):
            data = tail[1:-1]
    return AgiReply(code=code, result=result, data=data, line=line)


class AgiChannel:
    def __init__(self, request: Request) -> None:
        self.env: dict[str, str] = dict(request.headers)
        self._reader = request.reader
        self._writer = request.writer
        self._encoding = request.encoding
        self._replies: asyncio.Queue[str | None] = asyncio.Queue()
        self.hangup = asyncio.Event()
        self._task = asyncio.create_task(self._read_lines())

    async def _read_lines(self) -> None:
        try:
            while True:
                raw = await self._reader.readline()
                if not raw:
                    break
                line = raw.decode(self._encoding, "replace").rstrip("\r\n")
                if line == "HANGUP":
                    self.hangup.set()
                    continue
                self._replies.put_nowait(line)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.hangup.set()
            self._replies.put_nowait(None)

    async def command(self, *words: str) -> AgiReply:
        text = " ".join(words)
        if "\n" in text:
            raise ValueError("AGI command with a line break")
        self._writer.write((text + "\n").encode(self._encoding))
        try:
            await self._writer.drain()
        except ConnectionError as exc:
            raise ChannelGone(text) from exc
        while True:
            line = await self._replies.get()
            if line is None:
                self._replies.put_nowait(None)  # later commands see it too
                raise ChannelGone(text)
            if line.startswith("100"):
                continue  # "100 Trying..."; the real reply follows
            if line.startswith("520-"):
                # Usage text, ended by "520 End of proper usage."
                while (more := await self._replies.get()) is not None and \
                        not more.startswith("520 "):
                    pass
                return AgiReply(code=520, result="", data="", line=line)
            reply = parse_reply(line)
            if reply.code != 200:
                log.debug("AGI %r -> %s", text, line)
            return reply

    async def get_variable(self, name: str) -> str:
        reply = await self.command("GET VARIABLE", name)
        return reply.data if reply.code == 200 and reply.result == "1" else ""

    async def set_variable(self, name: str, value: str) -> None:
        await self.command("SET VARIABLE", name, quote(value))

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def quote(value: str) -> str:
    """AGI arguments are space-separated; quote anything with spaces or quotes."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
