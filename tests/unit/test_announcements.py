"""Which prompts a waiting caller hears, from the queue estimate (pure logic)."""

from __future__ import annotations

from pathlib import Path

from acd.models import QueueEstimate
from infra.settings import Settings
from ivr_flows.announcements import announcement

SETTINGS = Settings(state_dir=Path("/state"))


def names(estimate: QueueEstimate) -> list[str]:
    return [Path(p).name for p in announcement(estimate, SETTINGS)]


def test_next_in_line_with_a_known_wait() -> None:
    assert names(QueueEstimate(calls_ahead=0, agents=3, aht_s=120)) == \
        ["queue_next", "queue_wait_1"]


def test_position_and_minutes_round_up() -> None:
    # 5 calls ahead and this one, 3 agents, 3 minutes each: 6 minutes.
    assert names(QueueEstimate(calls_ahead=5, agents=3, aht_s=180)) == \
        ["queue_position_5", "queue_wait_6"]


def test_long_queues_and_unknown_waits_are_not_given_a_number() -> None:
    assert names(QueueEstimate(calls_ahead=35, agents=2, aht_s=300)) == \
        ["queue_position_many", "queue_wait_long"]
    assert names(QueueEstimate(calls_ahead=1, agents=0, aht_s=300)) == \
        ["queue_position_1", "queue_wait_long"]
    assert names(QueueEstimate(calls_ahead=1, agents=4, aht_s=0)) == \
        ["queue_position_1", "queue_wait_long"]


def test_every_announced_prompt_is_rendered() -> None:
    from ivr_flows.prompts import PROMPTS_SOURCE

    sources = {p.stem for p in (PROMPTS_SOURCE / "zh").glob("*.txt")}
    templates = {p.stem for p in (PROMPTS_SOURCE / "zh").glob("*.template")}
    assert {"queue_next", "queue_position_many", "queue_wait_long"} <= sources
    assert {"queue_position", "queue_wait"} <= templates
