"""A transfer's session: a new session on the same line, started by the dialplan's
transfer codes (see asterisk_conf/dialplan.py), with the target as its first argument.

- A blind-transferred caller brings its ticket (the second argument), skips the prompts
  and is queued for the target; its ticket is closed when this leg ends.
- An agent's consultation call (the first half of an attended transfer) is queued under
  the agent's ticket. Whether the transfer completes is decided when the agent's own line
  ends (agi/seat_handlers.py: seat_ended).
"""

from __future__ import annotations

import logging

from acd.models import Offer
from acd.routing import transfer_routing
from agi.channel import AgiChannel, ChannelGone
from agi.queued_call import QueuedCall
from agi.services import CallerHungUp, Services, utcnow
from transcription.after_hangup import queue_transcription

log = logging.getLogger(__name__)


def seat_of_channel(channel_name: str) -> str | None:
    """"PJSIP/seat-001-0000002a" -> "seat-001"; None for any other channel."""
    tech, _, rest = channel_name.partition("/")
    if tech != "PJSIP" or not rest.startswith("seat-"):
        return None
    return rest.rsplit("-", 1)[0]


class TransferSession(QueuedCall):
    def __init__(self, services: Services, channel: AgiChannel) -> None:
        super().__init__(services, channel)
        # "expert:<dept>" / "agent:<seat>"; the blind transfer's ticket, "" for a consultation.
        self.transfer = channel.env.get("agi_arg_1", "")
        self.transfer_ticket = channel.env.get("agi_arg_2", "")

    async def run(self) -> None:
        routing = transfer_routing(self.transfer, self.s.settings)
        # The ACD keeps the caller's first call id until its seat's leg is over.
        self.call_id = f"{self.call_id}-{self.transfer.replace(':', '-')}"
        try:
            await self.channel.command("ANSWER")
            if self.transfer_ticket:
                self.ticket_id = self.transfer_ticket
                await self.channel.set_variable("HOTLINE_TICKET", self.ticket_id)
                await self.s.tickets.add_event(self.ticket_id, "transfer",
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
            await self._leave_queue(f"hung up in transfer ({stage})")
            if self.ticket_id is not None:
                kind = "consult_abandoned" if self.consulting_seat else "transfer_abandoned"
                await self.s.tickets.add_event(self.ticket_id, kind, stage, at=utcnow())
                if not self.consulting_seat:
                    # The caller was served before the transfer: the ticket stays answered.
                    await self.s.tickets.close(self.ticket_id, outcome="answered",
                                               at=utcnow())
                    await queue_transcription(self.s.distributor.client, self.s.tickets.store,
                                              self.ticket_id)
        finally:
            await self._leave_queue("session ended")

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
        agent = await self.s.distributor.agent(self.consulting_seat)
        call = await self.s.distributor.call(agent.call) if agent.call else None
        # The agent's own call carries the ticket the consultation is about.
        self.ticket_id = (call.ticket_id if call else "") or None
        if self.ticket_id:
            await self.s.tickets.add_event(self.ticket_id, "consult",
                                           f"{self.consulting_seat} to {self.transfer}",
                                           at=utcnow())
        return True

    async def _entered_queue(self) -> None:
        if self.consulting_seat:
            # Found again when the agent's line ends (seat_ended), to complete the transfer.
            await self.s.distributor.note_consultation(self.consulting_seat, self.call_id)

    async def _seat_part_ended(self, offer: Offer) -> None:
        if self.consulting_seat:
            await self._consultation_ended(offer)
        else:
            await self._answered_call_ended(offer)

    async def _consultation_ended(self, offer: Offer) -> None:
        """This consultation's line is gone. Whether the agent completed the transfer was
        decided when the agent's own line ended (seat_ended); the target seat is freed by
        its own hang-up handler, so nothing is ended here."""
        self.queued = False
        if self.ticket_id is not None:
            await self.s.tickets.add_event(self.ticket_id, "consult_ended", offer.seat,
                                           at=utcnow())
