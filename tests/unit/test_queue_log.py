"""The queue_log lines, in Asterisk's format, from known ACD events.

Each expected line is what Asterisk 22's app_queue.c writes for the same happening (its
ast_queue_log() calls); tests/stack/test_queue_log_parity.py checks it against a running
app_queue too.
"""

from __future__ import annotations

from pathlib import Path

from asterisk_conf.core import logger_conf
from supervision.queue_log import QueueLogFormatter, QueueLogWriter

T = 1_764_000_000_000
E = T // 1000


def ev(at_s: float, kind: str, **fields: str) -> dict[str, str]:
    return {"type": kind, "at": str(T + int(at_s * 1000)), **fields}


def agent(at_s: float, seat: str, before: str, after: str, reason: str = "",
          call: str = "") -> dict[str, str]:
    return ev(at_s, "agent", seat=seat, reason=reason, call=call,
              **{"from": before, "to": after})


def lines_of(events: list[dict[str, str]]) -> list[str]:
    fmt = QueueLogFormatter()
    return [text for e in events for text in fmt.lines(e)]


def test_answered_call_after_a_ring_no_answer() -> None:
    lines = lines_of([
        agent(0, "seat-001", "logged_out", "ready"),
        ev(1, "enqueued", call="1.1", skills="general", caller="13800000000"),
        ev(2, "offered", call="1.1", seat="seat-002"),
        agent(2, "seat-002", "ready", "offered", call="1.1"),
        ev(6, "requeued", call="1.1", seat="seat-002", reason="no_answer"),
        agent(6, "seat-002", "offered", "paused", "no_answer"),
        ev(7, "offered", call="1.1", seat="seat-001"),
        agent(7, "seat-001", "ready", "offered", call="1.1"),
        ev(9.5, "answered", call="1.1", seat="seat-001", seat_uniqueid="1.7"),
        agent(9.5, "seat-001", "offered", "on_call", call="1.1"),
        ev(69, "ended", call="1.1", seat="seat-001"),
    ])
    assert lines == [
        f"{E}|NONE|general|PJSIP/seat-001|ADDMEMBER|",
        f"{E + 1}|1.1|general|NONE|ENTERQUEUE||13800000000|1",
        f"{E + 6}|1.1|general|PJSIP/seat-002|RINGNOANSWER|4000",
        f"{E + 6}|NONE|NONE|PJSIP/seat-002|PAUSEALL|no_answer",
        f"{E + 6}|NONE|general|PJSIP/seat-002|PAUSE|no_answer",
        # holdtime 8 s, the agent channel's uniqueid, 2 s of ringing at seat-001
        f"{E + 9}|1.1|general|PJSIP/seat-001|CONNECT|8|1.7|2",
        f"{E + 69}|1.1|general|PJSIP/seat-001|COMPLETECALLER|8|60|1",
    ]


def test_an_agents_hang_up_is_completeagent() -> None:
    lines = lines_of([
        ev(0, "enqueued", call="2.1", caller="13800000001"),
        ev(1, "offered", call="2.1", seat="seat-001"),
        ev(2, "answered", call="2.1", seat="seat-001", seat_uniqueid="2.2"),
        ev(32, "ended", call="2.1", seat="seat-001", by="agent"),
        ev(40, "enqueued", call="3.1", caller="13800000002"),
        ev(41, "offered", call="3.1", seat="seat-001"),
        ev(42, "answered", call="3.1", seat="seat-001", seat_uniqueid="3.2"),
        ev(52, "ended", call="3.1", seat="seat-001", by="caller"),
    ])
    assert [line.split("|")[4] for line in lines if "COMPLETE" in line] == [
        "COMPLETEAGENT", "COMPLETECALLER"]
    assert f"{E + 32}|2.1|general|PJSIP/seat-001|COMPLETEAGENT|2|30|1" in lines


def test_abandoned_calls_in_the_queue_and_while_ringing() -> None:
    lines = lines_of([
        ev(0, "enqueued", call="2.1", skills="tax,general", caller="13800000001"),
        ev(1, "enqueued", call="2.2", skills="tax,general", caller=""),
        ev(2, "enqueued", call="2.3", skills="general"),
        ev(4, "left", call="2.2", **{"from": "waiting"}),
        ev(5, "offered", call="2.1", seat="seat-003"),
        ev(7.2, "left", call="2.1", seat="seat-003", **{"from": "offered"}),
    ])
    assert lines == [
        f"{E}|2.1|tax|NONE|ENTERQUEUE||13800000001|1",
        f"{E + 1}|2.2|tax|NONE|ENTERQUEUE|||2",
        f"{E + 2}|2.3|general|NONE|ENTERQUEUE|||1",
        # position 2 when it left (2.1 still ahead), originally 2, waited 3 s
        f"{E + 4}|2.2|tax|NONE|ABANDON|2|2|3",
        f"{E + 7}|2.1|tax|PJSIP/seat-003|RINGCANCELED|2200",
        f"{E + 7}|2.1|tax|NONE|ABANDON|1|1|7",
    ]


def test_a_higher_priority_call_goes_ahead() -> None:
    lines = lines_of([
        ev(0, "enqueued", call="3.1", skills="general"),
        ev(1, "enqueued", call="3.2", skills="general", priority="20"),
    ])
    assert lines[1] == f"{E + 1}|3.2|general|NONE|ENTERQUEUE|||1"


def test_a_transfer_leg_is_logged_under_the_callers_own_uniqueid() -> None:
    lines = lines_of([ev(0, "enqueued", call="4.1-expert-water", skills="expert_water")])
    assert lines == [f"{E}|4.1|expert_water|NONE|ENTERQUEUE|||1"]


def codes(target: str) -> str:
    return {"expert:water": "796166", "agent:seat-007": "8007"}.get(target, "")


def test_a_blind_transfer_names_the_code_its_next_leg_was_queued_for() -> None:
    fmt = QueueLogFormatter(transfer_code=codes)
    events = [
        ev(0, "enqueued", call="6.1", caller="13800000003"),
        ev(1, "offered", call="6.1", seat="seat-001"),
        ev(3, "answered", call="6.1", seat="seat-001", seat_uniqueid="6.2"),
        ev(33, "ended", call="6.1", seat="seat-001", by="blind_transfer"),
        ev(33.2, "enqueued", call="6.1-expert-water", skills="expert_water",
           caller="13800000003"),
    ]
    lines = [text for e in events for text in fmt.lines(e)]
    # app_queue: exten|context|holdtime|calltime|origposition, at the transfer's time;
    # the caller is then queued again under its own uniqueid.
    assert lines[-2:] == [
        f"{E + 33}|6.1|general|PJSIP/seat-001|BLINDTRANSFER|796166|from-seat|3|30|1",
        f"{E + 33}|6.1|expert_water|NONE|ENTERQUEUE||13800000003|1",
    ]
    assert not fmt.transfers


def test_a_blind_transfer_whose_caller_never_queued_again_is_written_without_its_code(
) -> None:
    lines = lines_of([
        ev(0, "enqueued", call="7.1"),
        ev(1, "offered", call="7.1", seat="seat-001"),
        ev(2, "answered", call="7.1", seat="seat-001", seat_uniqueid="7.2"),
        ev(12, "ended", call="7.1", seat="seat-001", by="blind_transfer"),
        ev(20, "enqueued", call="8.1"),  # another call: the transfer is not yet stale
        ev(23, "enqueued", call="9.1"),
    ])
    assert [line.split("|")[4] for line in lines] == [
        "ENTERQUEUE", "CONNECT", "ENTERQUEUE", "BLINDTRANSFER", "ENTERQUEUE"]
    assert lines[3] == f"{E + 12}|7.1|general|PJSIP/seat-001|BLINDTRANSFER||from-seat|2|10|1"


def test_an_attended_transfer_is_logged_as_app_queue_logs_a_bridge_merge() -> None:
    lines = lines_of([
        ev(0, "enqueued", call="10.1"),
        ev(1, "offered", call="10.1", seat="seat-001"),
        ev(2, "answered", call="10.1", seat="seat-001", seat_uniqueid="10.2"),
        ev(40, "ended", call="10.1", seat="seat-001", by="attended_transfer"),
    ])
    # BRIDGE|<the merged bridge's uniqueid, which the ACD never sees>|hold|call|position
    assert lines[-1] == f"{E + 40}|10.1|general|PJSIP/seat-001|ATTENDEDTRANSFER|BRIDGE||2|38|1"


def test_members_log_in_pause_across_their_queues_and_log_out() -> None:
    lines = lines_of([
        ev(0, "login", seat="seat-004", skills="general:1,tax:5"),
        agent(0, "seat-004", "logged_out", "ready"),
        agent(1, "seat-004", "ready", "paused", "lunch"),
        agent(2, "seat-004", "paused", "paused", "meeting"),
        agent(3, "seat-004", "paused", "ready"),
        ev(4, "login", seat="seat-004", skills="tax:1,water:2"),
        agent(4, "seat-004", "ready", "ready"),
        agent(5, "seat-004", "ready", "logged_out"),
        agent(6, "seat-005", "logged_out", "paused", "training"),
    ])
    assert lines == [
        f"{E}|NONE|general|PJSIP/seat-004|ADDMEMBER|",
        f"{E}|NONE|tax|PJSIP/seat-004|ADDMEMBER|",
        f"{E + 1}|NONE|NONE|PJSIP/seat-004|PAUSEALL|lunch",
        f"{E + 1}|NONE|general|PJSIP/seat-004|PAUSE|lunch",
        f"{E + 1}|NONE|tax|PJSIP/seat-004|PAUSE|lunch",
        f"{E + 2}|NONE|NONE|PJSIP/seat-004|PAUSEALL|meeting",
        f"{E + 2}|NONE|general|PJSIP/seat-004|PAUSE|meeting",
        f"{E + 2}|NONE|tax|PJSIP/seat-004|PAUSE|meeting",
        f"{E + 3}|NONE|NONE|PJSIP/seat-004|UNPAUSEALL|",
        f"{E + 3}|NONE|general|PJSIP/seat-004|UNPAUSE|",
        f"{E + 3}|NONE|tax|PJSIP/seat-004|UNPAUSE|",
        f"{E + 4}|NONE|general|PJSIP/seat-004|REMOVEMEMBER|",
        f"{E + 4}|NONE|water|PJSIP/seat-004|ADDMEMBER|",
        f"{E + 5}|NONE|tax|PJSIP/seat-004|REMOVEMEMBER|",
        f"{E + 5}|NONE|water|PJSIP/seat-004|REMOVEMEMBER|",
        # A seat that readies without a login has the ACD's default skills.
        f"{E + 6}|NONE|general|PJSIP/seat-005|ADDMEMBER|PAUSED",
    ]


def test_a_seat_coming_in_joins_the_queues_its_event_names_not_an_older_logins() -> None:
    # The ACD's record was reset after the login (a flushed Redis): the seat readies with
    # the default skills, and the agent event says so.
    lines = lines_of([
        ev(0, "login", seat="seat-003", skills="urban_management:1,general:1"),
        agent(0, "seat-003", "logged_out", "ready"),
        agent(1, "seat-003", "ready", "logged_out"),
        {**agent(2, "seat-003", "logged_out", "ready"), "skills": "general:1"},
        agent(3, "seat-003", "ready", "logged_out"),
    ])
    assert lines[-2:] == [
        f"{E + 2}|NONE|general|PJSIP/seat-003|ADDMEMBER|",
        f"{E + 3}|NONE|general|PJSIP/seat-003|REMOVEMEMBER|",
    ]


def test_a_seat_logged_in_on_an_earlier_day_leaves_its_own_queues() -> None:
    fmt = QueueLogFormatter()
    fmt.seed("seat-006", "paused", "tax:1")
    assert fmt.lines(agent(0, "seat-006", "paused", "logged_out")) == [
        f"{E}|NONE|tax|PJSIP/seat-006|REMOVEMEMBER|"]


def test_every_line_has_the_field_count_app_queue_writes() -> None:
    # epoch, callid, queue, agent, event, then app_queue's data fields for that event.
    data_fields = {"ENTERQUEUE": 3, "RINGNOANSWER": 1, "RINGCANCELED": 1, "CONNECT": 3,
                   "COMPLETECALLER": 3, "ABANDON": 3, "ADDMEMBER": 1, "REMOVEMEMBER": 1,
                   "BLINDTRANSFER": 5, "ATTENDEDTRANSFER": 5,
                   "PAUSE": 1, "UNPAUSE": 1, "PAUSEALL": 1, "UNPAUSEALL": 1}
    lines = lines_of([
        agent(0, "seat-001", "logged_out", "ready"),
        ev(1, "enqueued", call="5.1", caller="1"),
        ev(1, "offered", call="5.1", seat="seat-001"),
        ev(2, "requeued", call="5.1", seat="seat-001"),
        agent(2, "seat-001", "offered", "paused", "no_answer"),
        agent(3, "seat-001", "paused", "ready"),
        ev(3, "offered", call="5.1", seat="seat-001"),
        ev(4, "answered", call="5.1", seat="seat-001", seat_uniqueid="5.2"),
        ev(5, "ended", call="5.1", seat="seat-001"),
        ev(6, "enqueued", call="5.3"),
        ev(6, "offered", call="5.3", seat="seat-001"),
        ev(7, "left", call="5.3", **{"from": "offered"}),
        agent(8, "seat-001", "ready", "logged_out"),
        ev(9, "enqueued", call="5.4"),
        ev(9, "offered", call="5.4", seat="seat-002"),
        ev(10, "answered", call="5.4", seat="seat-002", seat_uniqueid="5.5"),
        ev(11, "ended", call="5.4", seat="seat-002", by="blind_transfer"),
        ev(11, "enqueued", call="5.4-agent-seat-007", skills="agent_seat-007"),
        ev(12, "offered", call="5.4-agent-seat-007", seat="seat-007"),
        ev(13, "answered", call="5.4-agent-seat-007", seat="seat-007", seat_uniqueid="5.6"),
        ev(14, "ended", call="5.4-agent-seat-007", seat="seat-007", by="attended_transfer"),
    ])
    seen = set()
    for text in lines:
        fields = text.split("|")
        seen.add(fields[4])
        assert len(fields) == 5 + data_fields[fields[4]], text
    assert seen == set(data_fields)


def test_writer_appends(tmp_path: Path) -> None:
    writer = QueueLogWriter(tmp_path / "log" / "queue_log")
    writer.write([ev(0, "login", seat="seat-009", skills="general:1"),
                  agent(0, "seat-009", "logged_out", "ready")])
    writer.write([ev(1, "unknown")])
    writer.write([agent(2, "seat-009", "ready", "logged_out")])
    assert (tmp_path / "log" / "queue_log").read_text().splitlines() == [
        f"{E}|NONE|general|PJSIP/seat-009|ADDMEMBER|",
        f"{E + 2}|NONE|general|PJSIP/seat-009|REMOVEMEMBER|"]


def test_asterisk_writes_no_queue_log_of_its_own_beside_ours() -> None:
    general = logger_conf(False).split("[logfiles]")[0]
    assert "queue_log = no" in general


def test_the_app_queue_baseline_keeps_asterisks_queue_log_under_its_own_name() -> None:
    general = logger_conf(False, app_queue=True).split("[logfiles]")[0]
    assert "queue_log = yes" in general
    assert "queue_log_name = app_queue_log" in general
