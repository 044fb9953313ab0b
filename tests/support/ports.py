"""Every port the tests and the benchmarks use: the one table, and the one free_port.

Two kinds of port:

* fixed ones, in the table below: the test stack's and the bench stack's services, and the
  SIPp seats the stack has static contacts for (the stack must know them before it starts);
* throwaway ones, from :func:`free_port`: a port the OS says is free right now, for
  anything the stack need not know in advance (throwaway Redis and PostgreSQL servers, a
  SIPp citizen's own SIP port).

A second checkout (a git worktree) can run its own stacks beside this one by setting
HOTLINE_TEST_PORT_OFFSET (say 100): every fixed port moves by that much.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Literal

PORT_OFFSET = int(os.environ.get("HOTLINE_TEST_PORT_OFFSET", "0"))


@dataclass(frozen=True)
class StackPorts:
    """The fixed ports of one hotline instance under test, offset applied."""

    sip: int
    ami: int
    fastagi: int  # the first FastAGI node; node k listens on fastagi + k
    acd: int  # the ACD service's health port
    redis: int
    api: int
    seats: int  # the static seats' SIPp UAS: seat n on seats + n, or all of them on seats

    def env(self) -> dict[str, str]:
        """The settings (HOTLINE_* environment variables) that put the stack on these ports."""
        return {
            "HOTLINE_SIP_PORT": str(self.sip),
            "HOTLINE_AMI_PORT": str(self.ami),
            "HOTLINE_FASTAGI_PORT": str(self.fastagi),
            "HOTLINE_ACD_PORT": str(self.acd),
            "HOTLINE_REDIS_PORT": str(self.redis),
            "HOTLINE_API_PORT": str(self.api),
            "HOTLINE_STATIC_SEAT_PORT_BASE": str(self.seats),
        }


def _shifted(**ports: int) -> StackPorts:
    return StackPorts(**{name: port + PORT_OFFSET for name, port in ports.items()})


# The test stack (tests/support/stack.py): seat n's SIPp UAS listens on seat_port(n).
TEST = _shifted(sip=15060, ami=15038, fastagi=14573, acd=14580, redis=16380, api=18012,
                seats=17000)
# The benchmarks' stack (bench/harness.py): every bench seat shares one SIPp UAS on
# BENCH.seats (HOTLINE_STATIC_SEAT_PORT_PER_SEAT=false).
BENCH = _shifted(sip=45060, ami=45038, fastagi=44573, acd=44580, redis=46380, api=48012,
                 seats=47000)

# The app_queue stack that tests/stack/test_queue_log_parity.py runs beside the test
# stack. Every fixed port of the suite stays below 20000: Asterisk's RTP range starts
# there, and Linux hands out ephemeral ports from 32768 (a fixed port up there can be
# taken by any outgoing connection: it was, once, in CI).
PARITY = _shifted(sip=19060, ami=19038, fastagi=19573, acd=19580, redis=19380, api=19012,
                  seats=19100)
# A seat's SIPp RTP ports when a test sets them (SIPp takes media_port and the next
# three): four per seat, below Asterisk's RTP range (20000-), apart per checkout too.
MEDIA_BASE = 10000
MEDIA_PORTS_PER_SEAT = 4


def seat_port(number: int) -> int:
    """The SIP port of test seat ``number``'s SIPp UAS (its static contact in the stack)."""
    return TEST.seats + number


def seat_media_port(number: int) -> int:
    """The first RTP port of test seat ``number``'s SIPp UAS, for tests that fix it."""
    return MEDIA_BASE + MEDIA_PORTS_PER_SEAT * (PORT_OFFSET + number)


def free_port(kind: Literal["tcp", "udp"] = "tcp", ip: str = "127.0.0.1") -> int:
    """A ``kind`` port the OS says is free on ``ip`` right now (there is a small race)."""
    sock_type = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, sock_type) as sock:
        sock.bind((ip, 0))
        return int(sock.getsockname()[1])


__all__ = ["BENCH", "MEDIA_BASE", "PORT_OFFSET", "TEST", "StackPorts", "free_port",
           "seat_media_port", "seat_port"]
