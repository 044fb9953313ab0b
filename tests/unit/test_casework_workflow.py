"""The ticket's workflow on a real SQLite file and a real PostgreSQL: every transition, legal
and illegal, the version guard under concurrent users, units' visibility, masking."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

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
from casework.errors import BadRequest, CaseNotFound, NotAllowed, VersionConflict
from casework.models import ConfidentialView, UnitNotice
from casework.service import Casework
from casework.stages import TRANSITIONS, Action, IllegalTransition, Stage
from casework.workflow import CaseContext, Rules
from deadlines.rules import DeadlineRules
from deadlines.workdays import WorkCalendar
from tickets.models import Ticket
from tickets.store import TicketStore
from units.directory import Directory, Unit

# Tuesday 2026-11-24 10:00 in Jinan.
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)

DIRECTORY = Directory([
    Unit("city", "济南市人民政府", None, 1),
    Unit("office", "12345热线办", "city", 2),
    Unit("water", "市水务局", "office", 3),
    Unit("lixia", "历下区", "office", 3),
    Unit("quancheng", "泉城路街道", "lixia", 4),
    Unit("daming", "大明湖街道", "lixia", 4),
    Unit("community", "某社区", "quancheng", 5),
    Unit("shizhong", "市中区", "office", 3),
])

AGENT = Actor("agent1", "agent", seat="seat-001")
OTHER_AGENT = Actor("agent2", "agent", seat="seat-002")
DISPATCHER = Actor("disp", "dispatcher")
SUPERVISOR = Actor("boss", "supervisor")
WATER = Actor("water1", "unit", unit="water")
LIXIA = Actor("lixia1", "unit", unit="lixia")
QUANCHENG = Actor("qc1", "unit", unit="quancheng")
SHIZHONG = Actor("sz1", "unit", unit="shizhong")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def casework(store: TicketStore, clock: Clock) -> Iterator[Casework]:
    rules = Rules(DIRECTORY, DeadlineRules.default(), WorkCalendar(),
                  enterprise_numbers=frozenset({"96888"}))
    service = Casework(store.database_url, rules, clock)
    yield service
    service.dispose()


_calls = iter(range(10**6))


def answered_call(store: TicketStore, *, seat: str = "seat-001", caller: str = "13800000001",
                  dialled: str = "12345", request_type: str = "投诉",
                  urgency: str = "一般", confidential: bool = False) -> str:
    ticket_id = store.open_ticket(caller=caller, dialled=dialled,
                                  channel_id=f"call-{next(_calls)}", at=T0 - timedelta(minutes=5))
    store.mark_answered(ticket_id, seat=seat, at=T0 - timedelta(minutes=4))
    store.close(ticket_id, outcome="answered", at=T0 - timedelta(minutes=1), seat=seat)
    with Session(store.engine) as session, session.begin():
        session.execute(update(Ticket).where(Ticket.ticket_id == ticket_id).values(
            request_type=request_type, urgency=urgency, summary="小区停水三天",
            confidential=confidential, contact_number="13912345678", citizen_name="张三",
            address="泉城路1号"))
    return ticket_id


def run(casework: Casework, ticket_id: str, actor: Actor,
        action: Callable[[CaseContext], object], version: int | None = None) -> str:
    return casework.act(ticket_id, actor, action, version).stage


def test_the_whole_life_of_a_dispatched_ticket(store: TicketStore, casework: Casework,
                                               clock: Clock) -> None:
    ticket_id = answered_call(store)
    assert run(casework, ticket_id, AGENT, lambda c: dispatch(c, "lixia", ["water"])) == \
        "dispatched"
    view = casework.view(ticket_id, SUPERVISOR, "test")
    assert [(a.unit_code, a.role, a.state) for a in view.assignments] == [
        ("lixia", "primary", "dispatched"), ("water", "co", "dispatched")]
    assert view.due_at is not None and view.accept_due_at is not None
    clock.now += timedelta(hours=1)
    assert run(casework, ticket_id, WATER, accept) == "dispatched"  # a co-unit's 签收
    assert run(casework, ticket_id, LIXIA, accept) == "in_progress"
    assert run(casework, ticket_id, LIXIA, lambda c: pass_down(c, "quancheng", "请核实")) == \
        "dispatched"
    assert run(casework, ticket_id, QUANCHENG, accept) == "in_progress"
    assert run(casework, ticket_id, QUANCHENG,
               lambda c: progress(c, "已联系市民", contacted=True)) == "in_progress"
    assert run(casework, ticket_id, QUANCHENG, lambda c: reply(c, "已恢复供水", True)) == \
        "in_progress"  # the co-unit has not replied yet
    assert run(casework, ticket_id, WATER, lambda c: reply(c, "管网已修复", True)) == "replied"
    assert [r["ticket_id"] for r in casework.dispatch_queue(DISPATCHER, 50, "t", "callback")
            ] == [ticket_id]
    # The citizen is not satisfied: 重办, back to the primary unit, a new round.
    assert run(casework, ticket_id, DISPATCHER,
               lambda c: callback(c, solved=True, satisfied=False, note="水压仍低")) == \
        "in_progress"
    view = casework.view(ticket_id, SUPERVISOR, "test")
    assert view.reopen_count == 1
    assert run(casework, ticket_id, QUANCHENG, lambda c: reply(c, "水压已调整", True)) == \
        "replied"
    assert run(casework, ticket_id, DISPATCHER,
               lambda c: callback(c, solved=True, satisfied=True)) == "callback_done"
    assert [r["ticket_id"] for r in casework.dispatch_queue(DISPATCHER, 50, "t", "archive")
            ] == [ticket_id]
    assert run(casework, ticket_id, SUPERVISOR, archive) == "archived"
    assert casework.dispatch_queue(DISPATCHER, 50, "t", "archive") == []
    view = casework.view(ticket_id, SUPERVISOR, "test")
    assert [(e.action, e.from_stage, e.to_stage) for e in view.events] == [
        ("dispatch", "intake", "dispatched"),
        ("accept", "dispatched", "dispatched"),
        ("accept", "dispatched", "in_progress"),
        ("pass_down", "in_progress", "dispatched"),
        ("accept", "dispatched", "in_progress"),
        ("progress", "in_progress", "in_progress"),
        ("reply", "in_progress", "in_progress"),
        ("reply", "in_progress", "replied"),
        ("callback", "replied", "in_progress"),
        ("reply", "in_progress", "replied"),
        ("callback", "replied", "callback_done"),
        ("archive", "callback_done", "archived"),
    ]
    assert [e.actor for e in view.events][:3] == ["agent1", "water1", "lixia1"]
    assert view.events[3].unit_code == "quancheng" and view.events[3].note == "请核实"
    # Archived: read-only.
    for actor, action in ((QUANCHENG, lambda c: progress(c, "x")),
                          (SUPERVISOR, lambda c: instruct(c, "x")),
                          (DISPATCHER, lambda c: dispatch(c, "water"))):
        with pytest.raises((IllegalTransition, NotAllowed)):
            run(casework, ticket_id, actor, action)


def test_direct_answer_then_archive(store: TicketStore, casework: Casework) -> None:
    ticket_id = answered_call(store)
    with pytest.raises(BadRequest, match="答复内容"):
        run(casework, ticket_id, AGENT, lambda c: close_direct(c, "  "))
    assert run(casework, ticket_id, AGENT, lambda c: close_direct(c, "已告知办理流程")) == "direct"
    with pytest.raises(IllegalTransition, match="直办"):
        run(casework, ticket_id, AGENT, lambda c: dispatch(c, "water"))
    assert run(casework, ticket_id, DISPATCHER, archive) == "archived"


def test_send_back_goes_to_the_dispatch_queue_and_is_dispatched_again(
        store: TicketStore, casework: Casework) -> None:
    ticket_id = answered_call(store)
    run(casework, ticket_id, AGENT, lambda c: dispatch(c, "water", ["lixia"]))
    assert casework.dispatch_queue(DISPATCHER, 50, "test") == []
    with pytest.raises(BadRequest, match="退回理由"):
        run(casework, ticket_id, WATER, lambda c: send_back(c, ""))
    assert run(casework, ticket_id, WATER, lambda c: send_back(c, "不属于本单位职责")) == \
        "returned"
    queue = casework.dispatch_queue(DISPATCHER, 50, "test")
    assert [row["ticket_id"] for row in queue] == [ticket_id]
    # The co-unit's part ended with it: it can no longer act.
    with pytest.raises((IllegalTransition, NotAllowed)):
        run(casework, ticket_id, LIXIA, accept)
    # An agent re-dispatches only its own calls; the dispatch desk does it.
    with pytest.raises(NotAllowed):
        run(casework, ticket_id, OTHER_AGENT, lambda c: dispatch(c, "shizhong"))
    assert run(casework, ticket_id, DISPATCHER, lambda c: dispatch(c, "shizhong")) == \
        "dispatched"
    assert run(casework, ticket_id, SHIZHONG, accept) == "in_progress"


def test_every_illegal_transition_is_refused_and_changes_nothing(
        store: TicketStore, casework: Casework) -> None:
    # One ticket per stage, then every action the table does not allow from that stage.
    by_stage: dict[Stage, str] = {}
    t = answered_call(store)
    by_stage[Stage.INTAKE] = t
    t = answered_call(store)
    run(casework, t, AGENT, lambda c: close_direct(c, "已答复"))
    by_stage[Stage.DIRECT] = t
    t = answered_call(store)
    run(casework, t, AGENT, lambda c: dispatch(c, "water"))
    by_stage[Stage.DISPATCHED] = t
    t = answered_call(store)
    run(casework, t, AGENT, lambda c: dispatch(c, "water"))
    run(casework, t, WATER, lambda c: send_back(c, "非本单位"))
    by_stage[Stage.RETURNED] = t
    t = answered_call(store)
    run(casework, t, AGENT, lambda c: dispatch(c, "water"))
    run(casework, t, WATER, accept)
    by_stage[Stage.IN_PROGRESS] = t
    t = answered_call(store)
    run(casework, t, AGENT, lambda c: dispatch(c, "water"))
    run(casework, t, WATER, accept)
    run(casework, t, WATER, lambda c: reply(c, "已办结", True))
    by_stage[Stage.REPLIED] = t
    t = answered_call(store)
    run(casework, t, AGENT, lambda c: close_direct(c, "已答复"))
    run(casework, t, SUPERVISOR, archive)
    by_stage[Stage.ARCHIVED] = t

    attempts: dict[Action, tuple[Actor, Callable[[CaseContext], object]]] = {
        Action.CLOSE_DIRECT: (AGENT, lambda c: close_direct(c, "答复")),
        Action.DISPATCH: (DISPATCHER, lambda c: dispatch(c, "lixia")),
        Action.ACCEPT: (WATER, accept),
        Action.SEND_BACK: (WATER, lambda c: send_back(c, "理由")),
        Action.PASS_DOWN: (WATER, lambda c: pass_down(c, "lixia")),
        Action.PROGRESS: (WATER, lambda c: progress(c, "进展")),
        Action.REPLY: (WATER, lambda c: reply(c, "结果", True)),
        Action.CALLBACK: (DISPATCHER, lambda c: callback(c, True, True)),
        Action.ARCHIVE: (SUPERVISOR, archive),
        Action.URGE: (SUPERVISOR, urge),
        Action.SUPERVISE: (SUPERVISOR, supervise),
        Action.INSTRUCT: (SUPERVISOR, lambda c: instruct(c, "批示")),
    }
    never_dispatched = {Stage.INTAKE, Stage.DIRECT, Stage.ARCHIVED}
    refused = 0
    for stage, ticket_id in by_stage.items():
        for action, (actor, do) in attempts.items():
            if stage in TRANSITIONS[action]:
                continue
            before = casework.view(ticket_id, SUPERVISOR, "test")
            if actor.is_unit and stage in never_dispatched:
                # The unit was never sent it: for the unit it does not exist.
                with pytest.raises(CaseNotFound):
                    run(casework, ticket_id, actor, do)
                continue
            with pytest.raises(IllegalTransition) as raised:
                run(casework, ticket_id, actor, do)
            assert raised.value.action is action and raised.value.stage is stage
            assert "不能" in str(raised.value) and "cannot" in str(raised.value) or \
                stage is Stage.ARCHIVED
            after = casework.view(ticket_id, SUPERVISOR, "test")
            assert (after.stage, after.version, len(after.events)) == (
                before.stage, before.version, len(before.events))
            refused += 1
    assert refused >= 30


def test_bad_input_is_refused_in_plain_words(store: TicketStore, casework: Casework) -> None:
    ticket_id = answered_call(store)
    with pytest.raises(BadRequest, match="没有承办单位"):
        run(casework, ticket_id, AGENT, lambda c: dispatch(c, "no-such-unit"))
    with pytest.raises(BadRequest, match="不是承办单位"):
        run(casework, ticket_id, AGENT, lambda c: dispatch(c, "office"))
    with pytest.raises(BadRequest, match="协办"):
        run(casework, ticket_id, AGENT, lambda c: dispatch(c, "water", ["water"]))
    with pytest.raises(BadRequest, match="4000"):
        run(casework, ticket_id, AGENT, lambda c: dispatch(c, "water", note="长" * 4001))
    with pytest.raises(CaseNotFound):
        run(casework, "20261124-999999", AGENT, lambda c: dispatch(c, "water"))
    # Nothing of the refused attempts was written.
    assert casework.view(ticket_id, SUPERVISOR, "test").events == []
    run(casework, ticket_id, AGENT, lambda c: dispatch(c, "lixia"))
    run(casework, ticket_id, LIXIA, accept)
    with pytest.raises(BadRequest, match="下级"):
        run(casework, ticket_id, LIXIA, lambda c: pass_down(c, "shizhong"))
    with pytest.raises(BadRequest, match="下级"):
        run(casework, ticket_id, LIXIA, lambda c: pass_down(c, "lixia"))


def test_a_unit_sees_only_its_own_and_its_childrens_tickets(
        store: TicketStore, casework: Casework) -> None:
    to_street = answered_call(store)
    run(casework, to_street, AGENT, lambda c: dispatch(c, "quancheng"))
    to_water = answered_call(store)
    run(casework, to_water, AGENT, lambda c: dispatch(c, "water"))
    inbox = casework.inbox(LIXIA, "all", 50, None, "test")["tickets"]
    assert [row["ticket_id"] for row in inbox] == [to_street]  # its street's, not water's
    assert casework.inbox(SHIZHONG, "all", 50, None, "test")["tickets"] == []
    for actor in (SHIZHONG, Actor("dm", "unit", unit="daming")):
        with pytest.raises(CaseNotFound):
            casework.view(to_street, actor, "test")
        with pytest.raises(CaseNotFound):
            casework.act(to_street, actor, accept)
    # The parent sees it but may not act for its child; an agent cannot act as a unit.
    assert casework.view(to_street, LIXIA, "test").stage == "dispatched"
    assert casework.view(to_street, LIXIA, "test").actions == []
    assert casework.view(to_street, QUANCHENG, "test").actions == [
        "accept", "send_back", "pass_down", "progress", "reply"]
    assert casework.view(to_street, AGENT, "test").actions == []
    assert "supervise" in casework.view(to_street, SUPERVISOR, "test").actions
    with pytest.raises(NotAllowed):
        casework.act(to_street, LIXIA, accept)
    with pytest.raises(NotAllowed):
        casework.act(to_street, AGENT, accept)
    assert casework.act(to_street, QUANCHENG, accept).stage == "in_progress"


def test_a_confidential_ticket_is_masked_for_units_and_every_view_is_audited(
        store: TicketStore, casework: Casework) -> None:
    ticket_id = answered_call(store, caller="13800000777", confidential=True)
    run(casework, ticket_id, AGENT, lambda c: dispatch(c, "water"))
    unit_view = casework.view(ticket_id, WATER, "GET /api/cases")
    assert unit_view.caller == "138****0777"
    assert unit_view.contact_number == "139****5678"
    assert unit_view.citizen_name is None
    inbox_row = casework.inbox(WATER, "all", 50, None, "GET /api/inbox")["tickets"][0]
    assert inbox_row["caller"] == "138****0777"
    staff_view = casework.view(ticket_id, SUPERVISOR, "GET /api/cases")
    assert staff_view.caller == "13800000777" and staff_view.citizen_name == "张三"
    with Session(casework.engine) as session:
        audit = session.execute(select(ConfidentialView.who, ConfidentialView.route)
                                .order_by(ConfidentialView.id)).all()
    # dispatch's own result view (agent1), the unit's view, its inbox, the supervisor's.
    assert [tuple(row) for row in audit] == [
        ("agent1", ""), ("water1", "GET /api/cases"), ("water1", "GET /api/inbox"),
        ("boss", "GET /api/cases")]


def test_of_two_concurrent_acceptances_exactly_one_wins(store: TicketStore,
                                                        casework: Casework) -> None:
    ticket_id = answered_call(store)
    run(casework, ticket_id, AGENT, lambda c: dispatch(c, "water"))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def slow_accept(case: CaseContext) -> None:
        accept(case)

    def client() -> None:
        barrier.wait()
        try:
            casework.act(ticket_id, WATER, slow_accept)
            outcomes.append("won")
        except (IllegalTransition, NotAllowed, VersionConflict) as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=client) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes)[-1] == "won" and outcomes.count("won") == 1, outcomes
    view = casework.view(ticket_id, SUPERVISOR, "test")
    assert [e.action for e in view.events] == ["dispatch", "accept"]


def test_a_stale_version_is_a_conflict(store: TicketStore, casework: Casework) -> None:
    ticket_id = answered_call(store)
    seen = casework.view(ticket_id, SUPERVISOR, "test").version
    run(casework, ticket_id, AGENT, lambda c: dispatch(c, "water"), version=seen)
    # The second user still holds the version it loaded before the first one acted.
    with pytest.raises(VersionConflict, match="已被他人修改") as conflict:
        run(casework, ticket_id, DISPATCHER, lambda c: dispatch(c, "lixia"), version=seen)
    assert conflict.value.version == seen + 1
    assert casework.view(ticket_id, SUPERVISOR, "test").assignments[0].unit_code == "water"


def test_supervision_by_hand_with_instructions_flags_the_ticket_for_its_unit(
        store: TicketStore, casework: Casework) -> None:
    ticket_id = answered_call(store)
    run(casework, ticket_id, AGENT, lambda c: dispatch(c, "water"))
    with pytest.raises(NotAllowed):
        run(casework, ticket_id, AGENT, supervise)
    run(casework, ticket_id, SUPERVISOR, lambda c: supervise(c, "请三日内办结"))
    run(casework, ticket_id, SUPERVISOR, lambda c: instruct(c, "加快进度"))
    unit_view = casework.view(ticket_id, WATER, "test")
    assert unit_view.supervised and unit_view.instructions == "请三日内办结\n加快进度"
    inbox = casework.inbox(WATER, "supervised", 50, None, "test")
    assert [row["ticket_id"] for row in inbox["tickets"]] == [ticket_id]
    assert {n["kind"] for n in inbox["notices"]} == {"dispatched", "supervised", "instructed"}
    # The unit's reply settles it: the 督办 is closed.
    run(casework, ticket_id, WATER, accept)
    run(casework, ticket_id, WATER, lambda c: reply(c, "已办结", True))
    assert not casework.view(ticket_id, SUPERVISOR, "test").supervised
    with Session(casework.engine) as session:
        assert session.scalar(select(func.count()).select_from(UnitNotice)) == 3


def test_deadlines_follow_the_request_type_and_urgency(store: TicketStore,
                                                       casework: Casework) -> None:
    complaint = answered_call(store, request_type="投诉")
    critical = answered_call(store, request_type="求助", urgency="特急")
    for ticket_id in (complaint, critical):
        run(casework, ticket_id, AGENT, lambda c: dispatch(c, "water"))
    # 13 working days after Tuesday 2026-11-24 (no holiday in between): 11-25..27 (3),
    # 11-30..12-04 (8), 12-07..12-11 (13): the end of Friday 2026-12-11, i.e. 12-12 00:00
    # in Jinan = 2026-12-11 16:00 UTC.
    assert casework.view(complaint, SUPERVISOR, "t").due_at == datetime(2026, 12, 11, 16, 0,
                                                                         tzinfo=UTC)
    assert casework.view(critical, SUPERVISOR, "t").due_at == T0 + timedelta(hours=2)


def test_an_enterprise_ticket_runs_the_2110_clocks(store: TicketStore, casework: Casework,
                                                   clock: Clock) -> None:
    ticket_id = answered_call(store, dialled="96888")
    run(casework, ticket_id, AGENT, lambda c: dispatch(c, "water"))
    run(casework, ticket_id, WATER, accept)
    clock.now += timedelta(hours=1)
    run(casework, ticket_id, WATER, lambda c: progress(c, "已电话联系企业", contacted=True))
    # Past the one-day answer clock: the end of the next working day (Wednesday 11-25).
    clock.now += timedelta(hours=40)
    states = {c["name"]: c["state"] for c in casework.view(ticket_id, SUPERVISOR, "t").clocks_2110}
    assert states == {"contact": "met", "answer": "missed", "solve": "running"}
    run(casework, ticket_id, WATER, lambda c: reply(c, "已解决", True))
    states = {c["name"]: c["state"] for c in casework.view(ticket_id, SUPERVISOR, "t").clocks_2110}
    assert states == {"contact": "met", "answer": "met_late", "solve": "met"}
    plain = answered_call(store)
    run(casework, plain, AGENT, lambda c: dispatch(c, "water"))
    assert casework.view(plain, SUPERVISOR, "t").clocks_2110 == []


def test_the_agents_own_tickets_list(store: TicketStore, casework: Casework) -> None:
    mine = answered_call(store, seat="seat-001")
    answered_call(store, seat="seat-002")
    run(casework, mine, AGENT, lambda c: dispatch(c, "water"))
    rows = casework.agent_tickets(AGENT, 50, "test")
    assert [(r["ticket_id"], r["stage"]) for r in rows] == [(mine, "dispatched")]


def test_the_screen_pop_carries_the_whole_form(store: TicketStore, tmp_path: Path) -> None:
    from infra.settings import Settings
    from seats.screen_pop import ScreenPops
    from tickets.form import FORM_FIELDS, TicketForms

    ticket_id = answered_call(store, confidential=True)
    pop = ScreenPops(TicketForms(store), Settings(state_dir=tmp_path)).build(
        "answered", {"seat": "seat-001"}, ticket_id)
    assert set(pop["form"]) == set(FORM_FIELDS)
    assert pop["form"]["confidential"] is True and pop["form"]["address"] == "泉城路1号"
