"""Listen, whisper, barge: ChanSpy on an agent's call, rung to the supervisor's own seat.

An AMI Originate calls the supervisor's seat; when it answers, the dialplan context
`hotline-spy` (asterisk_conf/dialplan.py) runs ChanSpy on the agent's channel:
listen (q), whisper to the agent (w), or barge into both sides (B).
"""

from __future__ import annotations

from typing import Any

from asterisk_conf.dialplan import SPY_CONTEXT
from infra.ami import ami_action
from infra.settings import Settings

MODES = ("listen", "whisper", "barge")
RING_S = 20


class SpyError(Exception):
    pass


async def spy(settings: Settings, supervisor_seat: str, agent_seat: str, mode: str) -> str:
    """Originates the spy call; returns Asterisk's answer message."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    action = {
        "Action": "Originate", "Channel": f"PJSIP/{supervisor_seat}",
        "Context": SPY_CONTEXT, "Exten": mode, "Priority": "1",
        "CallerID": f'"{mode} {agent_seat}" <{agent_seat}>',
        "Variable": f"SPY_SEAT={agent_seat}", "Timeout": str(RING_S * 1000), "Async": "true",
    }
    try:
        reply: Any = await ami_action(settings, action, timeout=10)
    except (OSError, TimeoutError) as exc:
        raise SpyError(f"AMI unreachable: {exc}") from exc
    first = reply[0] if isinstance(reply, list) and reply else reply
    if first is None or first.get("Response") != "Success":
        raise SpyError(str(first.get("Message") if first is not None else "no reply"))
    return str(first.get("Message", "Originate successfully queued"))
