"""Which session a FastAGI call gets, and the put-aside ticket writes (no Asterisk needed)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import pytest

from agi.call_session import call_session
from agi.channel import AgiChannel
from agi.inbound_session import InboundSession
from agi.services import Services
from agi.transfer_session import TransferSession, seat_of_channel


class FakeChannel:
    def __init__(self, **env: str) -> None:
        self.env = {"agi_uniqueid": "1700000000.7", "agi_channel": "PJSIP/trunk-0001", **env}


def services() -> Services:
    # Nothing here touches the ACD, the tickets or screening: placeholders will do.
    nothing = cast(Any, None)
    return Services(settings=nothing, distributor=nothing, offers=nothing, tickets=nothing,
                    screen=nothing)


def test_a_citizens_call_gets_the_inbound_session() -> None:
    session = call_session(services(), cast(AgiChannel, FakeChannel()))
    assert type(session) is InboundSession
    assert (session.transfer, session.consulting_seat, session.call_id) == (
        "", None, "1700000000.7")


def test_a_transfer_code_gets_the_transfer_session() -> None:
    channel = FakeChannel(agi_arg_1="expert:water", agi_arg_2="20261123-000042")
    session = call_session(services(), cast(AgiChannel, channel))
    assert isinstance(session, TransferSession)
    assert (session.transfer, session.transfer_ticket) == ("expert:water", "20261123-000042")


@pytest.mark.parametrize(("channel", "seat"), [
    ("PJSIP/seat-001-0000002a", "seat-001"),
    ("PJSIP/seat-120-00000abc", "seat-120"),
    ("PJSIP/trunk-0000002a", None),
    ("Local/7001@from-seat-00000001;2", None),
    ("", None),
])
def test_seat_of_channel(channel: str, seat: str | None) -> None:
    assert seat_of_channel(channel) == seat


async def test_put_aside_writes_run_later_and_failures_are_only_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    shared = services()
    done: list[str] = []

    async def write(name: str) -> None:
        done.append(name)

    async def failing() -> None:
        raise RuntimeError("database away")

    shared.put_aside(write("offered"), "T1", after_s=0.05)
    shared.put_aside(failing(), "T2")
    assert len(shared.background) == 2 and done == []  # nothing ran on the caller's path
    with caplog.at_level(logging.ERROR, logger="agi.services"):
        # What agi/server.py does before it stops: finish what was put aside.
        await asyncio.wait(set(shared.background), timeout=5)
    assert done == ["offered"]
    assert "ticket write failed for T2" in caplog.text
    await asyncio.sleep(0)  # the done-callbacks run
    assert shared.background == set()
