"""Which session a call's FastAGI request gets, and where each part of a call lives.

    caller's line, route "call":
        a citizen's call    agi/inbound_session.py   answer, ticket, screening, intake
        a transfer code     agi/transfer_session.py  blind transfer, or a consultation
        both, once queued   agi/queued_call.py       music, offer, ring, outcome
    seat's line, routes "answered" and "seat_ended":
                            agi/seat_handlers.py     the seat answers, the seat hangs up
    shared                  agi/services.py          Services, utcnow, CallerHungUp
"""

from __future__ import annotations

from agi.channel import AgiChannel
from agi.inbound_session import InboundSession
from agi.queued_call import QueuedCall
from agi.services import Services
from agi.transfer_session import TransferSession


def call_session(services: Services, channel: AgiChannel) -> QueuedCall:
    """The dialplan's transfer codes pass the target as the first argument; a citizen's
    call has none (asterisk_conf/dialplan.py)."""
    if channel.env.get("agi_arg_1", ""):
        return TransferSession(services, channel)
    return InboundSession(services, channel)
