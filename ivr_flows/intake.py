"""The intake flow: what a caller hears before the queue, by the number they dialled.

One key straight to an agent: the greeting plays with barge-in, and any key or no key at
all leads to the queue (GB/T 33358 discourages menus). A legacy department number first
hears that its line has moved to 12345; the department becomes a routing hint.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.settings import Settings

# Every key interrupts the greeting; none of them means anything else.
BARGE_IN_KEYS = "0123456789*#"


@dataclass(frozen=True)
class Step:
    stage: str  # the abandon stage recorded if the caller hangs up here
    prompt: str  # Asterisk's name for the prompt file


@dataclass(frozen=True)
class IntakePlan:
    dialled: str
    department_hint: str | None
    steps: tuple[Step, ...]


def plan_for(dialled: str, settings: Settings) -> IntakePlan:
    hint = settings.legacy_numbers.get(dialled)
    steps: list[Step] = []
    if hint is not None:
        steps.append(Step("announcement", settings.prompt("legacy_moved")))
    steps.append(Step("greeting", settings.prompt("greeting")))
    return IntakePlan(dialled=dialled, department_hint=hint, steps=tuple(steps))

