"""A citizen's call to the hotline, from answer to hang-up: one coroutine per call.

    answer -> open the ticket -> screening -> queued at once
    -> a free seat rings with the greeting as its ring media (ivr_flows/ring_media.py),
       or, none free, the greeting plays with barge-in until a seat is offered
    -> ring the seats offered until one answers (agi/queued_call.py) -> outcome on the ticket

Anything unexpected (Redis or the database failing, a bug) ends the session without
setting HOTLINE_DONE, and the dialplan's fallback queue serves the caller with the same
ticket (HOTLINE_TICKET), so the caller never gets dead air.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from acd.models import Offer
from acd.routing import route_call
from agi.channel import ChannelGone
from agi.queued_call import QueuedCall
from agi.services import CallerHungUp, utcnow
from infra.ami import ami_action
from infra.caller_id import caller_number
from ivr_flows.intake import BARGE_IN_KEYS, IntakePlan, Step, plan_for
from ivr_flows.ring_media import protected_s

log = logging.getLogger(__name__)

# How long a prompt may go on after AMI reported a key before the key counts as one the
# prompt never read (STREAM FILE ends on its own keys within milliseconds).
KEY_GRACE_S = 0.3


def pressed(key: asyncio.Future[str] | None) -> str:
    """The key AMI reported, "" if none (or the watch is over)."""
    return key.result() if key is not None and key.done() and not key.cancelled() else ""


class InboundSession(QueuedCall):
    async def run(self) -> None:
        env = self.channel.env
        dialled = env.get("agi_extension", "")
        plan = plan_for(dialled, self.s.settings)
        # A key the caller presses while this session is between commands is reported
        # here (agi/key_watch.py): AGI itself drops it.
        key = self.s.keys.watch(self.call_id) if self.s.keys is not None else None
        try:
            # Stamped before ANSWER: Asterisk sends the 200 OK at once, then waits up to
            # 500 ms for the caller's first audio frame before the command returns.
            pbx_answered = utcnow()
            await self.channel.command("ANSWER")
            self.ticket_id = await self.s.tickets.open_ticket(
                caller=caller_number(env.get("agi_callerid")), dialled=dialled,
                channel_id=self.call_id, department_hint=plan.department_hint, source="ivr",
                at=pbx_answered)
            await self.channel.set_variable("HOTLINE_TICKET", self.ticket_id)
            if await self._refused_caller(self.ticket_id):
                return
            routing = route_call(dialled, plan.department_hint, self.s.settings)
            # Queued at the answer: an idle agent must not wait for the greeting to end.
            offer = await self._enqueue(dialled, plan.department_hint, routing,
                                        pbx_answered=pbx_answered)
            if offer is not None:
                self._greet_while_ringing(self.ticket_id, plan)
            else:
                offer = await self._greet_while_queued(self.ticket_id, plan.steps, key)
            await self._serve(offer, routing)
            await self.channel.set_variable("HOTLINE_DONE", "1")
        except CallerHungUp as gone:
            await self._abandoned(gone.stage)
        except ChannelGone:
            await self._channel_lost()
        finally:
            if self.s.keys is not None:
                self.s.keys.forget(self.call_id)
            # Whatever happened, the call must not linger in the queue.
            await self._leave_queue("session ended")

    async def _refused_caller(self, ticket_id: str) -> bool:
        """A harassing or blocked number (screening/caller_screening.py): the ticket keeps
        the call as refused, the caller hears why, and the dialplan hangs up."""
        verdict = await self.s.screen.check(self.channel.env.get("agi_callerid"), self.call_id)
        if verdict.admitted:
            return False
        await self.s.tickets.add_event(ticket_id, "refused", verdict.detail, at=utcnow())
        await self.s.tickets.close(ticket_id, outcome="refused", at=utcnow())
        await self.channel.command("STREAM FILE", self.s.settings.prompt("caller_refused"), '""')
        await self.channel.set_variable("HOTLINE_DONE", "1")
        return True

    def _greet_while_ringing(self, ticket_id: str, plan: IntakePlan) -> None:
        """A seat is free: it rings now, and the greeting is the ring's media. Its first
        part plays in full (the bridge waits for it); the rest yields to the answer."""
        self.hold_music = plan.ring_media.music_class
        if self.s.settings.greeting_first_part_always_plays:
            self.bridge_not_before = time.time() + protected_s(self.s.settings,
                                                               plan.ring_media)
        self.s.put_aside(self.s.tickets.add_event(ticket_id, "greeting", "while ringing",
                                                  at=utcnow()), ticket_id)

    async def _greet_while_queued(self, ticket_id: str, steps: tuple[Step, ...],
                                  key: asyncio.Future[str] | None = None) -> Offer | None:
        """No seat is free: the greeting plays with barge-in while the call keeps its
        place. A seat offered meanwhile ends the playback (after the part that always
        plays) and rings at once. `key`: the caller's first key as AMI reports it, which
        ends the greeting too when AGI dropped it (pressed before a prompt started).
        Returns the offer, or None once the greeting is over."""
        offer = asyncio.ensure_future(self.s.offers.wait(self.call_id))
        try:
            for step in steps:
                if early := pressed(key):
                    # Pressed before this prompt began: nothing was listening.
                    await self.s.tickets.add_event(ticket_id, "barge_in", early)
                    break
                playing = asyncio.ensure_future(self.channel.command(
                    "STREAM FILE", step.prompt, f'"{BARGE_IN_KEYS}"'))
                await self._play_until_ended(playing, step, offer, key)
                reply = await playing
                if reply.hung_up or self.channel.hangup.is_set():
                    raise CallerHungUp(step.stage)
                if digit := reply.digit or pressed(key):
                    await self.s.tickets.add_event(ticket_id, "barge_in", digit)
                    break
                if offer.done():
                    await self.s.tickets.add_event(ticket_id, step.stage, "seat offered")
                    break
                await self.s.tickets.add_event(ticket_id, step.stage)
            await self.channel.command(f"SET MUSIC ON {self.hold_music}")
            return offer.result() if offer.done() else None
        finally:
            offer.cancel()

    async def _play_until_ended(self, playing: asyncio.Future[Any], step: Step,
                                offer: asyncio.Future[Offer],
                                key: asyncio.Future[str] | None) -> None:
        """Waits while the prompt plays. An offer (outside the part that always plays)
        stops it; so does a key AMI reported that the prompt did not end on by itself
        within KEY_GRACE_S (it came in the moment before the prompt began)."""
        stoppers: set[asyncio.Future[Any]] = set()
        if not step.protected and not offer.done():
            stoppers.add(offer)
        if key is not None and not key.done():
            stoppers.add(key)
        if not stoppers:
            return
        await asyncio.wait({playing, *stoppers}, return_when=asyncio.FIRST_COMPLETED)
        if playing.done():
            return
        if not (offer in stoppers and offer.done()):
            # A key AMI reported: STREAM FILE ends on a key it reads itself, a moment later.
            await asyncio.wait({playing}, timeout=KEY_GRACE_S)
            if playing.done():
                return
        await self._stop_playback()

    async def _stop_playback(self) -> None:
        """Stops the STREAM FILE in progress (AMI ControlPlayback). If AMI cannot be
        reached, the prompt plays to its end, a few seconds, and the seat rings then."""
        try:
            reply = await ami_action(self.s.settings, {
                "Action": "ControlPlayback", "Channel": self.channel.env.get("agi_channel", ""),
                "Control": "stop"}, timeout=2.0)
        except Exception:
            log.warning("could not stop the greeting for %s", self.call_id, exc_info=True)
            return
        if reply.get("Response") != "Success":
            # The prompt may have ended meanwhile ("No such channel" is not among them).
            log.warning("could not stop the greeting for %s: %s", self.call_id,
                        reply.get("Message"))

    async def _channel_lost(self) -> None:
        """Asterisk closed the AGI connection without a hang-up first (it stopped, or the
        channel was torn down): the seat, if any, is free, and the ticket is closed with
        what is known: answered if the seat had answered, else abandoned."""
        stage = "ringing" if self.seat else "queue" if self.queued else "greeting"
        if self.seat:
            with contextlib.suppress(Exception):
                await self.s.distributor.call_ended(self.call_id, self.seat)
        else:
            await self._leave_queue("channel lost")
        self.queued = False
        if self.ticket_id is not None:
            await self.s.tickets.add_event(self.ticket_id, "channel_lost", stage, at=utcnow())
            await self.s.tickets.close_unfinished(self.ticket_id, at=utcnow(), stage=stage,
                                                  seat=self.seat)

    async def _abandoned(self, stage: str) -> None:
        await self._leave_queue(f"caller hung up ({stage})")
        if self.ticket_id is not None:
            await self.s.tickets.close(self.ticket_id, outcome="abandoned", at=utcnow(),
                                       abandon_stage=stage, seat=self.seat)
