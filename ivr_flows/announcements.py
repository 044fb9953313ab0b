"""What a waiting caller hears every N s (off by default): position, then expected wait."""

from __future__ import annotations

import math

from acd.models import QueueEstimate
from infra.settings import Settings

MAX_POSITION = 20  # queue_position_1 … _20 are rendered (ivr_flows/prompts/*/*.template)
MAX_WAIT_MIN = 10  # queue_wait_1 … _10


def announcement(estimate: QueueEstimate, settings: Settings) -> list[str]:
    ahead = estimate.calls_ahead
    if ahead == 0:
        position = "queue_next"
    elif ahead <= MAX_POSITION:
        position = f"queue_position_{ahead}"
    else:
        position = "queue_position_many"
    wait_s = estimate.expected_wait_s
    if wait_s is None or math.ceil(wait_s / 60) > MAX_WAIT_MIN:
        wait = "queue_wait_long"
    else:
        wait = f"queue_wait_{max(1, math.ceil(wait_s / 60))}"
    return [settings.prompt(position), settings.prompt(wait)]
