"""呈报: a supervisor compiles selected tickets into a briefing for the city leaders; it is
downloaded, and the leaders' instructions (批示) come back onto each ticket (as an
``instruct`` workflow event, which its units see)."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from casework.actions.supervise import instruct
from casework.actor import SUPERVISORS, Actor
from casework.errors import BadRequest, CaseNotFound, NotAllowed
from casework.models import Assignment, Briefing, BriefingItem
from casework.publication import PublishedCase, scrub
from casework.stages import LABELS, Stage
from casework.workflow import Workflow, text
from tickets.models import Ticket
from tickets.taxonomy import Category
from units.directory import Directory

MAX_ITEMS = 200


class BriefingNotFound(CaseNotFound):
    def __init__(self, briefing_id: int) -> None:
        Exception.__init__(self, f"没有呈报 {briefing_id} (no briefing {briefing_id})")


@dataclass(frozen=True)
class Briefings:
    engine: Engine
    workflow: Workflow
    directory: Directory
    taxonomy: dict[str, Category]
    zone: ZoneInfo
    clock: Callable[[], datetime]

    def _require(self, actor: Actor) -> None:
        if actor.role not in SUPERVISORS:
            raise NotAllowed("只有班长可以呈报 (only supervisors compile briefings)")

    def create(self, actor: Actor, title: str, ticket_ids: list[str], note: str = "") -> int:
        self._require(actor)
        title = text("标题", title, required=True, max_len=200)
        note = text("说明", note)
        ids = list(dict.fromkeys(ticket_ids))
        if not ids or len(ids) > MAX_ITEMS:
            raise BadRequest(f"请选择 1 至 {MAX_ITEMS} 张工单 (choose 1 to {MAX_ITEMS} tickets)")
        with Session(self.engine) as session, session.begin():
            found = dict(session.execute(select(Ticket.ticket_id, Ticket.id)
                                         .where(Ticket.ticket_id.in_(ids))).all())
            missing = [t for t in ids if t not in found]
            if missing:
                raise BadRequest(f"没有这些工单 (no such tickets): {', '.join(missing[:10])}")
            briefing = Briefing(title=title, note=note, created_at=self.clock(),
                                created_by=actor.name)
            session.add(briefing)
            session.flush()
            for position, ticket_id in enumerate(ids, start=1):
                session.add(BriefingItem(briefing_id=briefing.id, ticket_pk=found[ticket_id],
                                         position=position))
            return int(briefing.id)

    def recent(self, actor: Actor) -> list[dict[str, Any]]:
        self._require(actor)
        with Session(self.engine) as session:
            rows = session.scalars(select(Briefing).order_by(Briefing.id.desc()).limit(100))
            return [{"id": b.id, "title": b.title, "created_at": b.created_at.isoformat(),
                     "created_by": b.created_by} for b in rows]

    def get(self, actor: Actor, briefing_id: int) -> dict[str, Any]:
        self._require(actor)
        with Session(self.engine) as session:
            briefing = session.get(Briefing, briefing_id)
            if briefing is None:
                raise BriefingNotFound(briefing_id)
            rows = session.execute(
                select(BriefingItem, Ticket).join(Ticket, Ticket.id == BriefingItem.ticket_pk)
                .where(BriefingItem.briefing_id == briefing_id)
                .order_by(BriefingItem.position)).all()
            items = []
            for item, ticket in rows:
                units = session.scalars(select(Assignment).where(
                    Assignment.ticket_pk == ticket.id, Assignment.role == "primary")
                    .order_by(Assignment.id)).all()
                category = self.taxonomy.get(ticket.category or "")
                items.append({
                    "position": item.position, "ticket_id": ticket.ticket_id,
                    "created_at": ticket.created_at.isoformat(),
                    "request_type": ticket.request_type, "urgency": ticket.urgency,
                    "category": ticket.category,
                    "category_name": f"{category.major}/{category.middle}/{category.minor}"
                    if category else None,
                    "summary": ticket.summary, "stage": ticket.stage,
                    "stage_label": LABELS[Stage(ticket.stage)][0],
                    "units": [self._name(a.unit_code) for a in units],
                    "result": next((a.result for a in reversed(units) if a.result), None),
                    "instructions": item.instructions, "instructed_by": item.instructed_by,
                    "instructed_at": item.instructed_at.isoformat() if item.instructed_at
                    else None})
            return {"id": briefing.id, "title": briefing.title, "note": briefing.note,
                    "created_at": briefing.created_at.isoformat(),
                    "created_by": briefing.created_by, "items": items}

    def _name(self, code: str) -> str:
        unit = self.directory.get(code)
        return unit.name if unit else code

    def record_instructions(self, actor: Actor, briefing_id: int, ticket_id: str,
                            instructions: str, leader: str) -> dict[str, Any]:
        """The leaders' 批示 on one ticket of the briefing: on the briefing, and on the
        ticket as an instruction event its units see."""
        self._require(actor)
        instructions = text("批示", instructions, required=True)
        leader = text("批示人", leader, required=True, max_len=64)
        with Session(self.engine) as session:
            item = session.scalars(
                select(BriefingItem).join(Ticket, Ticket.id == BriefingItem.ticket_pk)
                .where(BriefingItem.briefing_id == briefing_id,
                       Ticket.ticket_id == ticket_id)).one_or_none()
            if item is None:
                raise BriefingNotFound(briefing_id) if session.get(
                    Briefing, briefing_id) is None else CaseNotFound(ticket_id)
        note = f"领导批示（{leader}）：{instructions}"
        self.workflow.run(ticket_id, actor, lambda c: instruct(c, note))
        with Session(self.engine) as session, session.begin():
            row = session.get(BriefingItem, item.id)
            assert row is not None
            row.instructions = "\n".join(filter(None, [row.instructions, note]))
            row.instructed_by, row.instructed_at = leader, self.clock()
        return self.get(actor, briefing_id)

    def download(self, actor: Actor, briefing_id: int, format: str) -> tuple[str, str]:
        """(media type, document): CSV, or a printable HTML page."""
        briefing = self.get(actor, briefing_id)
        columns = ["position", "ticket_id", "created_at", "request_type", "urgency",
                   "category_name", "summary", "stage_label", "units", "result",
                   "instructions"]
        rows = [{**{c: item[c] for c in columns}, "units": "、".join(item["units"])}
                for item in briefing["items"]]
        if format == "csv":
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
            return "text/csv; charset=utf-8", buffer.getvalue()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in (
            "序号", "工单号", "受理时间", "类型", "紧急程度", "分类", "诉求", "状态", "承办单位",
            "办理结果", "领导批示"))
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r[c] or ''))}</td>"
                                        for c in columns) + "</tr>" for r in rows)
        page = (f"<!doctype html><html lang=zh-CN><meta charset=utf-8>"
                f"<title>{html.escape(briefing['title'])}</title>"
                f"<h1>{html.escape(briefing['title'])}</h1>"
                f"<p>{html.escape(briefing['note'])}</p>"
                f"<p>呈报人 {html.escape(briefing['created_by'])}，"
                f"{html.escape(briefing['created_at'])}</p>"
                f"<table border=1 cellspacing=0 cellpadding=4><tr>{head}</tr>{body}</table>")
        return "text/html; charset=utf-8", page

    def publish(self, actor: Actor, ticket_ids: list[str]) -> list[PublishedCase]:
        """发布: the chosen tickets as typical cases, with personal data removed."""
        self._require(actor)
        ids = list(dict.fromkeys(ticket_ids))
        if not ids or len(ids) > MAX_ITEMS:
            raise BadRequest(f"请选择 1 至 {MAX_ITEMS} 张工单 (choose 1 to {MAX_ITEMS} tickets)")
        out = []
        with Session(self.engine) as session:
            tickets = {t.ticket_id: t for t in session.scalars(
                select(Ticket).where(Ticket.ticket_id.in_(ids)))}
            missing = [t for t in ids if t not in tickets]
            if missing:
                raise BadRequest(f"没有这些工单 (no such tickets): {', '.join(missing[:10])}")
            for number, ticket_id in enumerate(ids, start=1):
                ticket = tickets[ticket_id]
                personal = (ticket.citizen_name, ticket.address, ticket.caller,
                            ticket.contact_number)
                units = session.scalars(select(Assignment).where(
                    Assignment.ticket_pk == ticket.id).order_by(Assignment.id)).all()
                category = self.taxonomy.get(ticket.category or "")
                results = [a.result for a in units if a.result]
                out.append(PublishedCase(
                    number=number,
                    month=ticket.created_at.astimezone(self.zone).strftime("%Y-%m"),
                    request_type=ticket.request_type or "",
                    category=f"{category.major}/{category.minor}" if category else "",
                    district=self._name(ticket.district) if ticket.district else "",
                    units="、".join(dict.fromkeys(self._name(a.unit_code) for a in units)),
                    request=scrub(ticket.summary, also=personal),
                    handling=scrub("；".join(results), also=personal),
                    solved={True: "已解决", False: "未解决", None: ""}[ticket.callback_solved]))
        return out
