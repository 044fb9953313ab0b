"""The queue_log lines, in Asterisk's format, from known ACD events."""

from __future__ import annotations

from pathlib import Path

from supervision.queue_log import QueueLogFormatter, QueueLogWriter

T = 1_764_000_000_000


def ev(at_s: float, kind: str, **fields: str) -> dict[str, str]:
    return {"type": kind, "at": str(T + int(at_s * 1000)), **fields}


def test_answered_call_gives_enterqueue_ringnoanswer_connect_complete() -> None:
    fmt = QueueLogFormatter()
    events = [
        ev(0, "agent", seat="seat-001", **{"from": "logged_out", "to": "ready"}),
        ev(1, "enqueued", call="1.1", skills="general", caller="13800000000"),
        ev(2, "offered", call="1.1", seat="seat-002"),
        ev(6, "requeued", call="1.1", seat="seat-002", reason="no_answer"),
        ev(6, "agent", seat="seat-002", **{"from": "offered", "to": "paused",
                                           "reason": "no_answer"}),
        ev(7, "offered", call="1.1", seat="seat-001"),
        ev(9, "answered", call="1.1", seat="seat-001"),
        ev(69, "ended", call="1.1", seat="seat-001"),
        ev(70, "enqueued", call="2.2", skills="tax,general"),
        ev(73, "left", call="2.2", **{"from": "waiting"}),
    ]
    lines = [text for e in events for text in fmt.lines(e)]
    e = T // 1000
    assert lines == [
        f"{e}|NONE|NONE|PJSIP/seat-001|ADDMEMBER|",
        f"{e + 1}|1.1|general|NONE|ENTERQUEUE||13800000000|1",
        f"{e + 6}|1.1|general|PJSIP/seat-002|RINGNOANSWER|4000",
        f"{e + 6}|NONE|NONE|PJSIP/seat-002|PAUSE|no_answer",
        f"{e + 9}|1.1|general|PJSIP/seat-001|CONNECT|8|1.1|2",
        f"{e + 69}|1.1|general|PJSIP/seat-001|COMPLETECALLER|8|60|1",
        f"{e + 70}|2.2|tax|NONE|ENTERQUEUE|||1",
        f"{e + 73}|2.2|tax|NONE|ABANDON|1|1|3",
    ]


def test_writer_appends(tmp_path: Path) -> None:
    writer = QueueLogWriter(tmp_path / "log" / "queue_log")
    writer.write([ev(0, "agent", seat="seat-009", **{"from": "ready", "to": "logged_out"})])
    writer.write([ev(1, "unknown")])
    assert (tmp_path / "log" / "queue_log").read_text().splitlines() == [
        f"{T // 1000}|NONE|NONE|PJSIP/seat-009|REMOVEMEMBER|"]
