"""What the agent's desk page needs to build its menus: the pause reasons an agent may pick
and the transfer targets, from the settings, each with Chinese and English labels; and
every pause reason's labels, which the wallboard shows too.

No `from __future__ import annotations` here: FastAPI must resolve the route signatures,
whose alias (Agent) is local to `router()`.
"""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from accounts.auth import Auth
from accounts.tokens import Principal
from infra.settings import Settings

# Reasons only the system sets (a seat that let an offer ring out is paused with
# no_answer); the agent never picks them.
SYSTEM_REASONS = frozenset({"no_answer"})

# code -> (Chinese, English). A code not listed is shown as the code itself.
PAUSE_LABELS: dict[str, tuple[str, str]] = {
    "break": ("小休", "Break"),
    "meal": ("用餐", "Meal"),
    "training": ("培训", "Training"),
    "meeting": ("会议", "Meeting"),
    "toilet": ("如厕", "Restroom"),
    "restroom": ("如厕", "Restroom"),
    "coaching": ("辅导", "Coaching"),
    "callback": ("回访", "Call-back"),
    "admin": ("事务处理", "Admin work"),
    "no_answer": ("未接听", "No answer"),
}

DEPARTMENT_LABELS: dict[str, tuple[str, str]] = {
    "urban_management": ("城市管理", "Urban management"),
    "water": ("供水", "Water supply"),
    "gas": ("燃气", "Gas"),
    "market_regulation": ("市场监管", "Market regulation"),
    "social_security": ("人力社保", "Social security"),
    "tax": ("税务", "Tax"),
    "housing": ("住房公积金", "Housing fund"),
    "transport": ("交通运输", "Transport"),
}


class Label(BaseModel):
    code: str
    zh: str
    en: str


class PauseLabel(Label):
    system: bool  # set by the system (no_answer), never picked by an agent or supervisor


class Department(Label):
    target: str  # what POST /api/seats/{seat}/transfer takes, e.g. "expert:water"
    number: str  # the department's old hotline number


class TransferTargets(BaseModel):
    departments: list[Department]
    seat_count: int  # an agent target is agent:seat-NNN, NNN from 001 to seat_count


def label(code: str, table: dict[str, tuple[str, str]]) -> tuple[str, str]:
    return table.get(code, (code, code))


def pause_reasons(settings: Settings) -> list[Label]:
    out: list[Label] = []
    for code in settings.pause_reason_list():
        if code in SYSTEM_REASONS or any(r.code == code for r in out):
            continue
        zh, en = label(code, PAUSE_LABELS)
        out.append(Label(code=code, zh=zh, en=en))
    return out


def pause_labels(settings: Settings) -> list[PauseLabel]:
    """Every pause reason a seat can show: the settings' and the system's own."""
    out: list[PauseLabel] = []
    for code in [*settings.pause_reason_list(), *sorted(SYSTEM_REASONS)]:
        if any(r.code == code for r in out):
            continue
        zh, en = label(code, PAUSE_LABELS)
        out.append(PauseLabel(code=code, zh=zh, en=en, system=code in SYSTEM_REASONS))
    return out


def transfer_targets(settings: Settings) -> TransferTargets:
    departments: list[Department] = []
    for number, code in settings.legacy_numbers.items():
        if any(d.code == code for d in departments):
            continue  # two old numbers for one department: one entry
        zh, en = label(code, DEPARTMENT_LABELS)
        departments.append(Department(code=code, zh=zh, en=en, target=f"expert:{code}",
                                      number=number))
    return TransferTargets(departments=departments, seat_count=settings.seat_count)


def router(auth: Auth, settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/api/desk", tags=["desk"])
    Agent = Annotated[Principal, Depends(auth.require("agent"))]
    Staff = Annotated[Principal, Depends(auth.require("agent", "supervisor"))]
    reasons = pause_reasons(settings)
    labels = pause_labels(settings)
    targets = transfer_targets(settings)

    @api.get("/pause-reasons")
    async def get_pause_reasons(_: Agent) -> list[Label]:
        """The reasons an agent may pause for (the settings' pause_reasons, without the
        system's own no_answer), with Chinese and English labels."""
        return reasons

    @api.get("/pause-labels")
    async def get_pause_labels(_: Staff) -> list[PauseLabel]:
        """Labels for every pause reason a seat may show, for the desk and the wallboard:
        the settings' pause_reasons (which an agent, or a supervisor forcing a pause, may
        pick) and the system's own (`system`: no_answer, 未接听)."""
        return labels

    @api.get("/transfer-targets")
    async def get_transfer_targets(_: Agent) -> TransferTargets:
        """The expert departments a call can be transferred to (the settings'
        legacy_numbers), and how many seats there are for a transfer to an agent."""
        return targets

    return api
