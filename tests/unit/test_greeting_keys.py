"""The greeting's barge-in with keys AGI dropped: a key AMI reported (agi/key_watch.py)
ends the greeting as a key the prompt read itself does. Pure session logic: the channel,
the offers and the ticket store are stand-ins, no Asterisk."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from acd.models import Offer
from agi.channel import AgiChannel, AgiReply
from agi.inbound_session import KEY_GRACE_S, InboundSession
from agi.services import Services
from ivr_flows.intake import Step

NAME = Step("greeting", "prompts/zh/greeting_name", protected=True)
REST = Step("greeting", "prompts/zh/greeting")
ENDED = AgiReply(code=200, result="0", data="endpos=1000", line="200 result=0")


class PromptChannel:
    """STREAM FILE plays until the test (or a stop) ends it; other commands answer at once."""

    def __init__(self) -> None:
        self.env = {"agi_uniqueid": "1700000000.9", "agi_channel": "PJSIP/trunk-0009"}
        self.hangup = asyncio.Event()
        self.prompts: list[str] = []
        self.playing: asyncio.Future[AgiReply] | None = None

    async def command(self, *words: str) -> AgiReply:
        if words[0] == "STREAM FILE":
            self.prompts.append(words[1])
            self.playing = asyncio.get_running_loop().create_future()
            return await self.playing
        return ENDED


class Never:
    async def wait(self, call_id: str) -> Offer:
        await asyncio.Event().wait()
        raise AssertionError("never offered")


class Events:
    def __init__(self) -> None:
        self.added: list[tuple[str, str]] = []

    async def add_event(self, ticket_id: str, kind: str, detail: str = "", **_: Any) -> None:
        self.added.append((kind, detail))


def session() -> tuple[InboundSession, PromptChannel, Events, list[str]]:
    channel, events, stops = PromptChannel(), Events(), []
    services = Services(settings=cast(Any, None), distributor=cast(Any, None),
                        offers=cast(Any, Never()), tickets=cast(Any, events),
                        screen=cast(Any, None))
    greeter = InboundSession(services, cast(AgiChannel, channel))

    async def stop() -> None:  # what AMI ControlPlayback stop does to STREAM FILE
        stops.append("stop")
        assert channel.playing is not None
        channel.playing.set_result(ENDED)
    greeter._stop_playback = stop  # type: ignore[method-assign]
    return greeter, channel, events, stops


async def test_a_key_pressed_before_the_greeting_began_skips_it_all() -> None:
    greeter, channel, events, stops = session()
    key = asyncio.get_running_loop().create_future()
    key.set_result("1")  # AMI saw it while the session was opening the ticket
    offer = await greeter._greet_while_queued("t1", (NAME, REST), key)
    assert offer is None
    assert channel.prompts == [] and stops == []
    assert events.added == [("barge_in", "1")]


async def test_a_key_the_prompt_never_read_stops_even_the_part_that_always_plays() -> None:
    greeter, channel, events, stops = session()
    key: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    greeting = asyncio.ensure_future(greeter._greet_while_queued("t1", (NAME, REST), key))
    await asyncio.sleep(0.05)
    key.set_result("1")  # reported by AMI; the prompt plays on (AGI dropped the frame)
    assert await asyncio.wait_for(greeting, KEY_GRACE_S + 1) is None
    assert channel.prompts == [NAME.prompt] and stops == ["stop"]
    assert events.added == [("barge_in", "1")]


async def test_a_key_the_prompt_read_itself_needs_no_stop() -> None:
    greeter, channel, events, stops = session()
    key: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    greeting = asyncio.ensure_future(greeter._greet_while_queued("t1", (NAME, REST), key))
    await asyncio.sleep(0.05)
    key.set_result("5")
    assert channel.playing is not None
    channel.playing.set_result(AgiReply(code=200, result=str(ord("5")), data="",
                                        line="200 result=53"))
    assert await asyncio.wait_for(greeting, 1) is None
    assert stops == [] and events.added == [("barge_in", "5")]


async def test_without_a_key_both_parts_play_to_their_end() -> None:
    greeter, channel, events, stops = session()
    key: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    greeting = asyncio.ensure_future(greeter._greet_while_queued("t1", (NAME, REST), key))
    for _ in range(2):
        await asyncio.sleep(0.02)
        assert channel.playing is not None
        channel.playing.set_result(ENDED)
    assert await asyncio.wait_for(greeting, 1) is None
    assert channel.prompts == [NAME.prompt, REST.prompt] and stops == []
    assert [kind for kind, _ in events.added] == ["greeting", "greeting"]
