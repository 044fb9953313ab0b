"""Our queue_log against Asterisk's own: the same calls through our ACD and through
app_queue, the same lines.

One citizen scenario (citizen_dtmf_talk.xml) places four calls, one after another, in
each mode: a ring-no-answer then answered call, a call abandoned in the queue, a call
abandoned while a seat rings, and a call the seat blind-transfers with its own REFER (to
an expert code), abandoned in the queue it was sent to. Seats log in, pause and unpause
between the calls the same way in both:

- ours: the session's SQLite stack (FastAGI intake, the ACD), seats made ready and paused
  through the hotline CLI; the API writes the queue_log from the ACD's events;
- app_queue: a second stack beside it on its own ports and state dir (HOTLINE_INTAKE=
  app_queue, the benchmarks' baseline), whose Asterisk writes its own queue_log
  (app_queue_log in its log dir, asterisk_conf/core.py). Its queue's members are made
  what an ACD seat is: dynamic (added through AMI QueueAdd as a seat logs in) and paused
  across all queues (autopause=all, AMI QueuePause without a queue), which is what a
  seat-wide ACD pause is. A wrap-up time keeps app_queue from ringing the transferring
  seat again with the caller it just sent on (app_queue has one queue for every code; the
  ACD queues it for the expert, whom that seat is not).

The two files must hold the same events per call and per member, with the same fields;
ids, times and queue names naturally differ, and each data field is checked for its
meaning: the caller's number, positions, ring times, the agent channel's uniqueid (read
from Asterisk during the call), hold and call times.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from asterisk_conf.core import APP_QUEUE_LOG
from asterisk_conf.layout import layout_for
from asterisk_conf.queues import FALLBACK_QUEUE
from infra.secrets import load_secrets
from infra.settings import PROJECT_DIR
from tests.support.ports import PARITY, seat_port
from tests.support.sipp import Sipp
from tests.support.stack import Stack, bring_up, wait_for

pytestmark = pytest.mark.stack

# The app_queue stack's own ports (tests/support/ports.py).
PARITY_ENV = {"HOTLINE_STATE_DIR": str(PROJECT_DIR / ".hotline-parity"), **PARITY.env(),
              "HOTLINE_INTAKE": "app_queue", "HOTLINE_SEAT_COUNT": "4",
              "HOTLINE_STATIC_SEAT_COUNT": "4"}

CALLER = "13800000777"
ANSWERS, NEVER_ANSWERS, RINGS_LONG, TRANSFERS = "seat-001", "seat-002", "seat-003", "seat-004"
EXPERT_CODE = "796166"  # the water department's experts, in the seats' context
RING_TIMEOUT_MS = 4000  # HOTLINE_RING_TIMEOUT_S in tests/support/stack.py


@dataclass
class Line:
    text: str
    fields: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.fields = self.text.split("|")

    @property
    def callid(self) -> str:
        return self.fields[1]

    @property
    def queue(self) -> str:
        return self.fields[2]

    @property
    def agent(self) -> str:
        return self.fields[3]

    @property
    def event(self) -> str:
        return self.fields[4]

    @property
    def data(self) -> list[str]:
        return self.fields[5:]


class Mode:
    """What differs between the two runs: where the seats are, how they log in and pause,
    and which file the lines are in."""

    name = ""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.offset = 0
        self.seat_uniqueid = ""  # the answering seat's channel, read during its call

    @property
    def log_path(self) -> Path:
        raise NotImplementedError

    def seat_port(self, number: int) -> int:
        raise NotImplementedError

    def log_in(self, seat: str) -> None:
        raise NotImplementedError

    def pause(self, seat: str, reason: str) -> None:
        raise NotImplementedError

    def unpause(self, seat: str) -> None:
        raise NotImplementedError

    def mark(self) -> None:
        """Lines from here on are this run's."""
        self.offset = self.log_path.stat().st_size if self.log_path.exists() else 0

    def lines(self) -> list[Line]:
        if not self.log_path.exists():
            return []
        with self.log_path.open("rb") as f:
            f.seek(self.offset)
            text = f.read().decode()
        return [Line(t) for t in text.splitlines() if t]


class Ours(Mode):
    name = "ours"

    @property
    def log_path(self) -> Path:
        return self.stack.settings.log_dir / self.stack.settings.queue_log

    def seat_port(self, number: int) -> int:
        return seat_port(number)

    def log_in(self, seat: str) -> None:
        self.stack.seat_ready(seat)

    def pause(self, seat: str, reason: str) -> None:
        self.stack.hotline("seat", "pause", seat, "--reason", reason)

    def unpause(self, seat: str) -> None:
        self.stack.seat_ready(seat)


class AppQueue(Mode):
    name = "app_queue"

    @property
    def log_path(self) -> Path:
        return layout_for(self.stack.settings).log / APP_QUEUE_LOG

    def seat_port(self, number: int) -> int:
        return PARITY.seats + number

    def ami(self, action: dict[str, str]) -> None:
        """One AMI action on a plain socket, its reply read back (Events: off, so the
        reply is the next message after the login's)."""
        secrets = load_secrets(self.stack.settings)
        login = {"Action": "Login", "Username": secrets.ami_user,
                 "Secret": secrets.ami_password, "Events": "off"}
        with socket.create_connection(("127.0.0.1", self.stack.settings.ami_port),
                                      timeout=10) as conn:
            reader = conn.makefile("rb")
            reader.readline()  # the banner
            replies = []
            for message in (login, action):
                conn.sendall("".join(f"{k}: {v}\r\n" for k, v in message.items()).encode()
                             + b"\r\n")
                reply: dict[str, str] = {}
                while (row := reader.readline().decode().strip()):
                    key, _, value = row.partition(":")
                    reply[key.strip()] = value.strip()
                replies.append(reply)
        assert all(r.get("Response") == "Success" for r in replies), replies

    def make_members_like_acd_seats(self) -> None:
        """No static members (a seat logs in), and a missed ring pauses the member in
        every queue (autopause=all), as the ACD's no_answer pause does."""
        conf = layout_for(self.stack.settings).etc / "queues.conf"
        text = "\n".join(line for line in conf.read_text().splitlines()
                         if not line.startswith("member =>"))
        assert "autopause = yes" in text and "wrapuptime = 0" in text
        conf.write_text(text.replace("autopause = yes", "autopause = all")
                        .replace("wrapuptime = 0", "wrapuptime = 30") + "\n")
        self.stack.asterisk("module reload app_queue.so")
        wait_for(lambda: "No Members" in self.stack.asterisk(f"queue show {FALLBACK_QUEUE}"),
                 10, "the queue without static members")

    def log_in(self, seat: str) -> None:
        self.ami({"Action": "QueueAdd", "Queue": FALLBACK_QUEUE, "Interface": f"PJSIP/{seat}"})

    def pause(self, seat: str, reason: str) -> None:
        # No Queue: the pause across all queues (app_queue's PAUSEALL).
        self.ami({"Action": "QueuePause", "Interface": f"PJSIP/{seat}", "Paused": "true",
                  "Reason": reason})

    def unpause(self, seat: str) -> None:
        self.ami({"Action": "QueuePause", "Interface": f"PJSIP/{seat}", "Paused": "false"})


def seat_channel_uniqueid(stack: Stack, seat: str) -> str:
    """The uniqueid of the seat's live channel (the last field of a concise line)."""
    for row in stack.asterisk("core show channels concise").splitlines():
        if row.startswith(f"PJSIP/{seat}-"):
            return row.split("!")[-1]
    return ""


def run_calls(mode: Mode, workdir: Path) -> None:
    """The three calls, and the members' log-ins and pauses around them."""
    stack = mode.stack

    def seat(number: int, scenario: str, **variables: str) -> Sipp:
        return Sipp(scenario, remote=stack.sip_target, local_ip="127.0.0.1",
                    local_port=mode.seat_port(number), variables=variables or None,
                    workdir=workdir, label=f"{mode.name}-seat{number}").start()

    def citizen(talk_ms: int) -> Sipp:
        return Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                    calls=1, service=stack.settings.service_number, caller=CALLER,
                    variables={"dtmf_delay_ms": "500", "talk_ms": str(talk_ms)},
                    workdir=workdir, label=f"{mode.name}-citizen").start()

    with seat(1, "seat_answer.xml", ring_ms="300") as answers, \
            seat(2, "seat_no_answer.xml") as never_answers, \
            seat(3, "seat_answer.xml", ring_ms="20000"):
        # 1. Only seat-002 is in: it rings out (RINGNOANSWER, and it is paused); seat-001
        #    logs in and takes the call; the caller hangs up (COMPLETECALLER).
        mode.log_in(NEVER_ANSWERS)
        with citizen(talk_ms=10000) as caller:
            never_answers.wait_for_message(lambda m: m.method == "CANCEL", timeout=20)
            mode.log_in(ANSWERS)
            answers.wait_for_message(lambda m: m.direction == "sent" and m.status == 200,
                                     timeout=20)
            wait_for(lambda: bool(seat_channel_uniqueid(stack, ANSWERS)), 5,
                     "seat-001's channel")
            mode.seat_uniqueid = seat_channel_uniqueid(stack, ANSWERS)
            assert caller.wait(timeout=30) == 0
        wait_for(lambda: stack.active_channels() == 0, 10, "call 1 to end")
        # 2. Nobody free (seat-001 paused, seat-002 still paused): the caller gives up.
        mode.pause(ANSWERS, "meal")
        with citizen(talk_ms=3000) as caller:
            assert caller.wait(timeout=30) == 0
        wait_for(lambda: stack.active_channels() == 0, 10, "call 2 to end")
        # 3. seat-003 logs in and rings for long: the caller gives up while it rings.
        mode.log_in(RINGS_LONG)
        with citizen(talk_ms=1500) as caller:
            assert caller.wait(timeout=30) == 0
        wait_for(lambda: stack.active_channels() == 0, 10, "call 3 to end")
        mode.pause(RINGS_LONG, "meal")
    # 4. seat-004 answers and, 4.5 s on (once bridged: the greeting's first part plays
    #    first in ours), sends the caller to the experts with a REFER; nobody takes it
    #    there, and the caller gives up (BLINDTRANSFER, ENTERQUEUE again, ABANDON).
    with seat(4, "seat_answer_refer.xml", ring_ms="300", talk_ms="4500",
              refer_to=EXPERT_CODE) as transfers:
        mode.log_in(TRANSFERS)
        with citizen(talk_ms=11000) as caller:
            transfers.wait_for_message(lambda m: m.method == "REFER", timeout=20)
            assert caller.wait(timeout=30) == 0
        wait_for(lambda: stack.active_channels() == 0, 10, "call 4 to end")
    mode.unpause(ANSWERS)


# A member's own lines. Their callid is NONE, or for app_queue's ADDMEMBER who added it
# (MANAGER for AMI): no call's.
MEMBER_EVENTS = {"ADDMEMBER", "REMOVEMEMBER", "PAUSE", "UNPAUSE", "PAUSEALL", "UNPAUSEALL"}


def by_call(lines: list[Line]) -> list[list[Line]]:
    """Each call's lines, calls in the order they entered."""
    calls: dict[str, list[Line]] = {}
    for line in lines:
        if line.event not in MEMBER_EVENTS and line.callid != "NONE":
            calls.setdefault(line.callid, []).append(line)
    return list(calls.values())


def by_member(lines: list[Line]) -> dict[str, list[Line]]:
    members: dict[str, list[Line]] = {}
    for line in lines:
        if line.event in MEMBER_EVENTS:
            members.setdefault(line.agent, []).append(line)
    return members


def transfer_first(call: list[Line]) -> list[Line]:
    """app_queue logs BLINDTRANSFER from a stasis callback, after the transfer is done, so
    the caller's ENTERQUEUE in the queue it was sent to may come first (CI saw both
    orders); ours writes the transfer first. Compared in ours's order."""
    out = list(call)
    for i in range(1, len(out)):
        if out[i].event == "BLINDTRANSFER" and out[i - 1].event == "ENTERQUEUE" and i > 1:
            out[i - 1], out[i] = out[i], out[i - 1]
    return out


def until(lines: Callable[[], list[Line]], done: Callable[[list[Line]], bool],
          what: str) -> list[Line]:
    deadline = time.monotonic() + 15
    while True:
        got = lines()
        if done(got):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: {[line.text for line in got]}")
        time.sleep(0.2)


def last_unpause(lines: list[Line]) -> bool:
    return any(line.event == "UNPAUSE" and line.agent == f"PJSIP/{ANSWERS}" for line in lines)


@pytest.fixture
def app_queue_stack() -> Iterator[Stack]:
    with bring_up(None, PARITY_ENV) as stack:
        yield stack


def check_call_fields(mode: Mode, calls: list[list[Line]]) -> None:
    """What each data field means, in this run's own lines."""
    answered, abandoned, ring_cancelled, transferred = calls
    for call in calls:
        assert len({line.callid for line in call}) == 1
        enter = call[0]
        assert enter.agent == "NONE"
        assert enter.data == ["", CALLER, "1"], (mode.name, enter.text)
    ring, connect, complete = answered[1:]
    assert ring.agent == f"PJSIP/{NEVER_ANSWERS}"
    assert RING_TIMEOUT_MS - 500 <= int(ring.data[0]) <= RING_TIMEOUT_MS + 1500, ring.text
    assert connect.agent == complete.agent == f"PJSIP/{ANSWERS}"
    hold, peer, ringtime = connect.data
    # The agent channel's uniqueid, not the caller's.
    assert peer == mode.seat_uniqueid and peer != connect.callid, (mode.name, connect.text)
    assert RING_TIMEOUT_MS // 1000 - 1 <= int(hold) <= 10 and int(ringtime) <= 1, connect.text
    assert complete.data[0] == hold and complete.data[2] == "1", complete.text
    assert 1 <= int(complete.data[1]) <= 8, complete.text
    assert [int(d) for d in abandoned[1].data[:2]] == [1, 1]
    assert 1 <= int(abandoned[1].data[2]) <= 5, abandoned[1].text
    cancelled, gave_up = ring_cancelled[1:]
    assert cancelled.agent == f"PJSIP/{RINGS_LONG}"
    assert 0 < int(cancelled.data[0]) < RING_TIMEOUT_MS, cancelled.text
    assert gave_up.agent == "NONE" and gave_up.data[:2] == ["1", "1"]
    connect, transfer, again, left = transferred[1:]
    assert connect.agent == transfer.agent == f"PJSIP/{TRANSFERS}", transfer.text
    exten, context, hold, talk, position = transfer.data
    assert (exten, context) == (EXPERT_CODE, "from-seat"), (mode.name, transfer.text)
    assert hold == connect.data[0] and 4 <= int(talk) <= 6 and position == "1", transfer.text
    assert again.agent == "NONE" and again.data == ["", CALLER, "1"], again.text
    assert left.agent == "NONE" and left.data[:2] == ["1", "1"], left.text
    assert 3 <= int(left.data[2]) <= 8, left.text


def test_our_queue_log_matches_app_queues(sqlite_stack: Stack, app_queue_stack: Stack,
                                          tmp_path: Path) -> None:
    ours, theirs = Ours(sqlite_stack), AppQueue(app_queue_stack)
    asterisk_own = layout_for(sqlite_stack.settings).log / "queue_log"
    asterisk_own_before = asterisk_own.stat().st_size if asterisk_own.exists() else 0
    theirs.make_members_like_acd_seats()
    for mode in (ours, theirs):
        time.sleep(1.5)  # the tail of earlier tests' events is written before the mark
        mode.mark()
        run_calls(mode, tmp_path)
    got = {mode.name: until(mode.lines, last_unpause, f"{mode.name}'s last line")
           for mode in (ours, theirs)}

    calls = {name: [transfer_first(call) for call in by_call(lines)]
             for name, lines in got.items()}
    expected = [["ENTERQUEUE", "RINGNOANSWER", "CONNECT", "COMPLETECALLER"],
                ["ENTERQUEUE", "ABANDON"],
                ["ENTERQUEUE", "RINGCANCELED", "ABANDON"],
                ["ENTERQUEUE", "CONNECT", "BLINDTRANSFER", "ENTERQUEUE", "ABANDON"]]
    for name, mode_calls in calls.items():
        assert [[line.event for line in call] for call in mode_calls] == expected, \
            (name, [line.text for line in got[name]])
    for call_ours, call_theirs in zip(calls["ours"], calls["app_queue"], strict=True):
        for mine, asterisks in zip(call_ours, call_theirs, strict=True):
            assert len(mine.fields) == len(asterisks.fields), (mine.text, asterisks.text)
            assert mine.agent == asterisks.agent, (mine.text, asterisks.text)
    check_call_fields(ours, calls["ours"])
    check_call_fields(theirs, calls["app_queue"])
    # Each run puts its calls in one queue, ours its skill and app_queue its queue, until
    # the transfer: the ACD queues the caller for the experts, app_queue in its one queue.
    first_queue = {"ours": "general", "app_queue": FALLBACK_QUEUE}
    for name, mode_calls in calls.items():
        *before, transferred = mode_calls
        assert {line.queue for call in before for line in call} == {first_queue[name]}
        assert {line.queue for line in transferred[:3]} == {first_queue[name]}
    assert {line.queue for line in calls["ours"][3][3:]} == {"expert_water"}
    assert {line.queue for line in calls["app_queue"][3][3:]} == {FALLBACK_QUEUE}

    members = {name: by_member(lines) for name, lines in got.items()}
    assert members["ours"].keys() == members["app_queue"].keys() == {
        f"PJSIP/{s}" for s in (ANSWERS, NEVER_ANSWERS, RINGS_LONG, TRANSFERS)}
    for agent, mine_lines in members["ours"].items():
        their_lines = members["app_queue"][agent]
        assert [m.event for m in mine_lines] == [t.event for t in their_lines], \
            (agent, [m.text for m in mine_lines], [t.text for t in their_lines])
        for mine, asterisks in zip(mine_lines, their_lines, strict=True):
            assert len(mine.fields) == len(asterisks.fields), (mine.text, asterisks.text)
            across_queues = mine.event in ("PAUSEALL", "UNPAUSEALL")
            assert (mine.queue == "NONE") == (asterisks.queue == "NONE") == across_queues
            if mine.event in ("ADDMEMBER", "UNPAUSE", "UNPAUSEALL"):
                assert mine.data == asterisks.data == [""], (mine.text, asterisks.text)
    assert [line.event for line in members["ours"][f"PJSIP/{ANSWERS}"]] == [
        "ADDMEMBER", "PAUSEALL", "PAUSE", "UNPAUSEALL", "UNPAUSE"]
    for name in members:
        pauses = [line for line in members[name][f"PJSIP/{ANSWERS}"]
                  if line.event in ("PAUSEALL", "PAUSE")]
        assert [line.data for line in pauses] == [["meal"], ["meal"]], name
        # The missed ring's pause has a reason (ours no_answer, app_queue Auto-Pause).
        missed = members[name][f"PJSIP/{NEVER_ANSWERS}"]
        assert [line.event for line in missed] == ["ADDMEMBER", "PAUSEALL", "PAUSE"]
        assert all(line.data[0] for line in missed[1:]), name

    # In the product, Asterisk wrote no queue_log of its own beside ours.
    size = asterisk_own.stat().st_size if asterisk_own.exists() else 0
    assert size == asterisk_own_before
    assert not (layout_for(sqlite_stack.settings).log / APP_QUEUE_LOG).exists()
