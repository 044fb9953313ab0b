"""One citizen's call, from answer to hang-up: one coroutine per call.

    answer -> open the ticket -> intake prompts (barge-in) -> enqueue with music
    -> offer -> dial the seat -> bridged -> hang-up -> outcome on the ticket

A transfer starts a new session on the same line (see asterisk_conf/dialplan.py): a
blind-transferred caller keeps its ticket and skips the prompts; an agent's consultation
call (the first half of an attended transfer) is queued under the agent's ticket.

Anything unexpected (Redis or the database failing, a bug) ends the session without
setting HOTLINE_DONE, and the dialplan's fallback queue serves the caller with the same
ticket (HOTLINE_TICKET), so the caller never gets dead air.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from acd.distributor import Distributor
from acd.models import Offer, WaitingCall
from acd.offers import OfferListener
from acd.routing import Routing, route_call, transfer_routing
from agi.channel import AgiChannel, ChannelGone
from asterisk_conf.dialplan import SEAT_ANSWERED
from infra.caller_id import caller_number
from infra.settings import Settings
from ivr_flows.announcements import announcement
from ivr_flows.intake import BARGE_IN_KEYS, Step, plan_for
from screening.caller_screening import CallerScreen
from tickets.store import TicketStore
from transcription.after_hangup import queue_transcription

log = logging.getLogger(__name__)

# A caller whose agent's softphone vanished goes ahead of new callers (like a transfer).
REJOIN_PRIORITY = 20

# The ticket's "offered" event waits this long, so that its database write does not compete
# for the CPU with the ring it records. The event keeps its own time.
OFFERED_EVENT_DELAY_S = 0.2

# DIALSTATUS values after which the seat did not take the call.
SEAT_DID_NOT_ANSWER = {"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION"}

def seat_of_channel(channel_name: str) -> str | None:
    """"PJSIP/seat-001-0000002a" -> "seat-001"; None for any other channel."""
    tech, _, rest = channel_name.partition("/")
    if tech != "PJSIP" or not rest.startswith("seat-"):
        return None
    return rest.rsplit("-", 1)[0]


@dataclass
class Services:
    """What every call session shares within one FastAGI process."""

    settings: Settings
    distributor: Distributor
    offers: OfferListener
    tickets: TicketStore
    screen: CallerScreen
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
        # Set for a transferred caller or a consultation: "expert:<dept>" / "agent:<seat>".
        self.transfer = channel.env.get("agi_arg_1", "")
        self.transfer_ticket = channel.env.get("agi_arg_2", "")
        self.consulting_seat: str | None = None
        self.rejoined = 0  # times queued again after a seat's softphone vanished

    def _background(self, work: Awaitable[object], after_s: float = 0.0) -> None:
        async def logged() -> None:
            try:
                if after_s:
                    await asyncio.sleep(after_s)
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
        if self.transfer:
            await self._run_transfer()
            return
        env = self.channel.env
        dialled = env.get("agi_extension", "")
        plan = plan_for(dialled, self.s.settings)
        try:
            await self.channel.command("ANSWER")
            self.ticket_id = str(await self._ticket(
                "open_ticket", caller=caller_number(env.get("agi_callerid")), dialled=dialled,
                channel_id=self.call_id, department_hint=plan.department_hint, source="ivr"))
            await self.channel.set_variable("HOTLINE_TICKET", self.ticket_id)
            if await self._refused_caller():
                return
            await self._intake(plan.steps)
            routing = route_call(dialled, plan.department_hint, self.s.settings)
            await self._queue_until_answered(dialled, plan.department_hint, routing)
            await self.channel.set_variable("HOTLINE_DONE", "1")
        except CallerHungUp as gone:
            await self._abandoned(gone.stage)
        except ChannelGone:
            await self._channel_lost()
        finally:
            if self.queued:
                # Whatever happened, the call must not linger in the queue.
                with contextlib.suppress(Exception):
                    await self.s.distributor.leave(self.call_id, "session ended")

    async def _refused_caller(self) -> bool:
        """A harassing or blocked number (screening/caller_screening.py): the ticket keeps
        the call as refused, the caller hears why, and the dialplan hangs up."""
        verdict = await self.s.screen.check(self.channel.env.get("agi_callerid"), self.call_id)
        if verdict.admitted:
            return False
        await self._ticket("add_event", self.ticket_id, "refused", verdict.detail, at=utcnow())
        await self._ticket("close", self.ticket_id, outcome="refused", at=utcnow())
        await self.channel.command("STREAM FILE", self.s.settings.prompt("caller_refused"), '""')
        await self.channel.set_variable("HOTLINE_DONE", "1")
        return True

    async def _intake(self, steps: tuple[Step, ...]) -> None:
        for step in steps:
            reply = await self.channel.command("STREAM FILE", step.prompt, f'"{BARGE_IN_KEYS}"')
            if reply.hung_up or self.channel.hangup.is_set():
                raise CallerHungUp(step.stage)
            if reply.digit:
                await self._ticket("add_event", self.ticket_id, "barge_in", reply.digit)
                return
            await self._ticket("add_event", self.ticket_id, step.stage)

    async def _run_transfer(self) -> None:
        """A blind-transferred caller (it brings its ticket) or a consultation call."""
        routing = transfer_routing(self.transfer, self.s.settings)
        # The ACD keeps the caller's first call id until its seat's leg is over.
        self.call_id = f"{self.call_id}-{self.transfer.replace(':', '-')}"
        try:
            await self.channel.command("ANSWER")
            if self.transfer_ticket:
                self.ticket_id = self.transfer_ticket
                await self.channel.set_variable("HOTLINE_TICKET", self.ticket_id)
                await self._ticket("add_event", self.ticket_id, "transfer",
                                   f"blind to {self.transfer}", at=utcnow())
            elif not await self._find_consulting_agent():
                # A transfer code dialled by something that is not a seat: refuse clearly.
                await self.channel.command("STREAM FILE",
                                           self.s.settings.prompt("service_unavailable"), '""')
                await self.channel.set_variable("HOTLINE_DONE", "1")
                return
            await self._queue_until_answered(self.channel.env.get("agi_extension", ""), None,
                                             routing)
            await self.channel.set_variable("HOTLINE_DONE", "1")
        except (CallerHungUp, ChannelGone) as gone:
            stage = gone.stage if isinstance(gone, CallerHungUp) else "queue"
            if self.queued:
                with contextlib.suppress(Exception):
                    await self.s.distributor.leave(self.call_id, f"hung up in transfer ({stage})")
                self.queued = False
            if self.ticket_id is not None:
                kind = "consult_abandoned" if self.consulting_seat else "transfer_abandoned"
                await self._ticket("add_event", self.ticket_id, kind, stage, at=utcnow())
                if not self.consulting_seat:
                    # The caller was served before the transfer: the ticket stays answered.
                    await self._ticket("close", self.ticket_id, outcome="answered",
                                       at=utcnow())
                    await queue_transcription(self.s.distributor.client, self.s.tickets,
                                              self.ticket_id)
        finally:
            if self.queued:
                with contextlib.suppress(Exception):
                    await self.s.distributor.leave(self.call_id, "session ended")

    async def _find_consulting_agent(self) -> bool:
        """A consultation comes from a seat: its own call (a softphone's attended transfer),
        or a Local channel that Asterisk's attended transfer made for it (TRANSFERERNAME)."""
        transferer = await self.channel.get_variable("TRANSFERERNAME")
        self.consulting_seat = (seat_of_channel(transferer)
                                or seat_of_channel(self.channel.env.get("agi_channel", "")))
        if self.consulting_seat is None:
            log.warning("transfer code %s dialled by %s", self.transfer,
                        self.channel.env.get("agi_channel"))
            return False
        agent = await self.s.distributor.seat_state(self.consulting_seat)
        call = await self.s.distributor.call_state(agent.get("call", "")) if agent.get(
            "call") else {}
        self.ticket_id = call.get("ticket") or None
        if self.ticket_id:
            await self._ticket("add_event", self.ticket_id, "consult",
                               f"{self.consulting_seat} to {self.transfer}", at=utcnow())
        return True

    async def _queue_until_answered(self, dialled: str, hint: str | None,
                                    routing: Routing) -> None:
        if self.ticket_id is not None and not self.consulting_seat:
            await self._ticket("mark_queued", self.ticket_id, at=utcnow(),
                               department_hint=hint)
        await self._label_seat_invites()
        await self.channel.command("SET MUSIC ON default")
        offer: Offer | None = await self.s.distributor.enqueue(WaitingCall(
            call_id=self.call_id, ticket_id=self.ticket_id or "",
            caller=self.channel.env.get("agi_callerid", ""), dialled=dialled,
            department_hint=hint), routing)
        self.queued = True
        if self.consulting_seat:
            await self.s.distributor.note_consultation(self.consulting_seat, self.call_id)
        while True:
            if offer is None:
                offer = await self._wait_offer()
            status = await self._dial(offer)
            if status == "ANSWER" and not self.consulting_seat and \
                    await self.s.distributor.take_seat_lost(self.call_id):
                offer = await self._queue_again_after_lost_seat(offer, routing)
                continue
            if status == "ANSWER":
                if self.consulting_seat:
                    await self._consultation_ended(offer)
                else:
                    await self._answered_call_ended(offer)
                return
            if self.channel.hangup.is_set() or status == "CANCEL":
                raise CallerHungUp("ringing")
            # The seat did not take it: the seat is paused, the call keeps its place.
            if self.ticket_id is not None:
                await self._ticket("add_event", self.ticket_id, "requeued",
                                   f"{offer.seat} {status}")
            await self.s.distributor.offer_failed(self.call_id, offer.seat, "no_answer")
            offer = None
            await self.channel.command("SET MUSIC ON default")

    async def _queue_again_after_lost_seat(self, lost: Offer, routing: Routing) -> Offer | None:
        """The seat's softphone vanished mid-call: the caller hears why, and goes back to
        the queue ahead of new callers, with the same ticket."""
        await self.s.distributor.call_ended(self.call_id, lost.seat)
        self.queued = False
        if self.ticket_id is not None:
            await self._ticket("add_event", self.ticket_id, "seat_lost", lost.seat, at=utcnow())
        reply = await self.channel.command("STREAM FILE", self.s.settings.prompt("seat_lost"),
                                           '""')
        if reply.hung_up or self.channel.hangup.is_set():
            raise CallerHungUp("queue")
        await self.channel.command("SET MUSIC ON default")
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
        self._background(self._ticket(
            "add_event", self.ticket_id, "announced",
            f"ahead={estimate.calls_ahead} wait={'unknown' if wait is None else round(wait)}",
            at=utcnow()))
        for prompt in announcement(estimate, self.s.settings):
            reply = await self.channel.command("STREAM FILE", prompt, '""')
            if reply.hung_up:
                raise CallerHungUp("queue")
        await self.channel.command("SET MUSIC ON default")

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
        ring = self.s.settings.ring_timeout_s
        role = "consult" if self.consulting_seat else "call"
        # A transfer leg records apart from the first seat's files (see the dialplan).
        suffix = f"-{self.transfer.replace(':', '-')}" if self.transfer else ""
        on_answer = f"U({SEAT_ANSWERED}^{self.call_id}^{offer.seat}^{ticket}^{role}^{suffix})"
        # m: the caller keeps hearing music while the seat rings (Dial takes the music
        # over from SET MUSIC ON, so it is not stopped first). t: the seat may transfer
        # with its phone's keys, or the seat API may do it for the agent.
        dial = asyncio.ensure_future(self.channel.command(
            "EXEC", "Dial", f'"PJSIP/{offer.seat},{ring},mt{on_answer}"'))
        await asyncio.sleep(0)  # the Dial command is written before anything else runs
        if self.ticket_id is not None:
            # Off the path to the ring: the event keeps its own time, the seat rings now.
            self._background(self._ticket("add_event", self.ticket_id, "offered", offer.seat,
                                          at=offered_at), after_s=OFFERED_EVENT_DELAY_S)
        await dial
        return await self.channel.get_variable("DIALSTATUS")

    async def _answered_call_ended(self, offer: Offer) -> None:
        assert self.ticket_id is not None
        ended = utcnow()
        # The seat first: a caller may be waiting for it. (If an attended transfer moved
        # the caller to another seat, this seat has long been freed and this is a no-op.)
        await self.s.distributor.call_ended(self.call_id, offer.seat)
        self.queued = False
        transferer = await self.channel.get_variable("BLINDTRANSFER")
        if transferer:
            # The seat sent the caller on: the dialplan takes it to the transfer's queue
            # when this session ends, and the next session closes the ticket.
            await self._ticket("add_event", self.ticket_id, "transferred",
                               f"blind by {offer.seat}", at=ended)
            return
        talk = await self.channel.get_variable("ANSWEREDTIME_MS")
        talk_s = int(talk) / 1000 if talk.isdigit() else None
        # The ticket keeps the last seat that answered (the transfer target, if any).
        await self._ticket("close", self.ticket_id, outcome="answered", at=ended,
                           talk_seconds=talk_s)
        await queue_transcription(self.s.distributor.client, self.s.tickets, self.ticket_id)

    async def _consultation_ended(self, offer: Offer) -> None:
        """This consultation's line is gone. Whether the agent completed the transfer was
        decided when the agent's own line ended (seat_ended); the target seat is freed by
        its own hang-up handler, so nothing is ended here."""
        self.queued = False
        if self.ticket_id is not None:
            await self._ticket("add_event", self.ticket_id, "consult_ended", offer.seat,
                               at=utcnow())

    async def _channel_lost(self) -> None:
        """Asterisk closed the AGI connection without a hang-up first (it stopped, or the
        channel was torn down): the seat, if any, is free, and the ticket is closed with
        what is known: answered if the seat had answered, else abandoned."""
        stage = "ringing" if self.seat else "queue" if self.queued else "greeting"
        if self.seat:
            with contextlib.suppress(Exception):
                await self.s.distributor.call_ended(self.call_id, self.seat)
        elif self.queued:
            with contextlib.suppress(Exception):
                await self.s.distributor.leave(self.call_id, "channel lost")
        self.queued = False
        if self.ticket_id is not None:
            await self._ticket("add_event", self.ticket_id, "channel_lost", stage, at=utcnow())
            await self._ticket("close_unfinished", self.ticket_id, at=utcnow(), stage=stage,
                               seat=self.seat)

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
    call_id, seat, ticket_id, role = (channel.env.get(f"agi_arg_{n}", "") for n in (1, 2, 3, 4))
    if not (call_id and seat):
        log.warning("seat-answered without its arguments: %r", (call_id, seat))
        return
    await services.distributor.answered(call_id, seat, channel.env.get("agi_channel", ""))
    if not ticket_id:
        return
    if role == "consult":
        # The caller is still with the consulting agent: the ticket's seat stays theirs.
        await asyncio.to_thread(services.tickets.add_event, ticket_id, "consult_answered",
                                seat, at=utcnow())
    else:
        await asyncio.to_thread(services.tickets.mark_answered, ticket_id, seat=seat,
                                at=utcnow())


async def seat_ended(services: Services, channel: AgiChannel) -> None:
    """The hang-up handler of a seat's channel: that seat's part of the call is over,
    wherever transfers moved the call meanwhile. Idempotent with the session's own report."""
    call_id, seat = (channel.env.get(f"agi_arg_{n}", "") for n in (1, 2))
    if not (call_id and seat):
        return
    call = await services.distributor.end_seat_part(call_id, seat)  # a caller may be waiting
    node, orphan = call.get("node", ""), call.get("ticket", "")
    if orphan and node and not await services.distributor.node_alive(node):
        # The caller's session died mid-call (its process was killed): nobody else will
        # close this ticket.
        await asyncio.to_thread(services.tickets.close_unfinished, orphan, at=utcnow(),
                                seat=seat)
    consultation = await services.distributor.take_consultation(seat)
    if not consultation:
        return
    # The agent left while its consultation was answered: Asterisk completes the attended
    # transfer (the caller now talks to the consulted seat), and the ticket follows.
    consulted = await services.distributor.call_state(consultation)
    ticket_id, target = consulted.get("ticket"), consulted.get("seat")
    if consulted.get("state") == "on_call" and ticket_id and target:
        await asyncio.to_thread(services.tickets.add_event, ticket_id, "transferred",
                                f"attended by {seat} to {target}", at=utcnow())
        await asyncio.to_thread(services.tickets.mark_answered, ticket_id, seat=target,
                                at=utcnow())
