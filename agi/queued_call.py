"""What every caller's session does once it is queued: wait with music, ring the seat
the ACD offers, and report how the seat's part ended.

    enqueue with music -> offer -> dial the seat -> bridged -> hang-up -> outcome

The two sessions that queue a caller build on this: a citizen's own call
(agi/inbound_session.py) and a transfer or consultation (agi/transfer_session.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import datetime

from acd.models import Offer, WaitingCall
from acd.routing import Routing
from agi.channel import AgiChannel
from agi.services import CallerHungUp, Services, utcnow
from asterisk_conf.dialplan import SEAT_ANSWERED
from ivr_flows.announcements import announcement
from transcription.after_hangup import queue_transcription

# A caller whose agent's softphone vanished goes ahead of new callers (like a transfer).
REJOIN_PRIORITY = 20

# The ticket's "offered" event waits this long, so that its database write does not compete
# for the CPU with the ring it records. The event keeps its own time.
OFFERED_EVENT_DELAY_S = 0.2

# DIALSTATUS values after which the seat did not take the call.
SEAT_DID_NOT_ANSWER = {"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION"}


class QueuedCall:
    """One caller's line, from the queue to the end of the seat's part.

    `transfer` and `consulting_seat` are set only by a TransferSession; the queue loop
    checks them where a transfer leg or a consultation differs from a first call.
    """

    def __init__(self, services: Services, channel: AgiChannel) -> None:
        self.s = services
        self.channel = channel
        self.call_id = channel.env.get("agi_uniqueid", "")
        self.ticket_id: str | None = None
        self.queued = False
        self.seat: str | None = None
        # A transfer's target ("expert:<dept>" / "agent:<seat>"), "" for a first call.
        self.transfer = ""
        # The agent whose consultation this is (the first half of an attended transfer).
        self.consulting_seat: str | None = None
        self.rejoined = 0  # times queued again after a seat's softphone vanished
        self.dial_ended: datetime | None = None  # when the last Dial returned
        # What the caller hears while queued and while a seat rings: the hold music, or
        # the greeting as ring media (it resumes where it stopped: ivr_flows/ring_media.py).
        self.hold_music = "default"
        # Epoch s until which a seat's answer waits before the bridge, so that the
        # greeting's first part plays in full (None: no wait).
        self.bridge_not_before: float | None = None

    async def run(self) -> None:
        raise NotImplementedError

    async def _leave_queue(self, reason: str) -> None:
        """Out of the queue whatever happened; a failure here must not hide the first."""
        if self.queued:
            with contextlib.suppress(Exception):
                await self.s.distributor.leave(self.call_id, reason)
            self.queued = False

    async def _queue_until_answered(self, dialled: str, hint: str | None,
                                    routing: Routing) -> None:
        await self.channel.command(f"SET MUSIC ON {self.hold_music}")
        offer = await self._enqueue(dialled, hint, routing)
        await self._serve(offer, routing)

    async def _enqueue(self, dialled: str, hint: str | None, routing: Routing,
                       pbx_answered: datetime | None = None) -> Offer | None:
        """Into the ACD's queue; the offer if a seat took the call at once. A call queued
        at its answer (`pbx_answered`) waits, on its ticket, from that answer."""
        if self.ticket_id is not None and not self.consulting_seat:
            await self.s.tickets.mark_queued(self.ticket_id, at=pbx_answered or utcnow(),
                                             department_hint=hint)
        await self._label_seat_invites()
        offer: Offer | None = await self.s.distributor.enqueue(WaitingCall(
            call_id=self.call_id, ticket_id=self.ticket_id or "",
            caller=self.channel.env.get("agi_callerid", ""), dialled=dialled,
            department_hint=hint,
            pbx_answered_ms=None if pbx_answered is None else int(pbx_answered.timestamp() * 1000)),
            routing)
        self.queued = True
        await self._entered_queue()
        return offer

    async def _serve(self, offer: Offer | None, routing: Routing) -> None:
        """Rings the seats the ACD offers until one answers and its part is over."""
        while True:
            if offer is None:
                offer = await self._wait_offer()
            status = await self._dial(offer)
            if status == "ANSWER" and not self.consulting_seat and \
                    await self.s.distributor.take_seat_lost(self.call_id):
                offer = await self._queue_again_after_lost_seat(offer, routing)
                continue
            if status == "ANSWER":
                await self._seat_part_ended(offer)
                return
            if self.channel.hangup.is_set() or status == "CANCEL":
                raise CallerHungUp("ringing")
            # The seat did not take it: the seat is paused, the call keeps its place.
            if self.ticket_id is not None:
                await self.s.tickets.add_event(self.ticket_id, "requeued",
                                               f"{offer.seat} {status}")
            await self.s.distributor.offer_failed(self.call_id, offer.seat, "no_answer")
            offer = None
            await self.channel.command(f"SET MUSIC ON {self.hold_music}")

    async def _entered_queue(self) -> None:
        """Called once the call is in the ACD's queue (a consultation notes itself)."""

    async def _seat_part_ended(self, offer: Offer) -> None:
        """The seat answered and the Dial is over (a consultation ends differently)."""
        await self._answered_call_ended(offer)

    async def _queue_again_after_lost_seat(self, lost: Offer, routing: Routing) -> Offer | None:
        """The seat's softphone vanished mid-call: the caller hears why, and goes back to
        the queue ahead of new callers, with the same ticket."""
        await self.s.distributor.call_ended(self.call_id, lost.seat)
        self.queued = False
        if self.ticket_id is not None:
            await self.s.tickets.add_event(self.ticket_id, "seat_lost", lost.seat, at=utcnow())
        reply = await self.channel.command("STREAM FILE", self.s.settings.prompt("seat_lost"),
                                           '""')
        if reply.hung_up or self.channel.hangup.is_set():
            raise CallerHungUp("queue")
        await self.channel.command(f"SET MUSIC ON {self.hold_music}")
        self.rejoined += 1
        # A new ACD call id: the lost one is over (caller_uniqueid() still finds the line).
        self.call_id = f"{self.call_id.split('-', 1)[0]}-again{self.rejoined}"
        offer = await self.s.distributor.enqueue(WaitingCall(
            call_id=self.call_id, ticket_id=self.ticket_id or "",
            caller=self.channel.env.get("agi_callerid", ""),
            dialled=self.channel.env.get("agi_extension", "")),
            replace(routing, priority=max(routing.priority, REJOIN_PRIORITY)))
        self.queued = True
        return offer

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
        if self.ticket_id is not None:
            self.s.put_aside(self.s.tickets.add_event(
                self.ticket_id, "announced",
                f"ahead={estimate.calls_ahead} wait={'unknown' if wait is None else round(wait)}",
                at=utcnow()), self.ticket_id)
        for prompt in announcement(estimate, self.s.settings):
            reply = await self.channel.command("STREAM FILE", prompt, '""')
            if reply.hung_up:
                raise CallerHungUp("queue")
        await self.channel.command(f"SET MUSIC ON {self.hold_music}")

    async def _label_seat_invites(self) -> None:
        """The ticket and call ids travel in every INVITE to a seat, so the softphone (and
        the benchmarks) can tell which call rings. They are set once, on the caller's
        channel, as headers its outgoing channels inherit: a Dial predial handler (b())
        would do it at ring time, and Dial stops the caller's autoservice after it, which
        waits for the autoservice thread's next pass (measured: rings held up to 15 ms)."""
        header = "PJSIP_INHERITABLE_HEADER"
        if self.transfer:
            # A transfer's session runs on a channel an earlier session already labelled.
            await self.channel.set_variable(f"{header}(remove,X-Hotline-*)", "")
        if self.ticket_id:
            await self.channel.set_variable(f"{header}(add,X-Hotline-Ticket)", self.ticket_id)
        await self.channel.set_variable(f"{header}(add,X-Hotline-Call)", self.call_id)

    async def _dial(self, offer: Offer) -> str:
        ticket = self.ticket_id or ""
        self.seat = offer.seat
        offered_at = utcnow()
        ring = f"{offer.ring_timeout_s(self.s.settings.ring_timeout_s):g}"
        role = "consult" if self.consulting_seat else "call"
        # A transfer leg records apart from the first seat's files (see the dialplan).
        suffix = f"-{self.transfer.replace(':', '-')}" if self.transfer else ""
        hold = "" if self.bridge_not_before is None else f"{self.bridge_not_before:.3f}"
        on_answer = (f"U({SEAT_ANSWERED}^{self.call_id}^{offer.seat}^{ticket}^{role}^{suffix}"
                     f"^{hold})")
        # m: the caller keeps hearing the music (or the greeting) while the seat rings:
        # Dial takes it over from SET MUSIC ON, so it is not stopped first, and a class
        # started again resumes where it was. t: the seat may transfer with its phone's
        # keys, or the seat API may do it for the agent.
        dial = asyncio.ensure_future(self.channel.command(
            "EXEC", "Dial", f'"PJSIP/{offer.seat},{ring},m({self.hold_music})t{on_answer}"'))
        await asyncio.sleep(0)  # the Dial command is written before anything else runs
        if self.ticket_id is not None:
            # Off the path to the ring: the event keeps its own time, the seat rings now.
            self.s.put_aside(self.s.tickets.add_event(self.ticket_id, "offered", offer.seat,
                                                      at=offered_at),
                             self.ticket_id, after_s=OFFERED_EVENT_DELAY_S)
        await dial
        # The end of the seat's part: the bridge is over once Dial returns.
        self.dial_ended = utcnow()
        return await self.channel.get_variable("DIALSTATUS")

    async def _caller_hung_up(self) -> bool:
        """Whether the caller's hang-up ended the answered Dial (Dial answers -1 whoever
        hung up): the caller's channel is then its own hang-up source, or already gone."""
        source = await self.channel.get_variable("CHANNEL(hangupsource)")
        return self.channel.hangup.is_set() or source == self.channel.env.get("agi_channel")

    async def _answered_call_ended(self, offer: Offer) -> None:
        assert self.ticket_id is not None
        ended = self.dial_ended or utcnow()
        # The seat first: a caller may be waiting for it. (If an attended transfer moved
        # the caller to another seat, this seat has long been freed and this is a no-op.)
        # Who hung up goes to queue_log; with the caller still here, the seat either hung
        # up or sent the caller on (a blind transfer).
        caller_left = await self._caller_hung_up()
        transferer = "" if caller_left else await self.channel.get_variable("BLINDTRANSFER")
        by = "caller" if caller_left else "blind_transfer" if transferer else "agent"
        await self.s.distributor.call_ended(self.call_id, offer.seat, by)
        self.queued = False
        if caller_left:
            transferer = await self.channel.get_variable("BLINDTRANSFER")
        if transferer:
            # The seat sent the caller on: the dialplan takes it to the transfer's queue
            # when this session ends, and the next session closes the ticket.
            await self.s.tickets.add_event(self.ticket_id, "transferred",
                                           f"blind by {offer.seat}", at=ended)
            return
        # Talk time runs from the first seat's answer (the ticket's answered_at, stamped by
        # the seat's U() routine; a transfer keeps it) to now, so the store computes it:
        # talk_seconds is left out. Not Dial's ANSWEREDTIME: Asterisk counts that from the
        # caller's own channel's answer, before the greeting and the queue.
        # The ticket keeps the last seat that answered (the transfer target, if any).
        await self.s.tickets.close(self.ticket_id, outcome="answered", at=ended)
        await queue_transcription(self.s.distributor.client, self.s.tickets.store,
                                  self.ticket_id)
