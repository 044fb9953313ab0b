"""A citizen's call to the hotline, from answer to hang-up: one coroutine per call.

    answer -> open the ticket -> screening -> intake prompts (barge-in)
    -> queue until a seat answers (agi/queued_call.py) -> outcome on the ticket

Anything unexpected (Redis or the database failing, a bug) ends the session without
setting HOTLINE_DONE, and the dialplan's fallback queue serves the caller with the same
ticket (HOTLINE_TICKET), so the caller never gets dead air.
"""

from __future__ import annotations

import contextlib

from acd.routing import route_call
from agi.channel import ChannelGone
from agi.queued_call import QueuedCall
from agi.services import CallerHungUp, utcnow
from infra.caller_id import caller_number
from ivr_flows.intake import BARGE_IN_KEYS, Step, plan_for


class InboundSession(QueuedCall):
    async def run(self) -> None:
        env = self.channel.env
        dialled = env.get("agi_extension", "")
        plan = plan_for(dialled, self.s.settings)
        try:
            await self.channel.command("ANSWER")
            self.ticket_id = await self.s.tickets.open_ticket(
                caller=caller_number(env.get("agi_callerid")), dialled=dialled,
                channel_id=self.call_id, department_hint=plan.department_hint, source="ivr")
            await self.channel.set_variable("HOTLINE_TICKET", self.ticket_id)
            if await self._refused_caller(self.ticket_id):
                return
            await self._intake(self.ticket_id, plan.steps)
            routing = route_call(dialled, plan.department_hint, self.s.settings)
            await self._queue_until_answered(dialled, plan.department_hint, routing)
            await self.channel.set_variable("HOTLINE_DONE", "1")
        except CallerHungUp as gone:
            await self._abandoned(gone.stage)
        except ChannelGone:
            await self._channel_lost()
        finally:
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

    async def _intake(self, ticket_id: str, steps: tuple[Step, ...]) -> None:
        for step in steps:
            reply = await self.channel.command("STREAM FILE", step.prompt, f'"{BARGE_IN_KEYS}"')
            if reply.hung_up or self.channel.hangup.is_set():
                raise CallerHungUp(step.stage)
            if reply.digit:
                await self.s.tickets.add_event(ticket_id, "barge_in", reply.digit)
                return
            await self.s.tickets.add_event(ticket_id, step.stage)

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
