"""The intake flow: what a caller hears before an agent, by the number they dialled.

One key straight to an agent (GB/T 33358 discourages menus). The call is queued as soon as
it is answered; the greeting plays while the caller waits, with barge-in, and a free seat
rings at once with the greeting as its ring media (ivr_flows/ring_media.py). A legacy
department number first hears that its line has moved to 12345; the department becomes a
routing hint.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.settings import Settings
from ivr_flows.ring_media import RingMedia, media_for

# Every key interrupts the greeting; none of them means anything else.
BARGE_IN_KEYS = "0123456789*#"


@dataclass(frozen=True)
class Step:
    stage: str  # the abandon stage recorded if the caller hangs up here
    prompt: str  # Asterisk's name for the prompt file
    # Plays in full even if a seat is offered meanwhile (the service's name, a notice).
    protected: bool = False


@dataclass(frozen=True)
class IntakePlan:
    dialled: str
    department_hint: str | None
    steps: tuple[Step, ...]
    ring_media: RingMedia  # the same prompts, as a free seat's ring media


def plan_for(dialled: str, settings: Settings) -> IntakePlan:
    hint = settings.legacy_numbers.get(dialled)
    media = media_for(legacy=hint is not None)
    stages = {"legacy_moved": "announcement"}
    steps = tuple(Step(stages.get(name, "greeting"), settings.prompt(name),
                       protected=name in media.protected
                       and settings.greeting_first_part_always_plays)
                  for name in media.prompts)
    return IntakePlan(dialled=dialled, department_hint=hint, steps=steps, ring_media=media)
