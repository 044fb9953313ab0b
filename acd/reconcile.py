"""Brings the ACD's state back in line with what really exists, after a crash or restart.

Two facts are checked, and only state older than the facts is touched:
- **Sessions.** Each FastAGI node refreshes a heartbeat key (`acd:node:<node>`). A call
  whose node has none lost its session: the dialplan's fallback took the caller on, so a
  waiting call leaves the queue at once, and an offered one once its seat has surely
  stopped ringing (Asterisk may still be running that Dial).
- **Channels.** Asterisk's live channels (AMI CoreShowChannels, listed by the caller
  before it reads any state here). An agent offered or on a call whose channel is gone
  is freed, and a call whose channel is gone leaves the queue. After an Asterisk
  restart, that is every one of them.

Every step is an existing, idempotent ACD operation (`leave`, `call_ended`), so any number
of reconcilers may run, beside live traffic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from acd import keys
from acd.distributor import Distributor
from acd.events import decode_fields
from acd.models import AgentRecord, CallRecord, CallState, SeatState

# State younger than this, relative to the channel list, may not be in it yet.
GRACE_MS = 1000


@dataclass(frozen=True)
class LiveChannels:
    """What Asterisk had at `listed_at_ms`: channel names and uniqueids."""

    names: frozenset[str]
    uniqueids: frozenset[str]
    listed_at_ms: int


@dataclass
class Reconciled:
    calls_left: list[str] = field(default_factory=list)
    seats_freed: list[str] = field(default_factory=list)
    # Answered calls whose session died: nobody else will close these tickets.
    orphaned_tickets: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.calls_left or self.seats_freed or self.orphaned_tickets)


def caller_uniqueid(call_id: str) -> str:
    """A call id is the caller channel's uniqueid, plus '-<target>' for a transfer leg."""
    return call_id.split("-", 1)[0]


async def _hashes(distributor: Distributor, pattern: str) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    async for raw in distributor.client.scan_iter(match=pattern, count=1000):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        fields = decode_fields(await distributor.client.hgetall(key))
        if fields:
            found[key.split(":", 2)[2]] = fields
    return found


async def _calls(distributor: Distributor) -> list[CallRecord]:
    hashes = await _hashes(distributor, keys.call_key("*"))
    return [call for call_id, fields in hashes.items()
            if (call := CallRecord.from_fields(call_id, fields)) is not None]


async def _agents(distributor: Distributor) -> list[AgentRecord]:
    hashes = await _hashes(distributor, keys.agent_key("*"))
    return [AgentRecord.from_fields(seat, fields) for seat, fields in hashes.items()]


async def reconcile(distributor: Distributor, live: LiveChannels | None, *,
                    now_ms: int, ring_timeout_ms: int) -> Reconciled:
    """One pass. `live` is None when Asterisk cannot be asked (only sessions are checked)."""
    done = Reconciled()
    calls = await _calls(distributor)
    nodes = {call.node for call in calls} - {""}
    alive = {node for node in nodes if await distributor.node_alive(node)}
    cutoff = live.listed_at_ms - GRACE_MS if live else 0

    for call in calls:
        call_id = call.call_id
        session_lost = bool(call.node) and call.node not in alive
        channel_gone = (live is not None and call.enqueued_at_ms < cutoff
                        and caller_uniqueid(call_id) not in live.uniqueids)
        if call.state is CallState.ON_CALL:
            if session_lost and call.ticket_id:
                seat_line = (await distributor.agent(call.seat)).channel
                if live is not None and seat_line not in live.names:
                    done.orphaned_tickets.append(call.ticket_id)
            continue  # the seat's own line decides (below, and its hang-up handler)
        if channel_gone:
            await distributor.leave(call_id, "channel gone")
            done.calls_left.append(call_id)
            if session_lost and call.ticket_id:
                done.orphaned_tickets.append(call.ticket_id)
        elif session_lost and call.state is CallState.WAITING:
            # The fallback has the caller (and the ticket, through HOTLINE_TICKET).
            await distributor.leave(call_id, "session lost")
            done.calls_left.append(call_id)
        elif session_lost and call.state is CallState.OFFERED and live is not None:
            # Asterisk runs the dead session's Dial to its end, and the seat may have
            # answered it (its report went to the dead node): wait for the seat's line.
            ring_over = now_ms - (call.offered_at_ms or 0) > ring_timeout_ms + 2000
            seat_line = f"PJSIP/{call.seat}-"
            if ring_over and not any(name.startswith(seat_line) for name in live.names):
                await distributor.leave(call_id, "session lost")
                done.calls_left.append(call_id)
                # A caller still there is the fallback's, with its ticket; one gone was
                # served or gave up with nobody left to say so.
                if call.ticket_id and caller_uniqueid(call_id) not in live.uniqueids:
                    done.orphaned_tickets.append(call.ticket_id)

    if live is None:
        return done
    for agent in await _agents(distributor):
        busy = agent.state in (SeatState.OFFERED, SeatState.ON_CALL)
        if not busy or not agent.call or agent.since_ms >= cutoff:
            continue
        line = agent.channel
        gone = (line not in live.names if agent.state is SeatState.ON_CALL and line
                else caller_uniqueid(agent.call) not in live.uniqueids)
        if gone:
            await distributor.call_ended(agent.call, agent.seat)
            done.seats_freed.append(agent.seat)
    return done
