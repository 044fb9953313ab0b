"""What runs on a seat's channel, not the caller's: the moment it answers (Dial's U()
option, the FastAGI route "answered") and its hang-up handler (route "seat_ended").
Both report to the ACD first (a caller may be waiting for that seat), then the ticket.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from acd.models import CallState
from agi.channel import AgiChannel
from agi.services import Services, utcnow

log = logging.getLogger(__name__)


# How far the dialplan's answer time may be from this process's clock before it is not
# believed (both read the same host clock; a gap this big means a parse or zone error).
ANSWER_TIME_TOLERANCE_S = 60


def answer_time(stamp: str) -> datetime:
    """The seat's answer, as the dialplan stamped it (epoch seconds with milliseconds, the
    first thing its U() routine does), else now. The stamp is the start of the talk time:
    this route runs only after the routine's recording set-up and a FastAGI connection."""
    now = utcnow()
    try:
        when = datetime.fromtimestamp(float(stamp), UTC)
    except (ValueError, OverflowError, OSError):
        return now
    if abs((now - when).total_seconds()) > ANSWER_TIME_TOLERANCE_S:
        log.warning("seat answer time %r is far from now; using now", stamp)
        return now
    return when


async def seat_answered(services: Services, channel: AgiChannel) -> None:
    """Runs on the seat's channel the moment it answers (Dial's U() option)."""
    call_id, seat, ticket_id, role, stamp = (channel.env.get(f"agi_arg_{n}", "")
                                             for n in (1, 2, 3, 4, 5))
    if not (call_id and seat):
        log.warning("seat-answered without its arguments: %r", (call_id, seat))
        return
    answered = answer_time(stamp)
    await services.distributor.answered(call_id, seat, channel.env.get("agi_channel", ""),
                                        channel.env.get("agi_uniqueid", ""))
    if not ticket_id:
        return
    if role == "consult":
        # The caller is still with the consulting agent: the ticket's seat stays theirs.
        await services.tickets.add_event(ticket_id, "consult_answered", seat, at=answered)
    else:
        # The ticket's talk time runs from here (the first answer: a transfer keeps it).
        await services.tickets.mark_answered(ticket_id, seat=seat, at=answered)


async def seat_ended(services: Services, channel: AgiChannel) -> None:
    """The hang-up handler of a seat's channel: that seat's part of the call is over,
    wherever transfers moved the call meanwhile. Idempotent with the session's own report."""
    call_id, seat, source, sent_on = (channel.env.get(f"agi_arg_{n}", "")
                                      for n in (1, 2, 3, 4))
    if not (call_id and seat):
        return
    # CHANNEL(hangupsource): the seat's own channel when the agent hung up; BLINDTRANSFER
    # set on the seat's channel: it sent the caller on. (An attended transfer's agent hangs
    # up, and the ACD sees the answered consultation.)
    by = ("blind_transfer" if sent_on
          else "agent" if source and source == channel.env.get("agi_channel") else "")
    call = await services.distributor.end_seat_part(call_id, seat, by)  # a caller may wait
    if call is not None and call.ticket_id and call.node and \
            not await services.distributor.node_alive(call.node):
        # The caller's session died mid-call (its process was killed): nobody else will
        # close this ticket.
        await services.tickets.close_unfinished(call.ticket_id, at=utcnow(), seat=seat)
    consultation = await services.distributor.take_consultation(seat)
    if not consultation:
        return
    # The agent left while its consultation was answered: Asterisk completes the attended
    # transfer (the caller now talks to the consulted seat), and the ticket follows.
    consulted = await services.distributor.call(consultation)
    if consulted is not None and consulted.state is CallState.ON_CALL and \
            consulted.ticket_id and consulted.seat:
        await services.tickets.add_event(
            consulted.ticket_id, "transferred",
            f"attended by {seat} to {consulted.seat}", at=utcnow())
        await services.tickets.mark_answered(consulted.ticket_id, seat=consulted.seat,
                                             at=utcnow())
