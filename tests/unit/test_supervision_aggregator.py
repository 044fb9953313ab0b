"""The statistics' pure core: known events in, exact figures out."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from supervision.aggregator import Aggregator
from supervision.definitions import Rules

T0 = int(datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp() * 1000)
S = 1000


class Feed:
    def __init__(self) -> None:
        self.agg = Aggregator(Rules(service_level_s=15, short_abandon_s=5))
        self.seq = 0

    def __call__(self, at_s: float, kind: str, **fields: str) -> None:
        self.seq += 1
        at = T0 + int(at_s * S)
        self.agg.apply(f"{at}-{self.seq}", {"type": kind, "at": str(at), **fields})

    def agent(self, at_s: float, seat: str, to: str, reason: str = "", call: str = "") -> None:
        self(at_s, "agent", seat=seat, to=to, reason=reason, call=call)

    def answered_call(self, call: str, seat: str, enq: float, ans: float, end: float,
                      skills: str = "general") -> None:
        self(enq, "enqueued", call=call, skills=skills, ticket=f"t-{call}")
        self(ans - 0.5, "offered", call=call, seat=seat, ticket=f"t-{call}")
        self(ans, "answered", call=call, seat=seat)
        self(end, "ended", call=call, seat=seat)


def test_answered_abandoned_and_short_abandoned_calls_give_exact_figures() -> None:
    feed = Feed()
    feed(0, "login", seat="seat-001", skills="general:1")
    feed.agent(0, "seat-001", "ready")
    feed.answered_call("c1", "seat-001", enq=1, ans=4, end=64)  # wait 3 s, talk 60 s
    feed.answered_call("c2", "seat-001", enq=70, ans=90, end=110)  # wait 20 s, talk 20 s
    feed(100, "enqueued", call="c3", skills="general")
    feed(102, "left", call="c3", **{"from": "waiting"})  # 2 s: short abandon
    feed(120, "enqueued", call="c4", skills="general")
    feed(130, "left", call="c4", **{"from": "waiting"})  # 10 s: abandoned within SL
    feed(140, "enqueued", call="c5", skills="general")
    feed(170, "left", call="c5", **{"from": "offered"})  # 30 s, while ringing: abandoned
    feed(200, "enqueued", call="c6", skills="general")  # still waiting
    snap = feed.agg.snapshot(T0 + 212 * S)
    (general,) = snap["queues"]
    assert general["queue"] == "general"
    assert {k: general[k] for k in (
        "offered", "answered", "answered_within_sl", "abandoned", "short_abandoned",
        "waiting", "longest_wait_s")} == {
        "offered": 6, "answered": 2, "answered_within_sl": 1, "abandoned": 2,
        "short_abandoned": 1, "waiting": 1, "longest_wait_s": 12.0}
    assert general["connection_rate_pct"] == 50.0  # 2 / (2 + 2)
    assert general["sl_pct"] == 25.0  # 1 / 4
    assert general["sl2_pct"] == 50.0  # (1 + 1) / 4
    assert general["timely_answer_pct"] == 50.0  # 1 / 2
    assert general["asa_s"] == 11.5  # (3 + 20) / 2
    assert general["aht_s"] == 40.0  # (60 + 20) / 2
    assert general["agents"] == {"ready": 1}
    (agent,) = snap["agents"]
    assert (agent["seat"], agent["calls_today"], agent["aht_s"]) == ("seat-001", 2, 40.0)
    assert snap["total"]["offered"] == 6


def test_queue_is_the_first_skill_and_agents_count_in_their_skills_queues() -> None:
    feed = Feed()
    feed(0, "login", seat="seat-002", skills="general:1,tax:5")
    feed.agent(0, "seat-002", "ready")
    feed.agent(5, "seat-002", "paused", reason="meal")
    feed.answered_call("c1", "seat-002", enq=10, ans=12, end=20, skills="tax,general")
    snap = feed.agg.snapshot(T0 + 30 * S)
    by_name = {q["queue"]: q for q in snap["queues"]}
    assert by_name["tax"]["answered"] == 1 and by_name["general"]["offered"] == 0
    assert by_name["tax"]["agents"] == by_name["general"]["agents"] == {"paused": 1}
    (agent,) = snap["agents"]
    assert (agent["state"], agent["reason"], agent["in_state_s"]) == ("paused", "meal", 25.0)


def test_rates_are_null_without_calls_and_logged_out_agents_are_hidden() -> None:
    feed = Feed()
    feed.agent(0, "seat-003", "ready")  # no login event: the ACD's default skills
    feed.agent(1, "seat-004", "ready")
    feed.agent(2, "seat-004", "logged_out")
    snap = feed.agg.snapshot(T0 + 3 * S)
    (general,) = snap["queues"]
    assert general["connection_rate_pct"] is None and general["asa_s"] is None
    assert [a["seat"] for a in snap["agents"]] == ["seat-003"]


def test_intervals_and_day_roll_count_calls_where_they_entered() -> None:
    feed = Feed()
    feed.answered_call("c1", "seat-001", enq=10, ans=12, end=20)  # 10:00 interval
    feed.answered_call("c2", "seat-001", enq=16 * 60, ans=16 * 60 + 30, end=17 * 60)  # 10:15
    rows = feed.agg.intervals()
    assert [(r["interval"], r["offered"], r["answered_within_sl"]) for r in rows] == [
        ("10:00", 1, 1), ("10:15", 1, 0)]
    report = feed.agg.daily_report()
    assert report[-1]["queue"] == "合计 total" and report[-1]["answered"] == 2
    # A call entered before midnight and answered after it counts on neither new day.
    late = 14 * 3600 - 10  # 23:59:50 local
    feed(late, "enqueued", call="c3", skills="general")
    feed(late + 20, "answered", call="c3", seat="seat-001")
    snap = feed.agg.snapshot(T0 + (late + 21) * S)
    assert snap["day"] == "2026-11-25"
    assert snap["total"]["offered"] == 0 and snap["total"]["answered"] == 0
    assert feed.agg.intervals() == []


def test_requeue_after_no_answer_keeps_one_call() -> None:
    feed = Feed()
    feed(0, "enqueued", call="c1", skills="general")
    feed(1, "offered", call="c1", seat="seat-001")
    feed(5, "requeued", call="c1", seat="seat-001", reason="no_answer")
    feed(6, "offered", call="c1", seat="seat-002")
    feed(7, "answered", call="c1", seat="seat-002")
    feed(9, "ended", call="c1", seat="seat-002")
    (general,) = feed.agg.snapshot(T0 + 10 * S)["queues"]
    assert (general["offered"], general["answered"], general["asa_s"]) == (1, 1, 7.0)


def test_a_ready_agent_without_a_registered_softphone_is_not_counted_ready() -> None:
    feed = Feed()
    feed.agent(0, "seat-001", "ready")  # no registration event yet: the ACD offers it
    feed.agent(0, "seat-002", "ready")
    feed(1, "registration", seat="seat-002", registered="0")
    feed.agent(2, "seat-003", "ready")
    feed(2, "registration", seat="seat-003", registered="1")
    feed.agent(3, "seat-004", "paused", reason="meal")
    feed(3, "registration", seat="seat-004", registered="0")  # paused: counted as paused
    (general,) = feed.agg.snapshot(T0 + 4 * S)["queues"]
    assert general["agents"] == {"ready": 2, "unregistered": 1, "paused": 1}
    by_seat = {a["seat"]: a for a in feed.agg.snapshot(T0 + 4 * S)["agents"]}
    assert [by_seat[s]["registered"] for s in ("seat-001", "seat-002", "seat-003")] == [
        None, False, True]
    # The softphone registers again: the agent counts as ready at once.
    feed(5, "registration", seat="seat-002", registered="1")
    (general,) = feed.agg.snapshot(T0 + 6 * S)["queues"]
    assert general["agents"] == {"ready": 3, "paused": 1}


def test_the_service_level_from_the_pbx_answer_counts_the_wait_before_the_queue() -> None:
    """A transfer or a fallback call enters the queue later than its answer: answered 12 s
    after entering but 18 s after the PBX's answer, it is within the SL from the queue and
    outside it from the answer. An event without the answer's time counts from the queue."""
    feed = Feed()
    feed(0, "login", seat="seat-001", skills="general:1")
    feed.agent(0, "seat-001", "ready")
    feed(6, "enqueued", call="c1", skills="general", pbx_answered=str(T0))
    feed(18, "answered", call="c1", seat="seat-001")
    feed(20, "enqueued", call="c2", skills="general")
    feed(30, "answered", call="c2", seat="seat-001")
    (general,) = feed.agg.snapshot(T0 + 40 * S)["queues"]
    assert general["sl_pct"] == 100.0
    assert general["sl_from_answer_pct"] == 50.0
