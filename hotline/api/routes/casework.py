"""The ticket's life after the call, as REST: one route per workflow action, the ticket as
each role sees it, and the lists people work from (a unit's inbox, the dispatch queue, the
supervisors' lists, an agent's own tickets).

A unit's own system can integrate through these routes alone (Jinan connects 90+ units by
data interface). Every action takes an optional ``version``: the ticket's version the user
last saw; a newer one is a 409, so that nobody acts on a ticket they have not seen.
Refusals are plain words, Chinese then English: 403 not yours to do, 404 no such ticket
(also for a unit the ticket was never sent to), 409 not in this stage or changed meanwhile,
422 a value that cannot be used.
"""

# No `from __future__ import annotations`: FastAPI resolves the signatures at run time.

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from accounts.auth import Auth
from accounts.tokens import Principal
from casework.actions.accept import accept
from casework.actions.archive import archive
from casework.actions.callback import callback
from casework.actions.close_direct import close_direct
from casework.actions.dispatch import dispatch
from casework.actions.pass_down import pass_down
from casework.actions.progress import progress
from casework.actions.reply import reply
from casework.actions.send_back import send_back
from casework.actions.supervise import instruct, supervise
from casework.actions.urge import urge
from casework.actor import Actor
from casework.errors import BadRequest, CaseNotFound, CaseworkError, NotAllowed, VersionConflict
from casework.queries import INBOX_FILTERS, MAX_PAGE
from casework.service import Casework
from casework.stages import IllegalTransition
from casework.workflow import MAX_NOTE, CaseContext
from hotline.api.deps import Cases
from infra.settings import Settings
from tickets.ids import is_ticket_id

Note = Field(default="", max_length=MAX_NOTE)
Required = Field(min_length=1, max_length=MAX_NOTE)
UnitCode = Field(min_length=1, max_length=32)
Version = Field(default=None, ge=0, le=2**31 - 1,
                description="the ticket version the user last saw")


class VersionIn(BaseModel):
    version: int | None = Version


class NoteIn(VersionIn):
    note: str = Note


class DispatchIn(VersionIn):
    unit: str = UnitCode
    co_units: list[Annotated[str, UnitCode]] = Field(default_factory=list, max_length=10)
    note: str = Note


class DirectIn(VersionIn):
    answer: str = Required


class SendBackIn(VersionIn):
    reason: str = Required


class PassDownIn(VersionIn):
    unit: str = UnitCode
    note: str = Note


class ProgressIn(VersionIn):
    note: str = Required
    contacted: bool = False


class ReplyIn(VersionIn):
    result: str = Required
    solved: bool


class CallbackIn(VersionIn):
    solved: bool
    satisfied: bool
    note: str = Note


class InstructionsIn(VersionIn):
    instructions: str = Note


class RequiredInstructionsIn(VersionIn):
    instructions: str = Required


def http_error(exc: CaseworkError | IllegalTransition) -> HTTPException:
    codes = ((CaseNotFound, 404), (NotAllowed, 403), (VersionConflict, 409),
             (BadRequest, 422))
    code = next((c for kind, c in codes if isinstance(exc, kind)), status.HTTP_409_CONFLICT)
    return HTTPException(code, str(exc))


def require_ticket_id(ticket_id: str) -> None:
    """A malformed id names no ticket: 404 without a query."""
    if not is_ticket_id(ticket_id):
        raise HTTPException(404, f"没有工单 {ticket_id} (no ticket {ticket_id})")


def actor_of(who: Principal) -> Actor:
    return Actor(who.name, who.role, who.seat, who.unit)


REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "not this user's to do"},
    404: {"description": "no such ticket (or not one sent to this unit)"},
    409: {"description": "not in this stage, or changed since the user saw it"},
    422: {"description": "a value that cannot be used"},
}


def router(auth: Auth, settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/api", tags=["casework"])
    Anyone = Annotated[Principal, Depends(auth.require(
        "agent", "supervisor", "dispatcher", "unit"))]
    Staff = Annotated[Principal, Depends(auth.require("agent", "supervisor", "dispatcher"))]
    Desk = Annotated[Principal, Depends(auth.require("supervisor", "dispatcher"))]
    Supervisor = Annotated[Principal, Depends(auth.require("supervisor"))]
    UnitUser = Annotated[Principal, Depends(auth.require("unit"))]
    Agent = Annotated[Principal, Depends(auth.require("agent"))]

    def route_of(request: Request) -> str:
        return f"{request.method} {request.url.path}"

    async def act(cases: Casework, ticket_id: str, who: Principal, request: Request,
                  action: Callable[[CaseContext], object], version: int | None
                  ) -> dict[str, Any]:
        require_ticket_id(ticket_id)
        try:
            view = await asyncio.to_thread(cases.act, ticket_id, actor_of(who), action,
                                           version, route_of(request))
        except (CaseworkError, IllegalTransition) as exc:
            raise http_error(exc) from exc
        return view.as_dict()

    @api.get("/cases/{ticket_id}", responses=REFUSALS)
    async def get_case(ticket_id: str, who: Anyone, cases: Cases,
                       request: Request) -> dict[str, Any]:
        """The ticket's handling: stage, deadline and standing, the units it went to and
        their answers, every workflow event, what may be done next. A unit sees only the
        tickets sent to it or to units under it, and a confidential one masked."""
        require_ticket_id(ticket_id)
        try:
            view = await asyncio.to_thread(cases.view, ticket_id, actor_of(who),
                                           route_of(request))
        except CaseworkError as exc:
            raise http_error(exc) from exc
        return view.as_dict()

    @api.post("/cases/{ticket_id}/dispatch", responses=REFUSALS)
    async def dispatch_case(ticket_id: str, body: DispatchIn, who: Staff, cases: Cases,
                            request: Request) -> dict[str, Any]:
        """转办: to the primary unit, with optional 协办 co-units; starts the clocks."""
        return await act(cases, ticket_id, who, request,
                         lambda c: dispatch(c, body.unit, body.co_units, body.note),
                         body.version)

    @api.post("/cases/{ticket_id}/close-direct", responses=REFUSALS)
    async def close_direct_case(ticket_id: str, body: DirectIn, who: Staff, cases: Cases,
                                request: Request) -> dict[str, Any]:
        """直办: answered on the call; the answer given is recorded."""
        return await act(cases, ticket_id, who, request,
                         lambda c: close_direct(c, body.answer), body.version)

    @api.post("/cases/{ticket_id}/accept", responses=REFUSALS)
    async def accept_case(ticket_id: str, body: NoteIn, who: UnitUser, cases: Cases,
                          request: Request) -> dict[str, Any]:
        """签收, by the unit the ticket was sent to."""
        return await act(cases, ticket_id, who, request, lambda c: accept(c, body.note),
                         body.version)

    @api.post("/cases/{ticket_id}/send-back", responses=REFUSALS)
    async def send_back_case(ticket_id: str, body: SendBackIn, who: UnitUser, cases: Cases,
                             request: Request) -> dict[str, Any]:
        """退回, with the reason: to the hotline's dispatch queue."""
        return await act(cases, ticket_id, who, request,
                         lambda c: send_back(c, body.reason), body.version)

    @api.post("/cases/{ticket_id}/pass-down", responses=REFUSALS)
    async def pass_down_case(ticket_id: str, body: PassDownIn, who: UnitUser, cases: Cases,
                             request: Request) -> dict[str, Any]:
        """下派: to a unit under the acting unit."""
        return await act(cases, ticket_id, who, request,
                         lambda c: pass_down(c, body.unit, body.note), body.version)

    @api.post("/cases/{ticket_id}/progress", responses=REFUSALS)
    async def progress_case(ticket_id: str, body: ProgressIn, who: UnitUser, cases: Cases,
                            request: Request) -> dict[str, Any]:
        """A progress note; ``contacted`` records the contact with the citizen (2110)."""
        return await act(cases, ticket_id, who, request,
                         lambda c: progress(c, body.note, body.contacted), body.version)

    @api.post("/cases/{ticket_id}/reply", responses=REFUSALS)
    async def reply_case(ticket_id: str, body: ReplyIn, who: UnitUser, cases: Cases,
                         request: Request) -> dict[str, Any]:
        """反馈: the result, and whether it is solved."""
        return await act(cases, ticket_id, who, request,
                         lambda c: reply(c, body.result, body.solved), body.version)

    @api.post("/cases/{ticket_id}/callback", responses=REFUSALS)
    async def callback_case(ticket_id: str, body: CallbackIn, who: Staff, cases: Cases,
                            request: Request) -> dict[str, Any]:
        """回访: solved? satisfied? Otherwise 重办, back to the primary unit."""
        return await act(cases, ticket_id, who, request,
                         lambda c: callback(c, body.solved, body.satisfied, body.note),
                         body.version)

    @api.post("/cases/{ticket_id}/archive", responses=REFUSALS)
    async def archive_case(ticket_id: str, body: NoteIn, who: Desk, cases: Cases,
                           request: Request) -> dict[str, Any]:
        """归档: read-only from then on."""
        return await act(cases, ticket_id, who, request, lambda c: archive(c, body.note),
                         body.version)

    @api.post("/cases/{ticket_id}/urge", responses=REFUSALS)
    async def urge_case(ticket_id: str, body: NoteIn, who: Supervisor, cases: Cases,
                        request: Request) -> dict[str, Any]:
        """催办 by hand (the clocks urge on their own near the deadline)."""
        return await act(cases, ticket_id, who, request, lambda c: urge(c, body.note),
                         body.version)

    @api.post("/cases/{ticket_id}/supervise", responses=REFUSALS)
    async def supervise_case(ticket_id: str, body: InstructionsIn, who: Supervisor,
                             cases: Cases, request: Request) -> dict[str, Any]:
        """督办 by hand, with optional instructions (the clocks escalate overdue tickets)."""
        return await act(cases, ticket_id, who, request,
                         lambda c: supervise(c, body.instructions), body.version)

    @api.post("/cases/{ticket_id}/instruct", responses=REFUSALS)
    async def instruct_case(ticket_id: str, body: RequiredInstructionsIn, who: Supervisor,
                            cases: Cases, request: Request) -> dict[str, Any]:
        """Instructions on the ticket (a 督办's, or the leaders' 批示); the units see them."""
        return await act(cases, ticket_id, who, request,
                         lambda c: instruct(c, body.instructions), body.version)

    Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
    # A page further on (the dispatch desk and the supervisors page through their lists).
    Offset = Annotated[int, Query(ge=0, le=1_000_000)]

    @api.get("/cases-deadline")
    async def deadline_preview(
            _: Staff, cases: Cases,
            request_type: Annotated[Literal["咨询", "求助", "建议", "投诉", "举报"], Query()],
            urgency: Annotated[Literal["一般", "紧急", "特急"], Query()] = "一般",
    ) -> dict[str, Any]:
        """The deadline a ticket of this type and urgency would get if dispatched now (the
        desk shows it as soon as both are chosen), and its 签收 limit."""
        rules, now = cases.rules, cases.now
        limit = rules.deadlines.handling_limit(now, request_type, urgency, rules.calendar)
        return {"due_at": limit.due_from(now, rules.calendar).isoformat(),
                "limit": str(limit),
                "accept_due_at": rules.deadlines.accept_due(now, urgency,
                                                            rules.calendar).isoformat()}

    @api.get("/inbox", responses={403: REFUSALS[403]})
    async def inbox(who: UnitUser, cases: Cases, request: Request,
                    filter: Annotated[Literal["all", "new", "accepted", "due_soon", "overdue",
                                              "supervised"], Query()] = "all",
                    limit: Limit = 50,
                    before: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
                    ) -> dict[str, Any]:
        """The unit's tickets (its own and its child units'): new, accepted, due soon,
        overdue, under 督办; newest first, a page at a time (``next`` is the cursor), and
        its recent notices."""
        assert filter in INBOX_FILTERS
        if not who.unit or who.unit not in cases.rules.directory:
            raise HTTPException(403, "此账号未绑定有效的承办单位 (this account is bound to no "
                                     "known unit)")
        return await asyncio.to_thread(cases.inbox, actor_of(who), filter, limit, before,
                                       route_of(request))

    @api.get("/dispatch/queue")
    async def dispatch_queue(
            who: Desk, cases: Cases, request: Request, limit: Limit = 50,
            which: Annotated[Literal["dispatch", "callback", "archive"],
                             Query(alias="list")] = "dispatch",
            offset: Offset = 0) -> list[dict[str, Any]]:
        """The dispatch desk's lists, oldest first: ``dispatch`` (sent back, and answered
        calls left neither 直办 nor 转办), ``callback`` (every unit replied: 回访 due),
        ``archive`` (直办, or confirmed by the callback: to archive). A page of ``limit``
        rows from ``offset``."""
        return await asyncio.to_thread(cases.dispatch_queue, actor_of(who), limit,
                                       route_of(request), which, offset)

    @api.get("/supervision/cases")
    async def supervision_cases(
            who: Desk, cases: Cases, request: Request,
            which: Annotated[Literal["overdue", "due_soon", "supervised"],
                             Query(alias="list")] = "overdue",
            limit: Limit = 50, offset: Offset = 0) -> list[dict[str, Any]]:
        """Overdue, due soon, or under 督办: the tickets held by units, by deadline; a page
        of ``limit`` rows from ``offset``."""
        return await asyncio.to_thread(cases.clock_list, actor_of(who), which, limit,
                                       route_of(request), offset)

    @api.get("/desk/my-tickets")
    async def my_tickets(who: Agent, cases: Cases, request: Request,
                         limit: Limit = 50) -> list[dict[str, Any]]:
        """The tickets of this agent's calls, newest first, with their stage."""
        return await asyncio.to_thread(cases.agent_tickets, actor_of(who), limit,
                                       route_of(request))

    del settings  # the rules come with the Casework the app holds
    return api
