"""A real softphone as a seat: Debian's baresip (package baresip-core), driven by ctrl_tcp.

:class:`Baresip` writes a config dir into the test's folder, starts ``baresip -4 -s -f DIR``
(its output, SIP trace included, in ``<label>.log`` there), waits until Asterisk holds its
registration, and talks to its ctrl_tcp module: netstring-framed JSON commands
(``{"command": "transfer", "params": "796166", "token": ...}``) answered by a response with
the same token, and events (``CALL_ESTABLISHED``, ``CALL_CLOSED``...) pushed on the same
connection. Written against baresip 1.0.0, what Debian ships here.

What baresip does by itself, and the config makes it do:

* it answers every call (``answermode=auto``) with PCMU only, and sends the WAV file of
  ``audio_source aufile,FILE`` (8 kHz 16-bit mono); at the file's end it hangs the call
  up, so the file must outlast the call;
* it plays what it hears into ``aubridge,nil`` (nowhere: there is no sound card);
* it answers Asterisk's qualify OPTIONS, and unregisters when it quits;
* it listens on UDP and TCP ``sip_port`` and, for TLS, on TCP ``sip_port + 1`` (1.0.0 has
  no setting to turn TLS off); RTP on ``rtp_port``..``rtp_port + 3``; every socket, and
  the SDP address, on 127.0.0.1 (``net_interface``).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.support.stack import Stack, wait_for

MODULE_PATH = Path("/usr/lib/baresip/modules")  # where baresip-core puts them
# menu registers the call commands that ctrl_tcp relays (transfer, hangup...); no UI
# module: nothing reads a terminal.
MODULES = ("g711", "aufile", "aubridge", "account", "menu", "ctrl_tcp")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

Message = dict[str, Any]

_live: set[subprocess.Popen[bytes]] = set()  # started, not yet stopped


@atexit.register
def _stop_leftovers() -> None:  # pragma: no cover - safety net only
    # A softphone left running would stay registered as its seat and hold its ports.
    for proc in list(_live):
        with contextlib.suppress(Exception):
            proc.kill()


class BaresipError(RuntimeError):
    """baresip did not start, register, answer a command or reach an event in time."""


def baresip_binary() -> str:
    found = os.environ.get("BARESIP") or shutil.which("baresip")
    if not found:
        raise BaresipError("baresip not found (install Debian's baresip-core, or set BARESIP)")
    return found


class Baresip:
    """One baresip process registered as one seat; a context manager (start / stop)."""

    def __init__(self, *, seat: str, password: str, registrar: str, sip_port: int,
                 rtp_port: int, ctrl_port: int, audio: Path, workdir: Path,
                 label: str = "baresip") -> None:
        self.seat = seat
        self.registrar = registrar  # "host:port" of Asterisk's SIP transport
        self.sip_port, self.rtp_port, self.ctrl_port = sip_port, rtp_port, ctrl_port
        self.audio = audio
        self.confdir = workdir / f"{label}-conf"
        self.log = workdir / f"{label}.log"
        self.events: list[Message] = []  # every event read so far, in order
        self.proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._token = 0
        self._password = password

    # -- config and process ----------------------------------------------------------

    def write_config(self) -> Path:
        self.confdir.mkdir(parents=True, exist_ok=True)
        modules = "\n".join(f"module {name}.so" for name in MODULES)
        (self.confdir / "config").write_text(f"""\
poll_method epoll
sip_listen 127.0.0.1:{self.sip_port}
net_interface 127.0.0.1
call_local_timeout 120
audio_player aubridge,nil
audio_alert aubridge,nil
audio_source aufile,{self.audio}
rtp_ports {self.rtp_port}-{self.rtp_port + 3}
rtcp_mux no
module_path {MODULE_PATH}
{modules}
ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}
statmode_default off
ringback_disabled yes
""")  # statmode off: no call status line every 100 ms in the log
        # mwi=no: no SUBSCRIBE for voicemail, which the PBX does not offer.
        account = (f"<sip:{self.seat}@{self.registrar}>;auth_pass={self._password}"
                   ";answermode=auto;audio_codecs=PCMU;ptime=20;regint=300;mwi=no")
        (self.confdir / "accounts").write_text(account + "\n")
        (self.confdir / "contacts").write_text("")
        return self.confdir

    def start(self) -> Baresip:
        self.write_config()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [baresip_binary(), "-4", "-s", "-f", str(self.confdir)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        _live.add(self.proc)
        deadline = time.monotonic() + 10
        try:
            while self._sock is None:
                self._check_running()
                try:
                    self._sock = socket.create_connection(("127.0.0.1", self.ctrl_port),
                                                          timeout=1)
                except OSError:
                    if time.monotonic() > deadline:
                        raise BaresipError(
                            f"no ctrl_tcp on {self.ctrl_port}: {self.tail()}") from None
                    time.sleep(0.1)
        except BaseException:
            self.stop()  # __exit__ will not run: a failed start leaves no process
            raise
        return self

    def stop(self) -> None:
        """quit (baresip unregisters first), then SIGTERM, then SIGKILL."""
        if self.proc is None:
            return
        quit_sent = False
        if self.proc.poll() is None and self._sock is not None:
            with contextlib.suppress(OSError, BaresipError):
                self._send("quit", None)
                quit_sent = True
        # Unregistering takes one round trip to Asterisk; an unanswered one would take
        # baresip 32 s of retransmissions.
        steps: list[tuple[signal.Signals | None, float]] = [(signal.SIGTERM, 3.0),
                                                            (signal.SIGKILL, 5.0)]
        if quit_sent:
            steps.insert(0, (None, 5.0))
        for sig, grace in steps:
            if sig is not None and self.proc.poll() is None:
                os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        _live.discard(self.proc)
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Baresip:
        return self.start() if self.proc is None else self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def tail(self, chars: int = 4000) -> str:
        """The end of baresip's log, for failure messages."""
        with contextlib.suppress(OSError):
            return _ANSI.sub("", self.log.read_text(errors="replace"))[-chars:]
        return ""

    def _check_running(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            raise BaresipError(f"baresip is not running (exit {code}): {self.tail()}")

    # -- ctrl_tcp ---------------------------------------------------------------------

    def _send(self, command: str, params: str | None) -> str:
        if self._sock is None:
            raise BaresipError("not connected to ctrl_tcp")
        self._token += 1
        token = f"t{self._token}"
        message: Message = {"command": command, "token": token}
        if params is not None:
            message["params"] = params
        data = json.dumps(message).encode()
        self._sock.sendall(b"%d:%s," % (len(data), data))
        return token

    def _read(self, timeout: float) -> Message | None:
        """The next message (a response or an event), or None after ``timeout``."""
        assert self._sock is not None
        deadline = time.monotonic() + timeout
        while True:
            head, colon, rest = self._buffer.partition(b":")
            if colon and len(rest) > int(head):
                size = int(head)
                self._buffer = rest[size + 1:]  # the payload, then a comma
                message: Message = json.loads(rest[:size])
                if message.get("event"):
                    self.events.append(message)
                return message
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._sock.settimeout(min(left, 0.5))
            try:
                chunk = self._sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                raise BaresipError(f"ctrl_tcp closed the connection: {self.tail()}")
            self._buffer += chunk

    def command(self, command: str, params: str | None = None,
                timeout: float = 5) -> Message:
        """Runs a command; its response (``ok``, ``data``). Events read meanwhile are kept."""
        token = self._send(command, params)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self._read(left)
            if message is not None and message.get("token") == token:
                return message
        raise BaresipError(f"no response to {command!r} in {timeout} s: {self.tail()}")

    def wait_event(self, kind: str, timeout: float) -> Message:
        """The first event of that type, among those read already or arriving."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("type") == kind:
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                self._check_running()
                seen = [e.get("type") for e in self.events]
                raise BaresipError(f"no {kind} event in {timeout} s (saw {seen}): {self.tail()}")
            self._read(min(left, 0.5))

    def drain(self) -> None:
        """Reads the events that have arrived, without waiting."""
        while self._read(0.05) is not None:
            pass

    # -- registration -----------------------------------------------------------------

    def registered(self) -> bool:
        """baresip's own view: its registration answered 200 (reginfo prints "OK")."""
        data = _ANSI.sub("", str(self.command("reginfo").get("data", "")))
        return any(f"sip:{self.seat}@" in line and " OK " in line for line in data.splitlines())

    def wait_registered(self, stack: Stack, timeout: float = 15) -> None:
        """Until baresip says it is registered, Asterisk holds its contact (stored with
        baresip's User-Agent and address) and has qualified it (Avail), and the hotline's
        presence watcher has marked the seat registered: only then is it offered calls."""
        wait_for(self.registered, timeout, f"{self.seat}'s REGISTER to be answered 200",
                 interval=0.2)

        def stored() -> bool:
            # The contacts list cuts long URIs (baresip's are sip:SEAT-0x...@host:port);
            # the astdb row is whole.
            rows = stack.asterisk("database show registrar/contact").splitlines()
            return any(f"/registrar/contact/{self.seat};" in row and "baresip" in row
                       and f"@127.0.0.1:{self.sip_port}" in row for row in rows)

        def qualified() -> bool:
            rows = stack.asterisk("pjsip show contacts").splitlines()
            return any(f"{self.seat}/sip:{self.seat}-" in row and " Avail " in row
                       for row in rows)

        wait_for(stored, timeout, f"Asterisk to store {self.seat}'s contact", interval=0.2)
        wait_for(qualified, timeout, f"Asterisk to qualify {self.seat}", interval=0.2)
        wait_for(lambda: stack.seat_state(self.seat).get("registered") == "1", timeout,
                 f"the presence watcher to see {self.seat} registered")


__all__ = ["MODULES", "MODULE_PATH", "Baresip", "BaresipError", "baresip_binary"]
