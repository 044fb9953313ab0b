"""One citizen's call, from answer to hang-up: one coroutine per call.

    answer -> open the ticket -> intake prompts (barge-in) -> enqueue with music
    -> offer -> dial the seat -> bridged -> hang-up -> outcome on the ticket

Anything unexpected (Redis or the database failing, a bug) ends the session without
setting HOTLINE_DONE, and the dialplan's fallback queue serves the caller with the same
ticket (HOTLINE_TICKET), so the caller never gets dead air.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from acd.distributor import Distributor
from acd.models import Offer, WaitingCall
from acd.offers import OfferListener
from acd.routing import route_call
from agi.channel import AgiChannel, ChannelGone
from asterisk_conf.dialplan import SEAT_ANSWERED, SEAT_PREDIAL
from hotline.settings import Settings
from ivr_flows.announcements import announcement
from ivr_flows.intake import BARGE_IN_KEYS, Step, caller_number, plan_for
from tickets.store import TicketStore
from transcription.after_hangup import queue_transcription

log = logging.getLogger(__name__)

# DIALSTATUS values after which the seat did not take the call.
SEAT_DID_NOT_ANSWER = {"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION"}


@dataclass
class Services:
    """What every call session shares within one FastAGI process."""

    settings: Settings
    distributor: Distributor
    offers: OfferListener
    tickets: TicketStore
    background: set[asyncio.Future[None]] = field(default_factory=set)


def utcnow() -> datetime:
    return datetime.now(UTC)


class CallerHungUp(Exception):
    def __init__(self, stage: str) -> None:
        super().__init__(stage)
        self.stage = stage


class CallSession:
    def __init__(self, services: Services, channel: AgiChannel) -> None:
        self.s = services
        self.channel = channel
        self.call_id = channel.env.get("agi_uniqueid", "")
        self.ticket_id: str | None = None
        self.queued = False
        self.seat: str | None = None

    def _background(self, work: Awaitable[object]) -> None:
        async def logged() -> None:
            try:
                await work
            except Exception:
                log.exception("ticket write failed for %s", self.ticket_id)

        task = asyncio.ensure_future(logged())
        self.s.background.add(task)
        task.add_done_callback(self.s.background.discard)

    async def _ticket(self, method: str, *args: object, **kwargs: object) -> object:
        # The ticket store is synchronous (the fallback script shares it): run it aside.
        return await asyncio.to_thread(getattr(self.s.tickets, method), *args, **kwargs)

    async def run(self) -> None:
        env = self.channel.env
        dialled = env.get("agi_extension", "")
        plan = plan_for(dialled, self.s.settings)
        try:
            await self.channel.command("ANSWER")
            self.ticket_id = str(await self._ticket(
                "open_ticket", caller=caller_number(env.get("agi_callerid")), dialled=dialled,
                channel_id=self.call_id, department_hint=plan.department_hint, source="ivr"))
            await self.channel.set_variable("HOTLINE_TICKET", self.ticket_id)
            await self._intake(plan.steps)
            await self._queue_until_answered(dialled, plan.department_hint)
            await self.channel.set_variable("HOTLINE_DONE", "1")
        except CallerHungUp as gone:
            await self._abandoned(gone.stage)
        except ChannelGone:
            await self._abandoned("queue" if self.queued else "greeting")
        finally:
            if self.queued:
                # Whatever happened, the call must not linger in the queue.
                with contextlib.suppress(Exception):
                    await self.s.distributor.leave(self.call_id, "session ended")

    async def _intake(self, steps: tuple[Step, ...]) -> None:
        for step in steps:
            reply = await self.channel.command("STREAM FILE", step.prompt, f'"{BARGE_IN_KEYS}"')
            if reply.hung_up or self.channel.hangup.is_set():
                raise CallerHungUp(step.stage)
            if reply.digit:
                await self._ticket("add_event", self.ticket_id, "barge_in", reply.digit)
                return
            await self._ticket("add_event", self.ticket_id, step.stage)

    async def _queue_until_answered(self, dialled: str, hint: str | None) -> None:
        assert self.ticket_id is not None
        await self._ticket("mark_queued", self.ticket_id, at=utcnow(), department_hint=hint)
        await self.channel.command("SET MUSIC ON default")
        await self.s.distributor.enqueue(WaitingCall(
            call_id=self.call_id, ticket_id=self.ticket_id,
            caller=self.channel.env.get("agi_callerid", ""), dialled=dialled,
            department_hint=hint), route_call(dialled, hint, self.s.settings))
        self.queued = True
        while True:
            offer = await self._wait_offer()
            status = await self._dial(offer)
            if status == "ANSWER":
                await self._answered_call_ended(offer)
                return
            if self.channel.hangup.is_set() or status == "CANCEL":
                raise CallerHungUp("ringing")
            # The seat did not take it: the seat is paused, the call keeps its place.
            await self._ticket("add_event", self.ticket_id, "requeued", f"{offer.seat} {status}")
            await self.s.distributor.offer_failed(self.call_id, offer.seat, "no_answer")
            await self.channel.command("SET MUSIC ON default")

    async def _wait_offer(self) -> Offer:
        every = await self.s.distributor.announce_every_s()
        offer_task = asyncio.ensure_future(self.s.offers.wait(self.call_id))
        hangup_task = asyncio.ensure_future(self.channel.hangup.wait())
        try:
            while True:
                done, _ = await asyncio.wait({offer_task, hangup_task},
                                             timeout=every or None,
                                             return_when=asyncio.FIRST_COMPLETED)
                if hangup_task in done or self.channel.hangup.is_set():
                    raise CallerHungUp("queue")
                if offer_task in done:
                    return offer_task.result()
                await self._announce()
        finally:
            for task in (offer_task, hangup_task):
                task.cancel()

    async def _announce(self) -> None:
        """Position and expected wait, then the music again. An offer made meanwhile
        waits for the end of the announcement (a few seconds)."""
        estimate = await self.s.distributor.estimate(self.call_id)
        if estimate is None:
            return  # offered meanwhile
        wait = estimate.expected_wait_s
        self._background(self._ticket(
            "add_event", self.ticket_id, "announced",
            f"ahead={estimate.calls_ahead} wait={'unknown' if wait is None else round(wait)}",
            at=utcnow()))
        for prompt in announcement(estimate, self.s.settings):
            reply = await self.channel.command("STREAM FILE", prompt, '""')
            if reply.hung_up:
                raise CallerHungUp("queue")
        await self.channel.command("SET MUSIC ON default")

    async def _dial(self, offer: Offer) -> str:
        assert self.ticket_id is not None
        self.seat = offer.seat
        # Off the path to the ring: the event keeps its own time, the seat rings now.
        self._background(self._ticket("add_event", self.ticket_id, "offered", offer.seat,
                                      at=utcnow()))
        ring = self.s.settings.ring_timeout_s
        predial = f"b({SEAT_PREDIAL}^s^1({self.ticket_id}^{self.call_id}))"
        on_answer = f"U({SEAT_ANSWERED}^{self.call_id}^{offer.seat}^{self.ticket_id})"
        # m: the caller keeps hearing music while the seat rings (Dial takes the music
        # over from SET MUSIC ON, so it is not stopped first).
        await self.channel.command(
            "EXEC", "Dial", f'"PJSIP/{offer.seat},{ring},m{predial}{on_answer}"')
        return await self.channel.get_variable("DIALSTATUS")

    async def _answered_call_ended(self, offer: Offer) -> None:
        assert self.ticket_id is not None
        ended = utcnow()
        # The seat first: a caller may be waiting for it. Then the ticket.
        await self.s.distributor.call_ended(self.call_id, offer.seat)
        self.queued = False
        talk = await self.channel.get_variable("ANSWEREDTIME_MS")
        talk_s = int(talk) / 1000 if talk.isdigit() else None
        await self._ticket("close", self.ticket_id, outcome="answered", at=ended,
                           seat=offer.seat, talk_seconds=talk_s)
        await queue_transcription(self.s.distributor.client, self.s.tickets, self.ticket_id)

    async def _abandoned(self, stage: str) -> None:
        if self.queued:
            with contextlib.suppress(Exception):
                await self.s.distributor.leave(self.call_id, f"caller hung up ({stage})")
            self.queued = False
        if self.ticket_id is not None:
            await self._ticket("close", self.ticket_id, outcome="abandoned", at=utcnow(),
                               abandon_stage=stage, seat=self.seat)


async def seat_answered(services: Services, channel: AgiChannel) -> None:
    """Runs on the seat's channel the moment it answers (Dial's U() option)."""
    args = [channel.env.get(f"agi_arg_{n}", "") for n in (1, 2, 3)]
    call_id, seat, ticket_id = args
    if not (call_id and seat and ticket_id):
        log.warning("seat-answered without its arguments: %r", args)
        return
    await services.distributor.answered(call_id, seat)
    await asyncio.to_thread(services.tickets.mark_answered, ticket_id, seat=seat, at=utcnow())
