"""分析: the casework figures by unit, category, district or month, and the monthly unit
ranking (Jinan's 百分制考核).

What each figure counts, over the tickets dispatched (转办) in the period, unless said:

- ``on_time_rate`` 按期办结率: of the tickets whose deadline has passed or which every
  unit answered (反馈), the share whose first full answer came by the deadline then in
  force (a later 重办 does not make a late answer on time);
- ``response_rate`` 签收率: the share the primary unit accepted (签收) within its limit;
- ``resolution_rate`` and ``satisfaction_rate``: of the callbacks (回访) made, the share
  the citizen called solved, and satisfied (Beijing's 接诉即办 "three rates" are these and
  the response rate);
- ``send_back_rate`` 退回率: the share sent back (退回) at least once;
- ``direct_rate`` 直办率 (over every ticket decided in the period): the share answered on
  the call; Jinan's target is 70 %.

A ticket counts for the unit it was first dispatched to, rolled up to its department or
district (level 3): a street's work is its district's. Rates are None when nothing was
there to count.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from tickets.models import Ticket
from units.directory import Directory

GroupBy = Literal["unit", "category", "district", "month"]
GROUPINGS: tuple[str, ...] = ("unit", "category", "district", "month")
DEPARTMENT_LEVEL = 3


@dataclass(frozen=True)
class RankingWeights:
    """How the 100 points of the monthly ranking are made up (configurable)."""

    on_time: float = 30.0
    response: float = 20.0
    resolution: float = 25.0
    satisfaction: float = 25.0
    send_back_penalty: float = 10.0  # points off at a send-back rate of 100 %

    def __post_init__(self) -> None:
        parts = (self.on_time, self.response, self.resolution, self.satisfaction)
        if any(p < 0 for p in (*parts, self.send_back_penalty)) or \
                abs(sum(parts) - 100.0) > 1e-6:
            raise ValueError("the ranking's weights are each ≥ 0 and add up to 100")


@dataclass
class Figures:
    key: str
    label: str
    dispatched: int = 0
    due_or_answered: int = 0
    on_time: int = 0
    accepted_in_time: int = 0
    callbacks: int = 0
    solved: int = 0
    satisfied: int = 0
    sent_back: int = 0
    direct: int = 0
    decided: int = 0
    rates: dict[str, float | None] = field(default_factory=dict)

    def finish(self) -> Figures:
        def rate(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        self.rates = {
            "on_time_rate": rate(self.on_time, self.due_or_answered),
            "response_rate": rate(self.accepted_in_time, self.dispatched),
            "resolution_rate": rate(self.solved, self.callbacks),
            "satisfaction_rate": rate(self.satisfied, self.callbacks),
            "send_back_rate": rate(self.sent_back, self.dispatched),
            "direct_rate": rate(self.direct, self.decided),
        }
        return self

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        rates = out.pop("rates")
        return {**out, **rates}


def _department(directory: Directory, code: str) -> str:
    """The unit a ticket counts for: its level-3 ancestor (or itself)."""
    unit = directory.get(code)
    if unit is None or unit.level <= DEPARTMENT_LEVEL:
        return code
    for ancestor in directory.ancestors(code):
        if ancestor.level == DEPARTMENT_LEVEL:
            return ancestor.code
    return code


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _months(start: datetime, end: datetime, local: ZoneInfo) -> list[tuple[datetime, str]]:
    """The local months' starts after ``start`` up to ``end``, each with the name of the
    month it ends: the bounds of a CASE that names a moment's month in any database."""
    bounds: list[tuple[datetime, str]] = []
    at = start.astimezone(local)
    month = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while True:
        following = (month + timedelta(days=32)).replace(day=1)
        bounds.append((following.astimezone(UTC), month.strftime("%Y-%m")))
        if following >= end:
            return bounds
        month = following


def _key(by: GroupBy, at: Any, start: datetime, end: datetime, local: ZoneInfo,
         unit: Any = None) -> Any:
    """The SQL expression of a row's group (``at``: the moment the month is taken from)."""
    if by == "unit":
        return unit
    if by == "category":
        return func.substr(Ticket.category, 1, 2)
    if by == "district":
        return Ticket.district
    return case(*((at < bound, name) for bound, name in _months(start, end, local)),
                else_="")


def report(session: Session, directory: Directory, start: datetime, end: datetime,
           now: datetime, by: GroupBy = "unit", zone: str = "Asia/Shanghai") -> list[Figures]:
    """The figures of the tickets dispatched (or decided 直办) in [start, end), grouped.

    Counted in the database, from the tickets table alone: the actions keep on each
    ticket what is counted (its first unit, that unit's 签收, whether it was sent back),
    so a month is one range read of the dispatched_at index and a GROUP BY."""
    local = ZoneInfo(zone)
    groups: dict[str, Figures] = {}

    def group(key: str) -> Figures:
        if key not in groups:
            groups[key] = Figures(key, _label(directory, by, key))
        return groups[key]

    def name(raw: str | None) -> str:
        if by == "unit":
            return _department(directory, raw or "")
        return raw or "-"

    due_or_answered = or_(Ticket.replied_at.is_not(None), Ticket.due_at < now)
    called_back = Ticket.callback_solved.is_not(None)
    key = _key(by, Ticket.dispatched_at, start, end, local, Ticket.first_unit_code)
    dispatched = (
        select(key, func.count(),
               _count_if(Ticket.first_accepted_at <= Ticket.accept_due_at),
               _count_if(due_or_answered),
               _count_if(and_(due_or_answered, Ticket.replied_on_time.is_(True))),
               _count_if(called_back),
               _count_if(Ticket.callback_solved.is_(True)),
               _count_if(and_(called_back, Ticket.callback_satisfied.is_(True))),
               _count_if(Ticket.sent_back.is_(True)))
        .where(Ticket.dispatched_at >= start, Ticket.dispatched_at < end,
               Ticket.first_unit_code.is_not(None))
        .group_by(key))
    for raw, count, in_time, due, on_time, callbacks, solved, satisfied, sent_back in \
            session.execute(dispatched):
        figures = group(name(raw))
        figures.dispatched += count
        figures.decided += count
        figures.accepted_in_time += in_time
        figures.due_or_answered += due
        figures.on_time += on_time
        figures.callbacks += callbacks
        figures.solved += solved
        figures.satisfied += satisfied
        figures.sent_back += sent_back
    if by != "unit":
        # 直办 tickets have no unit: they count in the direct rate of their own group.
        key = _key(by, Ticket.closed_at, start, end, local)
        direct = (select(key, func.count())
                  .where(Ticket.stage.in_(("direct", "archived")),
                         Ticket.dispatched_at.is_(None),
                         Ticket.closed_at >= start, Ticket.closed_at < end)
                  .group_by(key))
        for raw, count in session.execute(direct):
            figures = group(name(raw))
            figures.direct += count
            figures.decided += count
    return [groups[k].finish() for k in sorted(groups)]


def direct_rate(session: Session, start: datetime, end: datetime) -> float | None:
    """直办率 over the whole hotline: answered on the call, of all decided in [start, end)."""
    direct = session.scalar(select(func.count()).where(
        Ticket.dispatched_at.is_(None), Ticket.stage.in_(("direct", "archived")),
        Ticket.closed_at >= start, Ticket.closed_at < end)) or 0
    dispatched = session.scalar(select(func.count()).where(
        Ticket.dispatched_at >= start, Ticket.dispatched_at < end)) or 0
    total = direct + dispatched
    return round(direct / total, 4) if total else None


def ranking(figures: list[Figures], weights: RankingWeights) -> list[dict[str, Any]]:
    """The units by score, best first: each rate times its weight (a missing rate scores
    its full weight: nothing went wrong), minus the send-back rate times its penalty."""
    out = []
    for f in figures:
        r = f.rates
        score = sum(weight * (1.0 if r[name] is None else float(r[name] or 0))
                    for name, weight in (("on_time_rate", weights.on_time),
                                         ("response_rate", weights.response),
                                         ("resolution_rate", weights.resolution),
                                         ("satisfaction_rate", weights.satisfaction)))
        score -= weights.send_back_penalty * float(r["send_back_rate"] or 0)
        out.append({**f.as_dict(), "score": round(max(score, 0.0), 2)})
    out.sort(key=lambda row: (-row["score"], row["key"]))
    for rank, row in enumerate(out, start=1):
        row["rank"] = rank
    return out


def as_csv(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _label(directory: Directory, by: GroupBy, key: str) -> str:
    if by in ("unit", "district"):
        unit = directory.get(key)
        return unit.name if unit else key
    return key
