"""The ticket's state machine, in one place: its stages, the actions, and which action may
move a ticket from which stage to which.

Every action (casework/actions/) asks :func:`check` before it changes anything and
records the move as a workflow event, so a stage changes nowhere else. The README's "Life
of a ticket" draws the stages; ``TRANSITIONS`` below is the whole truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    INTAKE = "intake"  # 受理: the call and the agent's form
    DIRECT = "direct"  # 直办: answered on the call
    DISPATCHED = "dispatched"  # 转办: sent to a unit, waiting for its 签收
    RETURNED = "returned"  # 退回: sent back, in the hotline's dispatch queue
    IN_PROGRESS = "in_progress"  # 办理中: the primary unit has accepted (签收)
    REPLIED = "replied"  # 反馈: every unit replied; the callback (回访) is due
    CALLBACK_DONE = "callback_done"  # 回访: the citizen confirmed it solved and is satisfied
    ARCHIVED = "archived"  # 归档: read-only from then on


LABELS: dict[Stage, tuple[str, str]] = {
    Stage.INTAKE: ("受理", "intake"),
    Stage.DIRECT: ("直办", "answered on the call"),
    Stage.DISPATCHED: ("转办待签收", "dispatched, awaiting acceptance"),
    Stage.RETURNED: ("退回待派", "sent back, awaiting dispatch"),
    Stage.IN_PROGRESS: ("办理中", "in progress"),
    Stage.REPLIED: ("已反馈待回访", "replied, awaiting callback"),
    Stage.CALLBACK_DONE: ("已回访", "callback done"),
    Stage.ARCHIVED: ("已归档", "archived"),
}

# Stages whose deadline clock runs: a unit holds the ticket.
CLOCK_STAGES: frozenset[Stage] = frozenset({Stage.DISPATCHED, Stage.IN_PROGRESS})
# Stages a supervisor may put under 督办 (the ticket is still being handled).
OPEN_STAGES: frozenset[Stage] = frozenset(
    {Stage.INTAKE, Stage.DISPATCHED, Stage.RETURNED, Stage.IN_PROGRESS, Stage.REPLIED})

# Stages in which the request has its answer: an open 督办 is closed on reaching them.
SETTLED_STAGES: frozenset[Stage] = frozenset(
    {Stage.DIRECT, Stage.REPLIED, Stage.CALLBACK_DONE, Stage.ARCHIVED})


class Action(StrEnum):
    CLOSE_DIRECT = "close_direct"  # 直办
    DISPATCH = "dispatch"  # 转办 (with 协办 co-units)
    ACCEPT = "accept"  # 签收
    SEND_BACK = "send_back"  # 退回
    PASS_DOWN = "pass_down"  # 下派, to a child unit
    PROGRESS = "progress"  # 办理中: a progress note, or the contact of the 2110 rule
    REPLY = "reply"  # 反馈
    CALLBACK = "callback"  # 回访; an unsolved or unsatisfied answer is 重办
    ARCHIVE = "archive"  # 归档
    URGE = "urge"  # 催办
    SUPERVISE = "supervise"  # 督办
    INSTRUCT = "instruct"  # a supervisor's instructions on a 督办 (or the leaders' 批示)


ACTION_LABELS: dict[Action, tuple[str, str]] = {
    Action.CLOSE_DIRECT: ("直办", "answer on the call"),
    Action.DISPATCH: ("转办", "dispatch"),
    Action.ACCEPT: ("签收", "accept"),
    Action.SEND_BACK: ("退回", "send back"),
    Action.PASS_DOWN: ("下派", "pass down"),
    Action.PROGRESS: ("办理进展", "progress"),
    Action.REPLY: ("反馈", "reply"),
    Action.CALLBACK: ("回访", "callback"),
    Action.ARCHIVE: ("归档", "archive"),
    Action.URGE: ("催办", "urge"),
    Action.SUPERVISE: ("督办", "supervise"),
    Action.INSTRUCT: ("批示", "instruct"),
}

S = Stage
# action -> {from stage: the stages it may lead to}. An action's own rules (whose turn,
# which unit) are in its module; this table is what no action may get around.
TRANSITIONS: dict[Action, dict[Stage, frozenset[Stage]]] = {
    Action.CLOSE_DIRECT: {S.INTAKE: frozenset({S.DIRECT})},
    Action.DISPATCH: {S.INTAKE: frozenset({S.DISPATCHED}),
                      S.RETURNED: frozenset({S.DISPATCHED})},
    # A co-unit's 签收 leaves the stage as it is; the primary's moves it on.
    Action.ACCEPT: {S.DISPATCHED: frozenset({S.DISPATCHED, S.IN_PROGRESS}),
                    S.IN_PROGRESS: frozenset({S.IN_PROGRESS})},
    # The primary's 退回 sends the ticket back; a co-unit's only ends its own part.
    Action.SEND_BACK: {S.DISPATCHED: frozenset({S.RETURNED, S.DISPATCHED}),
                       S.IN_PROGRESS: frozenset({S.RETURNED, S.IN_PROGRESS})},
    Action.PASS_DOWN: {S.DISPATCHED: frozenset({S.DISPATCHED}),
                       S.IN_PROGRESS: frozenset({S.DISPATCHED, S.IN_PROGRESS})},
    Action.PROGRESS: {S.IN_PROGRESS: frozenset({S.IN_PROGRESS}),
                      S.DISPATCHED: frozenset({S.DISPATCHED})},
    Action.REPLY: {S.IN_PROGRESS: frozenset({S.IN_PROGRESS, S.REPLIED}),
                   S.DISPATCHED: frozenset({S.DISPATCHED, S.REPLIED})},
    Action.CALLBACK: {S.REPLIED: frozenset({S.CALLBACK_DONE, S.IN_PROGRESS})},
    Action.ARCHIVE: {S.DIRECT: frozenset({S.ARCHIVED}),
                     S.CALLBACK_DONE: frozenset({S.ARCHIVED})},
    Action.URGE: {s: frozenset({s}) for s in CLOCK_STAGES},
    Action.SUPERVISE: {s: frozenset({s}) for s in OPEN_STAGES},
    Action.INSTRUCT: {s: frozenset({s}) for s in Stage if s is not S.ARCHIVED},
}


@dataclass(frozen=True)
class IllegalTransition(Exception):
    """The action does not apply to a ticket in this stage (HTTP 409)."""

    action: Action
    stage: Stage
    to: Stage | None = None

    def __str__(self) -> str:
        verb, verb_en = ACTION_LABELS[self.action]
        label, label_en = LABELS[self.stage]
        if self.stage is Stage.ARCHIVED:
            return f"工单已归档，不能再{verb} (the ticket is archived: it can no longer {verb_en})"
        return (f"工单当前为“{label}”，不能{verb} "
                f"(a ticket that is {label_en} cannot {verb_en})")


def check(action: Action, stage: Stage, to: Stage | None = None) -> None:
    """Raises IllegalTransition unless ``action`` applies in ``stage`` (and may lead to
    ``to``, when given)."""
    targets = TRANSITIONS[action].get(stage)
    if targets is None or (to is not None and to not in targets):
        raise IllegalTransition(action, stage, to)


def allowed_actions(stage: Stage) -> list[Action]:
    """What may be done to a ticket in this stage (a page shows only these buttons)."""
    return [action for action, table in TRANSITIONS.items() if stage in table]
