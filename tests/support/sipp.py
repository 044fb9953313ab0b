"""Run SIPp scenarios from tests: start, wait, stop, read the SIP messages and counters.

One :class:`Sipp` object is one ``sipp`` process.  Scenario files are looked up in
``tests/sipp/`` unless a path to an existing file is given.  Every run writes into
``workdir``:

``<label>_messages.log``  every SIP message sent/received (``-trace_msg``), parsed by
                          :meth:`Sipp.messages`
``<label>_errors.log``    unexpected messages and scenario errors (``-trace_err``)
``<label>_stats.csv``     cumulative counters (``-trace_stat -fd 1``), read by
                          :attr:`Sipp.stats`
``<label>_logs.log``      output of ``<log>`` actions (``-trace_logs``)
``<label>_stdout.log`` / ``<label>_stderr.log``

SIPp runs in the foreground of its own session (``setsid``), with stdin from
``/dev/null`` and ``-nostdin``, so no terminal is needed.  It runs with ``TZ=UTC0``:
SIPp stamps message blocks with *local* wall-clock time and no zone
(``2026-11-24 04:34:25.846821``), so forcing UTC makes them exact epoch seconds.

Scenario variables are passed with ``-set NAME VALUE``; a scenario must declare them
in ``<Global variables="...">`` (SIPp refuses unknown ones, and so does this runner,
before starting).  Unset variables take the defaults documented in each scenario.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import io
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Literal

from tests.support.ports import free_port

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "sipp"
PCAP_DIR = Path(os.environ.get("SIPP_PCAP_DIR", "/usr/share/sip-tester"))

# Exit codes documented by `sipp -h`.
EXIT_ALL_CALLS_OK = 0
EXIT_SOME_CALL_FAILED = 1
EXIT_INTERNAL_COMMAND = 97
EXIT_NO_CALL_PROCESSED = 99
EXIT_FATAL = 255  # sipp's -1
EXIT_BIND_FAILED = 254  # sipp's -2

Direction = Literal["recv", "sent"]

_COMPACT_HEADERS = {
    "i": "call-id",
    "m": "contact",
    "e": "content-encoding",
    "l": "content-length",
    "c": "content-type",
    "f": "from",
    "s": "subject",
    "k": "supported",
    "t": "to",
    "v": "via",
}

# "----------------------------------------------- 2026-11-24 04:34:25.846821"
_BLOCK_START = re.compile(
    rb"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)[ \t]*\r?\n", re.MULTILINE
)
# "UDP message received [514] bytes :" / "UDP message sent (313 bytes):"
_BLOCK_TITLE = re.compile(r"^(\w+) message (received|sent)\b")


class SippError(RuntimeError):
    """sipp could not be started, or failed in a way the caller asked to check."""


class SippTimeout(SippError):
    """sipp (or an awaited message) did not finish within the allowed time."""


@dataclass(frozen=True)
class SipMessage:
    """One SIP message as traced by sipp (``-trace_msg``)."""

    at: float
    """Unix epoch seconds (wall clock, comparable with ``time.time()``)."""
    direction: Direction
    first_line: str
    headers: dict[str, str]
    """Lower-case header names (compact forms expanded); the first value wins."""
    body: str = ""
    raw: str = field(default="", repr=False)
    transport: str = "UDP"

    @property
    def is_request(self) -> bool:
        return not self.first_line.startswith("SIP/")

    @property
    def method(self) -> str | None:
        """Request method (``INVITE``...), or ``None`` for a response."""
        return self.first_line.split(" ", 1)[0] if self.is_request else None

    @property
    def status(self) -> int | None:
        """Response code, or ``None`` for a request."""
        if self.is_request:
            return None
        parts = self.first_line.split(" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None

    @property
    def call_id(self) -> str | None:
        return self.headers.get("call-id")

    @property
    def cseq_method(self) -> str | None:
        """The method named in CSeq (tells which request a response answers)."""
        cseq = self.headers.get("cseq", "").split()
        return cseq[1] if len(cseq) > 1 else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class SippStats:
    """Cumulative call counters from sipp's ``-trace_stat`` CSV.

    sipp rewrites a row every second (``-fd 1``) and once more when it exits, so
    while it runs the numbers lag by up to a second.  A UAS counts a call only when
    its scenario has run to the end.  All zero before the first row is written.
    """

    created: int = 0
    current: int = 0
    successful: int = 0
    failed: int = 0
    retransmissions: int = 0
    out_of_call: int = 0
    dead_call: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    """Non-zero ``Failed...(C)`` counters by name, e.g. ``{"FailedRegexpDoesntMatch": 1}``."""
    raw: dict[str, str] = field(default_factory=dict, repr=False)
    at: float | None = None
    """sipp's CurrentTime of the row (epoch seconds), ``None`` if no row yet."""


_live: set[Sipp] = set()  # started and not yet seen to exit: stopped at interpreter exit


@atexit.register
def _stop_leftovers() -> None:  # pragma: no cover - safety net only
    for proc in list(_live):
        with contextlib.suppress(Exception):
            proc.stop(grace=0.0)


def sipp_binary() -> str:
    """The sipp executable: ``$SIPP`` or the first ``sipp`` on PATH."""
    found = os.environ.get("SIPP") or shutil.which("sipp")
    if not found:
        raise SippError("sipp not found (install Debian's sip-tester, or set SIPP)")
    return found


def scenario_path(scenario: str | Path) -> Path:
    """Resolve a scenario name (``citizen_talk`` / ``citizen_talk.xml``) or path."""
    path = Path(scenario)
    if path.is_file():
        return path.resolve()
    name = path.name if path.suffix == ".xml" else f"{path.name}.xml"
    candidate = SCENARIO_DIR / name
    if candidate.is_file():
        return candidate
    raise FileNotFoundError(f"no SIPp scenario {scenario!r} (looked in {SCENARIO_DIR})")


def dtmf_pcap(digit: str) -> Path:
    """The RFC 2833 pcap sip-tester ships for one key: ``0``-``9``, ``*``, ``#``."""
    names = {"*": "star", "#": "pound"}
    if digit not in names and not (len(digit) == 1 and digit.isdigit()):
        raise ValueError(f"no DTMF pcap for {digit!r}")
    return PCAP_DIR / f"dtmf_2833_{names.get(digit, digit)}.pcap"


@dataclass(frozen=True)
class ScenarioInfo:
    path: Path
    name: str
    is_server: bool
    """True when the first message is a ``<recv>`` (a UAS waiting for calls)."""
    variables: frozenset[str]
    """Names declared in ``<Global variables="...">`` (settable with ``-set``)."""
    keywords: frozenset[str]
    """``[name]`` keywords that must come from ``-key`` (only ``dtmf_pcap`` is known)."""
    uses_auth: bool
    """Has an ``[authentication]`` keyword: digest credentials come from -au/-ap."""


def scenario_info(scenario: str | Path) -> ScenarioInfo:
    path = scenario_path(scenario)
    root = ET.parse(path).getroot()
    variables: set[str] = set()
    for glob in root.iter("Global"):
        variables.update(v.strip() for v in glob.get("variables", "").split(",") if v.strip())
    first = next(
        (el.tag for el in root if el.tag in ("send", "recv", "pause", "nop", "sendCmd", "recvCmd")),
        "send",
    )
    text = path.read_text(encoding="latin-1")
    keywords = {"dtmf_pcap"} if "[dtmf_pcap]" in text else set()
    return ScenarioInfo(
        path=path,
        name=root.get("name", path.stem),
        is_server=first == "recv",
        variables=frozenset(variables),
        keywords=frozenset(keywords),
        uses_auth="[authentication" in text,
    )


def _proc_net_hex(ip: str) -> str:
    # /proc/net/udp prints the IPv4 address as a host-order u32 in hex.
    return f"{struct.unpack('=I', socket.inet_aton(ip))[0]:08X}"


def _socket_inodes(pid: int) -> set[str]:
    inodes: set[str] = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        for fd in fd_dir.iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    return inodes


def _is_bound(pid: int, ip: str, port: int, tcp: bool) -> bool:
    """Does process ``pid`` hold a socket bound to ip:port (UDP, or TCP listening)?"""
    table = Path("/proc/net/tcp" if tcp else "/proc/net/udp")
    wanted = {f"{_proc_net_hex(ip)}:{port:04X}", f"00000000:{port:04X}"}
    try:
        lines = table.read_text().splitlines()[1:]
    except OSError:
        return False
    inodes = set()
    for line in lines:
        cols = line.split()
        if len(cols) < 10 or cols[1] not in wanted:
            continue
        if tcp and cols[3] != "0A":  # LISTEN
            continue
        inodes.add(cols[9])
    return bool(inodes & _socket_inodes(pid))


def _parse_block(stamp: bytes, payload: bytes) -> SipMessage | None:
    """One -trace_msg block; ``None`` if it is not (yet) a complete SIP message."""
    title, _, rest = payload.partition(b"\n")
    match = _BLOCK_TITLE.match(title.decode("utf-8", errors="replace").strip())
    if not match:
        return None
    transport, verb = match.groups()
    rest = rest.lstrip(b"\r\n")
    sep = re.search(rb"\r?\n\r?\n", rest)
    if not sep:
        return None
    head = rest[: sep.start()].decode("utf-8", errors="replace")
    body = rest[sep.end() :]
    lines = head.replace("\r\n", "\n").split("\n")
    headers: dict[str, str] = {}
    last: str | None = None
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and last is not None:
            headers[last] = f"{headers[last]} {line.strip()}"  # folded line
            continue
        name, colon, value = line.partition(":")
        if not colon:
            continue
        key = name.strip().lower()
        key = _COMPACT_HEADERS.get(key, key)
        last = None
        if key not in headers:
            headers[key] = value.strip()
            last = key
    length = headers.get("content-length", "0").strip()
    want = int(length) if length.isdigit() else 0
    if len(body) < want:
        return None  # body not fully written yet
    when = datetime.strptime(stamp.decode(), "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    return SipMessage(
        at=when.timestamp(),
        direction="recv" if verb == "received" else "sent",
        first_line=lines[0].strip(),
        headers=headers,
        body=body[:want].decode("utf-8", errors="replace"),
        raw=(rest[: sep.end()] + body[:want]).decode("utf-8", errors="replace"),
        transport=transport,
    )


def _int(row: Mapping[str, str], key: str) -> int:
    value = row.get(key, "").strip()
    try:
        return int(float(value))
    except ValueError:
        return 0


def parse_stats(path: Path) -> SippStats:
    """The last complete row of a ``-trace_stat`` CSV (``;``-separated)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return SippStats()
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    if len(rows) < 2:
        return SippStats()
    header = rows[0]
    complete = [r for r in rows[1:] if len(r) >= len(header) - 1]
    if not complete:
        return SippStats()
    row = dict(zip(header, complete[-1], strict=False))
    failures = {
        key[: -len("(C)")]: _int(row, key)
        for key in header
        if key.startswith("Failed")
        and key.endswith("(C)")
        and key != "FailedCall(C)"
        and _int(row, key)
    }
    at: float | None = None
    with contextlib.suppress(ValueError, IndexError):
        at = float(row.get("CurrentTime", "").split("\t")[-1])
    return SippStats(
        created=_int(row, "TotalCallCreated"),
        current=_int(row, "CurrentCall"),
        successful=_int(row, "SuccessfulCall(C)"),
        failed=_int(row, "FailedCall(C)"),
        retransmissions=_int(row, "Retransmissions(C)"),
        out_of_call=_int(row, "OutOfCallMsgs(C)"),
        dead_call=_int(row, "DeadCallMsgs(C)"),
        failures=failures,
        raw=row,
        at=at,
    )


class Sipp:
    """One sipp process running one scenario.

    A client scenario (first message sent) needs ``remote`` and places ``calls``
    calls (default 1) at ``rate`` calls/s; a server scenario (first message
    received, e.g. a seat) runs until :meth:`stop` unless ``calls`` is given.
    ``local_port`` defaults to a free port, available as :attr:`local_port`.

    ``variables`` become ``-set NAME VALUE``; ``caller`` is ``variables["caller"]``;
    ``service`` is ``-s`` (the dialled number, or a registering seat's user);
    ``keys`` become ``-key NAME VALUE`` (a scenario using ``[dtmf_pcap]`` gets the
    digit-1 pcap unless ``keys`` or ``dtmf`` say otherwise); ``auth_user`` /
    ``auth_password`` are ``-au`` / ``-ap`` for ``[authentication]`` (for such a
    scenario the ``user`` / ``password`` variables fill them in, and ``domain``
    becomes ``-auth_uri`` so the digest URI matches the Request-URI);
    ``timeout_s`` is sipp's own global ``-timeout`` (with ``-timeout_error``).
    """

    _labels_taken: set[Path] = set()

    def __init__(
        self,
        scenario: str | Path,
        *,
        remote: str | None = None,
        local_ip: str = "127.0.0.1",
        local_port: int | None = None,
        calls: int | None = None,
        rate: float | None = None,
        concurrent_limit: int | None = None,
        variables: Mapping[str, str | int | float] | None = None,
        service: str | None = None,
        caller: str | None = None,
        timeout_s: float | None = None,
        workdir: Path,
        keys: Mapping[str, str] | None = None,
        dtmf: str | None = None,
        auth_user: str | None = None,
        auth_password: str | None = None,
        media_port: int | None = None,
        transport: str = "u1",
        auto_answer: bool = True,
        trace_messages: bool = True,
        extra_args: Sequence[str] = (),
        label: str | None = None,
    ) -> None:
        self.info = scenario_info(scenario)
        self.scenario = self.info.path
        self.is_server = self.info.is_server
        if not self.is_server and not remote:
            raise ValueError(f"{self.info.path.name} is a client scenario: remote is required")
        self.remote = remote
        self.local_ip = local_ip
        self.transport = transport
        tcp = transport.startswith("t")
        self.local_port = local_port or free_port("tcp" if tcp else "udp", local_ip)
        self.variables: dict[str, str] = {k: str(v) for k, v in (variables or {}).items()}
        if caller is not None:
            self.variables["caller"] = caller
        unknown = sorted(set(self.variables) - self.info.variables)
        if unknown:
            declared = ", ".join(sorted(self.info.variables)) or "none"
            raise ValueError(
                f"{self.info.path.name} does not declare {', '.join(unknown)} "
                f"(its variables: {declared})"
            )
        self.keys: dict[str, str] = dict(keys or {})
        if dtmf is not None:
            self.keys["dtmf_pcap"] = str(dtmf_pcap(dtmf))
        if "dtmf_pcap" in self.info.keywords:
            self.keys.setdefault("dtmf_pcap", str(dtmf_pcap("1")))
        if self.info.uses_auth:
            # SIPp cannot read scenario variables inside [authentication]: hand the
            # register scenarios' user/password/domain variables to -au/-ap/-auth_uri.
            if auth_user is None and "user" in self.variables:
                auth_user = self.variables["user"]
            if auth_password is None and "password" in self.variables:
                auth_password = self.variables["password"]
        auth_uri = self.variables.get("domain") if self.info.uses_auth else None
        self.calls = calls if calls is not None or self.is_server else 1
        self.timeout_s = timeout_s
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.label = self._reserve_label(label or self.info.path.stem)
        base = self.workdir / self.label
        self.message_file = base.with_name(f"{self.label}_messages.log")
        self.error_file = base.with_name(f"{self.label}_errors.log")
        self.stat_file = base.with_name(f"{self.label}_stats.csv")
        self.log_file = base.with_name(f"{self.label}_logs.log")
        self.stdout_file = base.with_name(f"{self.label}_stdout.log")
        self.stderr_file = base.with_name(f"{self.label}_stderr.log")

        cmd = [sipp_binary()]
        if remote:
            cmd.append(remote)
        cmd += ["-sf", str(self.scenario), "-t", transport]
        cmd += ["-i", local_ip, "-p", str(self.local_port)]
        if media_port is not None:
            cmd += ["-mp", str(media_port)]
        if self.calls is not None:
            cmd += ["-m", str(self.calls)]
        if rate is not None:
            cmd += ["-r", f"{rate:g}"]
        if concurrent_limit is not None:
            cmd += ["-l", str(concurrent_limit)]
        if service is not None:
            cmd += ["-s", service]
        if auth_user is not None:
            cmd += ["-au", auth_user]
        if auth_password is not None:
            cmd += ["-ap", auth_password]
        if auth_uri:
            cmd += ["-auth_uri", auth_uri]
        for name, value in self.variables.items():
            cmd += ["-set", name, value]
        for name, value in self.keys.items():
            cmd += ["-key", name, value]
        if timeout_s is not None:
            cmd += ["-timeout", f"{timeout_s:g}s", "-timeout_error"]
        if auto_answer:
            cmd.append("-aa")
        cmd += ["-nostdin"]
        if trace_messages:
            cmd += ["-trace_msg", "-message_file", str(self.message_file)]
        cmd += ["-trace_err", "-error_file", str(self.error_file)]
        cmd += ["-trace_stat", "-stf", str(self.stat_file), "-fd", "1"]
        cmd += ["-trace_logs", "-log_file", str(self.log_file)]
        cmd += list(extra_args)
        self.cmd: list[str] = cmd

        self._proc: subprocess.Popen[bytes] | None = None
        self._files: list[io.BufferedWriter] = []
        self._msg_offset = 0
        self._msgs: list[SipMessage] = []

    # -- lifecycle -------------------------------------------------------------

    def _reserve_label(self, stem: str) -> str:
        # The same scenario twice in one workdir gets stem, stem-2, stem-3...
        n = 1
        while True:
            label = stem if n == 1 else f"{stem}-{n}"
            key = self.workdir.resolve() / label
            taken = key in Sipp._labels_taken
            if not taken and not (self.workdir / f"{label}_messages.log").exists():
                Sipp._labels_taken.add(key)
                return label
            n += 1

    def start(self, ready_timeout: float = 10.0) -> Sipp:
        """Start sipp in the background; for a server scenario, return once its
        SIP port is bound (raise :class:`SippError` if sipp exits first)."""
        if self._proc is not None:
            raise SippError(f"{self.label}: already started")
        env = dict(os.environ)
        env["TZ"] = "UTC0"  # message timestamps are local time: make local == UTC
        out = open(self.stdout_file, "wb")  # noqa: SIM115 - closed in stop()/wait()
        err = open(self.stderr_file, "wb")  # noqa: SIM115
        self._files = [out, err]
        self._proc = subprocess.Popen(
            self.cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=self.workdir,
            env=env,
            start_new_session=True,
        )
        _live.add(self)
        if self.is_server:
            self._wait_bound(ready_timeout)
        return self

    def _wait_bound(self, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        tcp = self.transport.startswith("t")
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise SippError(
                    f"{self.label}: sipp exited with {self._proc.returncode} before binding "
                    f"{self.local_ip}:{self.local_port}\n{self.stderr_text()}"
                )
            if _is_bound(self._proc.pid, self.local_ip, self.local_port, tcp):
                return
            time.sleep(0.02)
        self.stop(grace=0.0)
        raise SippTimeout(
            f"{self.label}: {self.local_ip}:{self.local_port} not bound after {timeout}s"
        )

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """sipp's exit code (see the EXIT_* constants), ``None`` while running.
        Negative: killed by that signal."""
        return self._proc.poll() if self._proc else None

    @property
    def ok(self) -> bool:
        return self.returncode == EXIT_ALL_CALLS_OK

    def wait(self, timeout: float) -> int:
        """Wait for sipp to exit and return its exit code; raise
        :class:`SippTimeout` (leaving it running) if it takes longer."""
        if self._proc is None:
            raise SippError(f"{self.label}: not started")
        try:
            code = self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise SippTimeout(f"{self.label}: still running after {timeout}s") from exc
        self._close_files()
        _live.discard(self)
        return code

    def stop(self, grace: float = 1.0) -> None:
        """End sipp: SIGUSR1 (stop taking calls, finish the current ones) for
        ``grace`` seconds, then SIGTERM, then SIGKILL.  Idempotent."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            for sig, wait_s in ((signal.SIGUSR1, grace), (signal.SIGTERM, 3.0)):
                if wait_s <= 0 and sig == signal.SIGUSR1:
                    continue
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=wait_s)
                if proc.poll() is not None:
                    break
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # its own session: only sipp
                proc.wait(timeout=5.0)
        self._close_files()
        _live.discard(self)

    def _close_files(self) -> None:
        for f in self._files:
            with contextlib.suppress(OSError):
                f.close()
        self._files = []

    def check(self) -> Sipp:
        """Raise :class:`SippError` with the error log unless sipp exited 0."""
        if not self.ok:
            raise SippError(
                f"{self.label}: sipp exit code {self.returncode}, stats {self.stats}\n"
                f"{self.errors()[-4000:]}"
            )
        return self

    def __enter__(self) -> Sipp:
        if self._proc is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else f"exit={self.returncode}"
        return f"<Sipp {self.label} {self.local_ip}:{self.local_port} {state}>"

    # -- results ---------------------------------------------------------------

    def messages(self) -> list[SipMessage]:
        """Every SIP message traced so far, oldest first (works while running)."""
        try:
            with open(self.message_file, "rb") as f:
                f.seek(self._msg_offset)
                data = f.read()
        except OSError:
            return list(self._msgs)
        starts = list(_BLOCK_START.finditer(data))
        exited = self._proc is not None and self._proc.poll() is not None
        consumed = 0
        for i, match in enumerate(starts):
            last = i + 1 == len(starts)
            end = len(data) if last else starts[i + 1].start()
            msg = _parse_block(match.group(1), data[match.end() : end])
            if msg is None and last and not exited:
                break  # sipp may still be writing it: read it again next time
            if msg is not None:
                self._msgs.append(msg)
            consumed = end
        self._msg_offset += consumed
        return list(self._msgs)

    def wait_for_message(
        self,
        predicate: Callable[[SipMessage], bool],
        timeout: float,
        poll: float = 0.05,
    ) -> SipMessage:
        """The first traced message matching ``predicate``, polling until ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            for msg in self.messages():
                if predicate(msg):
                    return msg
            if time.monotonic() >= deadline:
                raise SippTimeout(f"{self.label}: no matching SIP message within {timeout}s")
            time.sleep(poll)

    @property
    def stats(self) -> SippStats:
        """Counters from the ``-trace_stat`` CSV (see :class:`SippStats`)."""
        return parse_stats(self.stat_file)

    def successful_calls(self) -> int:
        return self.stats.successful

    def failed_calls(self) -> int:
        return self.stats.failed

    def errors(self) -> str:
        return _read_text(self.error_file)

    def logs(self) -> str:
        return _read_text(self.log_file)

    def stdout_text(self) -> str:
        return _read_text(self.stdout_file)

    def stderr_text(self) -> str:
        return _read_text(self.stderr_file)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def run(
    scenario: str | Path,
    *,
    wait_timeout: float | None = None,
    check: bool = False,
    **kwargs: object,
) -> Sipp:
    """Start a (client) scenario and wait for it to finish; returns the finished
    :class:`Sipp`.  ``wait_timeout`` defaults to ``timeout_s`` + 10 s, else 60 s.
    With ``check=True`` a non-zero exit raises :class:`SippError`."""
    proc = Sipp(scenario, **kwargs)  # type: ignore[arg-type]
    if wait_timeout is None:
        timeout_s = kwargs.get("timeout_s")
        wait_timeout = float(timeout_s) + 10.0 if isinstance(timeout_s, int | float) else 60.0
    proc.start()
    try:
        proc.wait(wait_timeout)
    except BaseException:
        proc.stop(grace=0.0)
        raise
    return proc.check() if check else proc


__all__ = [
    "EXIT_ALL_CALLS_OK",
    "EXIT_BIND_FAILED",
    "EXIT_FATAL",
    "EXIT_INTERNAL_COMMAND",
    "EXIT_NO_CALL_PROCESSED",
    "EXIT_SOME_CALL_FAILED",
    "SCENARIO_DIR",
    "SipMessage",
    "Sipp",
    "SippError",
    "SippStats",
    "SippTimeout",
    "ScenarioInfo",
    "dtmf_pcap",
    "parse_stats",
    "run",
    "scenario_info",
    "scenario_path",
    "sipp_binary",
]
