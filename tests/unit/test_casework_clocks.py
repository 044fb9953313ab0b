"""The urging and escalation clocks on a real SQLite file and a real PostgreSQL: once per
round, in two processes at once, and after a sweeper killed mid-run."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.actions.accept import accept
from casework.actions.callback import callback
from casework.actions.dispatch import dispatch
from casework.actions.reply import reply
from casework.clocks import CaseClocks
from casework.models import Supervision, UnitNotice, WorkflowEvent
from casework.service import Casework
from casework.workflow import Rules
from deadlines.rules import DeadlineRules
from deadlines.workdays import WorkCalendar
from tests.unit.test_casework_workflow import (
    AGENT,
    DIRECTORY,
    DISPATCHER,
    T0,
    WATER,
    Clock,
    answered_call,
)
from tickets.store import TicketStore

__all__ = ["casework", "clock"]
from tests.unit.test_casework_workflow import casework, clock  # noqa: E402  (fixtures)

# A complaint dispatched at T0 (Tuesday 2026-11-24 10:00 Jinan) is due at the end of
# Friday 12-11 and urged at the end of Thursday 12-10.
DUE_SOON = datetime.fromisoformat("2026-12-11T08:00:00+00:00")
OVERDUE = datetime.fromisoformat("2026-12-12T08:00:00+00:00")


def rules() -> Rules:
    return Rules(DIRECTORY, DeadlineRules.default(), WorkCalendar())


def dispatched(store: TicketStore, casework: Casework, n: int, co_unit: bool = False) -> list[str]:
    ids = [answered_call(store) for _ in range(n)]
    for ticket_id in ids:
        casework.workflow.run(ticket_id, AGENT,
                              lambda c: dispatch(c, "water", ["lixia"] if co_unit else []))
    return ids


def counts(casework: Casework) -> tuple[Counter[tuple[Any, ...]], int, int]:
    with Session(casework.engine) as session:
        notices = Counter(tuple(row) for row in session.execute(
            select(UnitNotice.ticket_pk, UnitNotice.unit_code, UnitNotice.kind,
                   UnitNotice.round)).all())
        supervisions = session.scalar(select(func.count()).select_from(Supervision)
                                      .where(Supervision.reason == "overdue"))
        urges = session.scalar(select(func.count()).select_from(WorkflowEvent)
                               .where(WorkflowEvent.action == "urge"))
    return notices, int(supervisions or 0), int(urges or 0)


def test_a_ticket_is_urged_once_then_escalated_once(store: TicketStore, casework: Casework,
                                                     clock: Clock) -> None:
    (ticket_id,) = dispatched(store, casework, 1, co_unit=True)
    clocks = CaseClocks(casework.workflow)
    assert clocks.sweep(T0 + timedelta(days=1)).urged == 0  # not yet near
    assert clocks.sweep(DUE_SOON).urged == 1
    assert clocks.sweep(DUE_SOON).urged == 0
    clock.now = DUE_SOON
    inbox = casework.inbox(WATER, "due_soon", 50, None, "t")
    assert [row["ticket_id"] for row in inbox["tickets"]] == [ticket_id]
    assert "urged" in {n["kind"] for n in inbox["notices"]}
    done = clocks.sweep(OVERDUE)
    assert (done.urged, done.escalated) == (0, 1)
    assert clocks.sweep(OVERDUE).escalated == 0
    clock.now = OVERDUE
    view = casework.view(ticket_id, WATER, "t")
    assert view.supervised and view.overdue
    assert casework.clock_list(DISPATCHER, "supervised", 50, "t")[0]["ticket_id"] == ticket_id
    notices, supervisions, urges = counts(casework)
    assert supervisions == 1 and urges == 1
    # Each unit holding it was urged once and told of the 督办 once.
    assert sorted(k[1:] for k in notices) == sorted([
        ("water", "dispatched", 0), ("lixia", "dispatched", 0), ("water", "urged", 0),
        ("lixia", "urged", 0), ("water", "supervised", 0), ("lixia", "supervised", 0)])


def test_a_replied_ticket_is_not_urged_and_a_reopened_one_gets_new_clocks(
        store: TicketStore, casework: Casework, clock: Clock) -> None:
    replied, reopened = dispatched(store, casework, 2)
    for ticket_id in (replied, reopened):
        casework.act(ticket_id, WATER, accept)
        casework.act(ticket_id, WATER, lambda c: reply(c, "已办结", True))
    clock.now = T0 + timedelta(days=3)
    casework.act(reopened, DISPATCHER, lambda c: callback(c, solved=False, satisfied=False))
    clocks = CaseClocks(casework.workflow)
    assert clocks.sweep(OVERDUE).escalated == 0  # the reopened one is due later now
    late = clock.now + timedelta(days=30)
    done = clocks.sweep(late)
    assert done.escalated == 1
    notices, supervisions, _ = counts(casework)
    assert supervisions == 1
    assert {k[2:] for k in notices if k[1] == "water"} >= {("reopened", 1), ("supervised", 1)}


def _sweep_in_a_process(url: str, now: str) -> None:
    service = Casework(url, rules())
    CaseClocks(service.workflow, batch=1000).sweep(datetime.fromisoformat(now))
    service.dispose()


def _sweep_slowly(url: str, now: str) -> None:
    """Sweeps, pausing in each ticket's transaction, so that a kill lands mid-run."""
    import casework.actions.urge as urge_module

    original = urge_module.urge

    def slow(case):  # type: ignore[no-untyped-def]
        time.sleep(0.1)
        return original(case)

    import casework.clocks as clocks_module
    clocks_module.urge = slow  # type: ignore[assignment]
    _sweep_in_a_process(url, now)


def test_two_sweepers_at_once_send_each_notice_once(store: TicketStore,
                                                    casework: Casework) -> None:
    soon = dispatched(store, casework, 10, co_unit=True)
    forked = multiprocessing.get_context("fork")
    sweepers = [forked.Process(target=_sweep_in_a_process, args=(store.database_url,
                                                                DUE_SOON.isoformat()))
                for _ in range(2)]
    for process in sweepers:
        process.start()
    for process in sweepers:
        process.join(60)
        assert process.exitcode == 0
    notices, _, urges = counts(casework)
    assert urges == len(soon)
    urged = [k for k in notices if k[2] == "urged"]
    assert len(urged) == 2 * len(soon) and set(notices.values()) == {1}
    # And the escalation, by two processes at once.
    sweepers = [forked.Process(target=_sweep_in_a_process, args=(store.database_url,
                                                                OVERDUE.isoformat()))
                for _ in range(2)]
    for process in sweepers:
        process.start()
    for process in sweepers:
        process.join(60)
        assert process.exitcode == 0
    notices, supervisions, _ = counts(casework)
    assert supervisions == len(soon)
    assert len([k for k in notices if k[2] == "supervised"]) == 2 * len(soon)


def test_a_sweeper_killed_mid_run_leaves_nothing_missed_or_doubled(
        store: TicketStore, casework: Casework) -> None:
    soon = dispatched(store, casework, 20)
    process = multiprocessing.get_context("fork").Process(
        target=_sweep_slowly, args=(store.database_url, DUE_SOON.isoformat()))
    process.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, _, urges = counts(casework)
        if urges >= 3:
            break
        time.sleep(0.02)
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    process.join(10)
    _, _, urged_before_kill = counts(casework)
    assert 3 <= urged_before_kill < len(soon)
    # The restarted clock does the rest, and only the rest.
    done = CaseClocks(casework.workflow).sweep(DUE_SOON)
    assert done.urged == len(soon) - urged_before_kill
    notices, _, urges = counts(casework)
    assert urges == len(soon)
    assert len([k for k in notices if k[2] == "urged"]) == len(soon)
    assert set(notices.values()) == {1}
