"""Synthetic casework data at Jinan's scale: tickets and their handling, loaded with COPY.

    .venv/bin/python -m bench.casework_data --database-url postgresql://... \\
        --tickets 10000000 [--seed 1] [--years 3] [--end 2026-12-02T02:00:00Z] \\
        [--units-file units.csv] [--taxonomy-file taxonomy.csv] [--workers N]

Migrates the database to head, then fills ``tickets``, ``case_assignments``,
``workflow_events``, ``unit_notices`` and ``supervisions`` (it must be empty: a fresh
database). Deterministic for a given seed, size and end moment; the end moment (the
data's "now") is kept in the bench's own table ``bench_casework_meta``, which
``bench.casework_scale`` and later benchmarks read.

How it is fast:
- every row goes in with ``COPY ... FROM STDIN`` (text format), a chunk of about 100,000
  tickets (and their assignments, events, notices) at a time, never row by row;
- the chunks are generated and copied by ``--workers`` processes in parallel, each with
  its own connection and whole days of its own: ids are fixed in advance (tickets by the
  day's running count, the other tables in a block per day), so no process waits for
  another and the ids still run in time order;
- every index, unique key and foreign key of those tables (and the foreign keys onto
  ``tickets``) is dropped before the load and built again after it, exactly as the
  migration defined it (``pg_get_indexdef``/``pg_get_constraintdef``), then ANALYZE;
- sessions load with ``synchronous_commit=off`` and ``maintenance_work_mem`` raised.

What the data looks like (the skew):
- three years (``--years``) ending at ``--end``: about 60 % more calls a day at the end
  than at the start, a summer bump, working days against weekends and public holidays
  (China's official calendar, deadlines/workdays.py), and a daytime peak (9–11 h and
  14–17 h, local time);
- callers: 1 % of calls from 300 very frequent numbers (Zipf: the top one calls several
  thousand times), 35 % from a pool of repeat callers, the rest from a large pool
  (mostly one or two calls), 1 % withheld (``anonymous``);
- categories Zipf-distributed over the taxonomy (``tickets.taxonomy.load_taxonomy``),
  so a few departments get most tickets (the dispatch directory's unit codes); locations
  skewed over the districts of the units directory;
- 5 % of calls abandoned (they stay ``intake``); of the answered, about 70 % 直办
  (``direct``, later ``archived``) and 30 % 转办. A dispatched ticket goes to the
  category's department, or to the district of its location (which passes it down to a
  street, sometimes on to a community); some have a co-unit (协办), some are sent back
  and dispatched again, some replied late (催办 and 督办 by the clock), some reopened
  (重办) at the callback. Deadlines are the product's own (deadlines/rules.py, default
  rules, the official calendar). Tickets still being handled at the end moment are left
  where they stand: dispatched, in progress, replied; some overdue, some due soon.

Prints progress to stderr, and a JSON summary (rows per table, seconds per phase, rows
per second) to stdout.
"""

from __future__ import annotations

import argparse
import bisect
import io
import json
import math
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg2
from sqlalchemy.engine import make_url

from deadlines.rules import DeadlineRules
from deadlines.workdays import WorkCalendar
from tickets.taxonomy import DEFAULT_FILE as DEFAULT_TAXONOMY
from tickets.taxonomy import load_taxonomy
from units.directory import DEFAULT_FILE as DEFAULT_UNITS
from units.directory import load_directory
from units.dispatch import read_dispatch_items

TABLES = ("tickets", "case_assignments", "workflow_events", "unit_notices", "supervisions")
CHUNK_TICKETS = 100_000
LOCAL_OFFSET = 8 * 3600  # Asia/Shanghai, no summer time since 1991
DAY = 86_400
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
INT4_MAX = 2**31 - 1
# At most this many rows of each table per ticket (the paths below stay within them):
# the id block of a day is its largest possible size.
PER_TICKET = {"case_assignments": 6, "workflow_events": 28, "unit_notices": 20,
              "supervisions": 3}
META_TABLE = "bench_casework_meta"

# Local-time hour weights (a 12345 line's day: quiet nights, peaks mid-morning and
# mid-afternoon) and the shares of the form's fields.
HOURS = (0.2, 0.12, 0.08, 0.06, 0.06, 0.1, 0.3, 0.8, 1.6, 2.2, 2.3, 2.0,
         1.4, 1.3, 1.9, 2.1, 2.0, 1.7, 1.2, 1.0, 0.9, 0.8, 0.6, 0.35)
REQUEST_TYPES = (("咨询", 45), ("求助", 20), ("投诉", 20), ("建议", 8), ("举报", 7))
URGENCIES = (("一般", 93), ("紧急", 6), ("特急", 1))
ABANDONED = 0.05
DIRECT = 0.70
SEATS = 500
DISTRICT_WEIGHTS = {"370102": 14, "370103": 12, "370104": 9, "370105": 10, "370112": 16,
                    "370113": 6, "370114": 5, "370115": 4, "370116": 5, "370117": 3,
                    "370124": 3, "370126": 3}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
PHRASES = ("多次反映未得到解决", "希望相关部门尽快处理", "诉求人要求尽快答复", "影响正常生活",
           "存在安全隐患", "夜间噪音较大", "周边居民意见较大", "已持续一周以上", "请核实情况",
           "诉求人情绪激动", "涉及老人和儿童", "要求给予合理解释", "此前已拨打过热线",
           "希望加强监管", "已向社区反映过", "要求书面回复", "上下班高峰时段尤为严重",
           "物业未予处理", "商家拒绝退款", "涉及金额约数千元")
RESULTS = ("已联系诉求人，现场核实后已处理完毕", "已责成相关单位整改，诉求人表示认可",
           "经核实情况属实，已按规定处理", "已向诉求人解释相关政策", "已协调解决，后续持续跟进")


@dataclass(frozen=True)
class Plan:
    tickets: int
    seed: int
    years: int
    end: int  # epoch seconds (UTC): the data's "now"
    units_file: str
    taxonomy_file: str

    @property
    def end_iso(self) -> str:
        return datetime.fromtimestamp(self.end, UTC).isoformat()


def log(message: str) -> None:
    print(f"[casework_data {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- how many tickets each day ------------------------------------------------------------------


def local_day_number(ts: int) -> int:
    return (ts + LOCAL_OFFSET) // DAY


def day_of(number: int) -> date:
    return date.fromordinal(EPOCH_ORDINAL + number)


def day_counts(plan: Plan, calendar: WorkCalendar) -> list[tuple[int, int]]:
    """(local day number, tickets that day), oldest first, adding up to plan.tickets."""
    last = local_day_number(plan.end)
    first = last - plan.years * 365 + 1
    hour_total = sum(HOURS)
    end_local = plan.end + LOCAL_OFFSET
    weights = []
    for n in range(first, last + 1):
        d = day_of(n)
        growth = 1.0 + 0.6 * (n - first) / max(1, last - first)
        summer = 1.0 + 0.15 * math.exp(-(((d.timetuple().tm_yday - 200) / 30.0) ** 2))
        weight = growth * summer * (1.0 if calendar.is_workday(d) else 0.65)
        if n == last:  # only the hours already past on the last day
            seconds = end_local - n * DAY
            done = sum(HOURS[h] for h in range(seconds // 3600))
            done += HOURS[min(23, seconds // 3600)] * (seconds % 3600) / 3600
            weight *= done / hour_total
        weights.append(weight)
    total = sum(weights)
    exact = [plan.tickets * w / total for w in weights]
    counts = [int(x) for x in exact]
    short = plan.tickets - sum(counts)
    for i in sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])[:short]:
        counts[i] += 1
    return list(zip(range(first, last + 1), counts, strict=True))


# --- deadlines (the product's rules, cached by local day) ---------------------------------------


class Deadlines:
    """due_at / warn_at / accept_due_at as the dispatch action computes them, in epoch
    seconds; the working-day arithmetic is cached per local day."""

    def __init__(self, rules: DeadlineRules, calendar: WorkCalendar) -> None:
        self.rules, self.calendar = rules, calendar
        self._handling: dict[tuple[int, str, str], tuple[str, int, int]] = {}
        self._accept: dict[tuple[int, str], tuple[str, int]] = {}

    def handling(self, t: int, request_type: str, urgency: str) -> tuple[int, int]:
        key = (local_day_number(t), request_type, urgency)
        cached = self._handling.get(key)
        if cached is None:
            start = datetime.fromtimestamp(t, UTC)
            limit = self.rules.handling_limit(start, request_type, urgency, self.calendar)
            if limit.kind == "hours":
                cached = ("hours", int(limit.duration.total_seconds()), 0)
            else:
                due_at = limit.due_from(start, self.calendar)
                warn_at = self.rules.warn_at(start, due_at, limit, self.calendar)
                cached = ("day", int(due_at.timestamp()), int(warn_at.timestamp()))
            self._handling[key] = cached
        kind, a, b = cached
        if kind == "hours":
            due = t + a
            return due, int(due - a * self.rules.warning.fraction_before)
        return a, min(max(b, t), a)

    def accept(self, t: int, urgency: str) -> int:
        key = (local_day_number(t), urgency)
        cached = self._accept.get(key)
        if cached is None:
            limit = self.rules.accept_limit(urgency)
            if limit.kind == "hours":
                cached = ("hours", int(limit.duration.total_seconds()))
            else:
                start = datetime.fromtimestamp(t, UTC)
                cached = ("day", int(limit.due_from(start, self.calendar).timestamp()))
            self._accept[key] = cached
        kind, value = cached
        return t + value if kind == "hours" else value


# --- the world the tickets come from -------------------------------------------------------------


class World:
    """The units, the categories and their weights, the callers' pools: the same in every
    worker for a given plan."""

    def __init__(self, plan: Plan) -> None:
        directory = load_directory(Path(plan.units_file))
        taxonomy = load_taxonomy(Path(plan.taxonomy_file))
        dispatch = read_dispatch_items(Path(plan.taxonomy_file))
        self.directory = directory
        shuffle = random.Random(plan.seed * 7919 + 1)
        codes = list(taxonomy)
        shuffle.shuffle(codes)
        # Zipf over the items: the most common item is asked about ~15 times as often as
        # the tenth, and the departments with many common items get most tickets.
        self.categories = codes
        self.category_cum = list(_cumulative([1.0 / (r + 1) ** 1.05 for r in range(len(codes))]))
        self.minor = {c: taxonomy[c].minor for c in codes}
        self.unit_of: dict[str, str | None] = {}
        for code in codes:
            unit_code = dispatch[code][0]
            unit = directory.get(unit_code)
            # The hotline office's own items (其他, 热线服务) are answered on the call.
            self.unit_of[code] = unit_code if unit is not None and unit.level >= 3 else None
        dispatchable = sum(self.category_cum[i] - (self.category_cum[i - 1] if i else 0.0)
                           for i, c in enumerate(codes) if self.unit_of[c])
        self.p_dispatch = (1 - DIRECT) / dispatchable
        self.departments = sorted({u for u in self.unit_of.values() if u})
        districts = [u.code for u in directory.at_level(3) if u.code in DISTRICT_WEIGHTS]
        if not districts:  # another units file: every level-3 unit with children
            districts = [u.code for u in directory.at_level(3) if directory.children(u.code)]
        self.districts = districts
        self.district_cum = list(_cumulative([DISTRICT_WEIGHTS.get(d, 3) for d in districts]))
        self.streets = {d: [u.code for u in directory.children(d)] for d in districts}
        self.communities = {s: [u.code for u in directory.children(s)]
                            for d in districts for s in self.streets[d]}
        self.name = {u.code: u.name for u in directory.units()}
        self.tickets = plan.tickets
        self.frequent = 300
        self.frequent_cum = list(_cumulative([1.0 / (r + 1) for r in range(self.frequent)]))
        self.repeat_pool = max(10, plan.tickets // 20)
        self.single_pool = max(10, plan.tickets * 6 // 10)


def _cumulative(weights: Sequence[float]) -> Iterator[float]:
    total = float(sum(weights))
    running = 0.0
    for w in weights:
        running += w
        yield running / total


def phone(index: int) -> str:
    """A mobile number, one per index (a bijection on 13000000000..18999999999)."""
    return str(13_000_000_000 + (index * 7919 + 123_457) % 6_000_000_000)


# --- one chunk: generated and copied by a worker --------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    days: tuple[tuple[int, int, int, int], ...]  # (day index, local day number, count, first pk)
    url: str
    plan: Plan
    strides: tuple[tuple[str, int], ...]


_WORLD: dict[Plan, tuple[World, Deadlines]] = {}
_STAMP: dict[int, str] = {}


def ts_text(ts: int | None) -> str:
    """Epoch seconds as a timestamptz literal (UTC); None as COPY's NULL."""
    if ts is None:
        return "\\N"
    day, rest = divmod(ts, DAY)
    prefix = _STAMP.get(day)
    if prefix is None:
        prefix = _STAMP[day] = day_of(day).isoformat()
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"{prefix} {h:02d}:{m:02d}:{s:02d}+00"


def opt(value: object) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


class Ids:
    def __init__(self, start: int, stride: int) -> None:
        self.next, self.limit = start, start + stride

    def take(self) -> int:
        value = self.next
        self.next += 1
        if value >= self.limit:
            raise RuntimeError("an id block overflowed: raise PER_TICKET")
        return value


class Case:
    """One dispatched ticket's handling, step by step, as the actions do it (casework/
    actions/), stopping at the end moment: whatever has not happened by then stays undone."""

    def __init__(self, gen: Generator, pk: int, t: dict[str, Any]) -> None:
        self.g, self.pk, self.t = gen, pk, t
        self.a: list[list[Any]] = []  # assignments: see Generator.flush_case
        self.stage = "intake"
        self.round = 0
        self.version = 0
        self.open_supervision: list[Any] | None = None
        self.urged = self.supervised = -1  # the round last urged, escalated
        self.last = 0  # the time of the last event: events are made in time order

    def when(self, at: int) -> int:
        """The moment an action at ``at`` happens: not before the last event, and after
        whatever the clocks did meanwhile."""
        at = max(at, self.last)
        self.clock_until(at)
        return at

    def stop(self) -> None:
        """The end moment came first: only the clocks still run until then."""
        self.clock_until(self.g.end)

    # the building blocks, each one event
    def event(self, at: int, action: str, actor: str, role: str, unit: str | None,
              to: str, note: str = "") -> None:
        g = self.g
        assert at >= self.last, (at, self.last)
        self.last = at
        g.events.append("\t".join((str(g.event_ids.take()), str(self.pk), ts_text(at), action,
                                   actor, role, opt(unit), self.stage, to, note)))
        if to in ("direct", "replied", "callback_done", "archived") and self.open_supervision:
            self.open_supervision[7] = at
            self.open_supervision = None
        self.stage = to
        self.version += 1

    def notice(self, unit: str, kind: str, at: int, text: str = "",
               round_: int | None = None) -> None:
        g = self.g
        read = at + g.rng.randint(600, 86_400)
        g.notices.append("\t".join((
            str(g.notice_ids.take()), str(self.pk), unit, kind,
            str(self.round if round_ is None else round_), ts_text(at), text,
            ts_text(read if read <= g.end else None))))

    def assign(self, unit: str, role: str, at: int, from_unit: str | None = None) -> list[Any]:
        # id, unit, role, state, from_unit, dispatched, accepted, contacted, replied,
        # result, solved, ended
        row: list[Any] = [self.g.assignment_ids.take(), unit, role, "dispatched", from_unit,
                          at, None, None, None, None, None, None]
        self.a.append(row)
        return row

    def active(self) -> list[list[Any]]:
        return [a for a in self.a if a[3] in ("dispatched", "accepted", "replied")]

    def clocks(self, at: int, accept: bool) -> None:
        t, d = self.t, self.g.deadlines
        t["due_at"], t["warn_at"] = d.handling(at, t["request_type"], t["urgency"])
        if accept:
            t["accept_due_at"] = d.accept(at, t["urgency"])

    def run(self, agent: str) -> None:
        g, t, rng, end = self.g, self.t, self.g.rng, self.g.end
        at = t["ended_at"] + rng.randint(20, 1200)
        if at > end:
            t["disposition"] = t["unit"] = None  # the agent is still on the form
            return
        primary = t["unit"]
        co = [rng.choice(g.world.departments)] if rng.random() < 0.08 else []
        co = [c for c in co if c != primary]
        self.dispatch(at, primary, co, agent, "agent")
        if rng.random() < 0.04:  # 退回 by the primary, then the dispatch desk again
            at = self.accept_time(at) - rng.randint(0, 1800)
            if at > end:
                return self.stop()
            at = self.send_back(at, primary)
            at += rng.randint(600, 4 * 3600)
            if at > end:
                return
            choices = [d for d in g.world.departments if d != primary and d not in co]
            primary = rng.choice(choices)
            self.dispatch(at, primary, [], "dispatcher-01", "dispatcher")
            t["unit"] = primary
        stuck = rng.random() < 0.0005
        at = self.accept_time(at)
        if at > end:
            return self.stop()
        at = self.accept(at, self.primary())
        for a in self.active():
            if a[2] == "co" and a[3] == "dispatched":
                at2 = at + rng.randint(60, 6 * 3600)
                if at2 <= end:
                    self.accept(at2, a)
        level = g.world.directory.unit(primary).level
        if level == 3 and g.world.streets.get(primary) and rng.random() < 0.6:
            at += rng.randint(600, 86_400)
            if at > end:
                return self.stop()
            at = self.pass_down(at, g.world.streets[primary])
            if at > end:
                return self.stop()
            street = self.primary()[1]
            if g.world.communities.get(street) and rng.random() < 0.3:
                at = self.pass_down(at + rng.randint(600, 86_400), g.world.communities[street])
                if at > end:
                    return self.stop()
        for round_ in range(3):
            if stuck:
                return self.stop()
            reply_at = self.reply_time(at)
            if rng.random() < 0.35:
                note_at = at + int((reply_at - at) * rng.random() * 0.5)
                if note_at <= end:
                    self.progress(note_at, self.primary())
            for a in self.active():
                if a[2] == "co" and a[3] == "accepted":
                    co_at = at + int((reply_at - at) * rng.random())
                    if co_at <= min(end, reply_at):
                        self.reply(co_at, a)
            if reply_at > end:
                return self.stop()
            reply_at = self.reply(reply_at, self.primary())
            if self.stage != "replied":  # a co-unit has not replied yet: it does now
                for a in self.active():
                    if a[3] == "dispatched" and reply_at + 30 <= end:
                        self.accept(reply_at + 30, a)
                    if a[3] == "accepted" and reply_at + 60 <= end:
                        self.reply(reply_at + 60, a)
                if self.stage != "replied":
                    return self.stop()
                reply_at = self.last
            at = reply_at + rng.randint(2 * 3600, 2 * DAY)
            if at > end:
                return
            fine = round_ == 2 or rng.random() < 0.85
            if fine:
                self.callback(at, True, True)
                break
            self.callback(at, rng.random() < 0.5, False)
        at += rng.randint(3600, 3 * DAY)
        if at <= end and self.stage == "callback_done":
            at = self.when(at)
            self.event(at, "archive", "dispatcher-01", "dispatcher", None, "archived")
            for a in self.active():  # the units' parts are over (casework/actions/archive.py)
                a[3], a[11] = "closed", a[11] or at

    # the actions
    def dispatch(self, at: int, primary: str, co: list[str], actor: str, role: str) -> None:
        at = self.when(at)
        for a in self.active():
            a[3], a[11] = "withdrawn", at
        for code, role_ in [(primary, "primary"), *((c, "co") for c in co)]:
            self.assign(code, role_, at)
        self.t["dispatched_at"] = at
        self.clocks(at, accept=True)
        self.event(at, "dispatch", actor, role, primary, "dispatched")
        for code in [primary, *co]:
            self.notice(code, "dispatched", at)

    def send_back(self, at: int, unit: str) -> int:
        at = self.when(at)
        mine = self.primary()
        mine[3], mine[11] = "returned", at
        for a in self.active():
            a[3], a[11] = "withdrawn", at
        self.t["due_at"] = self.t["warn_at"] = self.t["accept_due_at"] = None
        self.t["sent_back"] = True
        self.event(at, "send_back", f"unit-{unit}", "unit", unit, "returned", "非本单位职责")
        return at

    def primary(self) -> list[Any]:
        return next(a for a in self.active() if a[2] == "primary")

    def accept_time(self, at: int) -> int:
        rng, due = self.g.rng, self.t["accept_due_at"]
        if rng.random() < 0.9:
            return at + int((due - at) * rng.random() ** 2)
        return due + rng.randint(600, 2 * DAY)

    def accept(self, at: int, a: list[Any]) -> int:
        at = self.when(at)
        a[3], a[6] = "accepted", at
        to = "in_progress" if a[2] == "primary" else self.stage
        self.event(at, "accept", f"unit-{a[1]}", "unit", a[1], to)
        return at

    def pass_down(self, at: int, children: list[str]) -> int:
        at = self.when(at)
        mine = self.primary()
        child = self.g.rng.choice(children)
        mine[3], mine[11] = "passed_down", at
        new = self.assign(child, "primary", at, from_unit=mine[1])
        self.event(at, "pass_down", f"unit-{mine[1]}", "unit", child, "dispatched")
        self.notice(child, "dispatched", at)
        accepted = at + self.g.rng.randint(300, 20 * 3600)
        if accepted <= self.g.end:
            return self.accept(accepted, new)
        return accepted

    def progress(self, at: int, a: list[Any]) -> None:
        at = self.when(at)
        a[7] = a[7] or at
        self.event(at, "progress", f"unit-{a[1]}", "unit", a[1], self.stage,
                   "已联系诉求人，正在办理")

    def reply_time(self, at: int) -> int:
        rng, due = self.g.rng, self.t["due_at"]
        if rng.random() < 0.88:
            return at + max(600, int((due - at) * rng.random() ** 1.5))
        return due + int(rng.expovariate(1 / (2 * DAY))) + 60

    def reply(self, at: int, a: list[Any]) -> int:
        at = self.when(at)
        t, rng = self.t, self.g.rng
        a[3], a[8], a[9], a[10] = "replied", at, rng.choice(RESULTS), rng.random() < 0.9
        everyone = all(x[3] == "replied" for x in self.active())
        if everyone and t["replied_at"] is None:
            t["replied_at"] = at
            t["replied_on_time"] = t["due_at"] is None or at <= t["due_at"]
        self.event(at, "reply", f"unit-{a[1]}", "unit", a[1],
                   "replied" if everyone else self.stage, a[9])
        return at

    def callback(self, at: int, solved: bool, satisfied: bool) -> None:
        at = self.when(at)
        t = self.t
        t["callback_solved"], t["callback_satisfied"] = solved, satisfied
        if solved and satisfied:
            t["closed_at"] = at
            self.event(at, "callback", "dispatcher-01", "dispatcher", None, "callback_done",
                       "诉求人表示满意")
            return
        primary = self.primary()
        self.round += 1
        t["reopen_count"] = self.round
        primary[3], primary[8], primary[9], primary[10] = "accepted", None, None, None
        self.clocks(at, accept=False)
        verdict = "未解决" if not solved else "不满意"
        self.event(at, "callback", "dispatcher-01", "dispatcher", primary[1], "in_progress",
                   f"重办（第 {self.round} 次，{verdict}）")
        self.notice(primary[1], "reopened", at)

    def clock_until(self, until: int) -> None:
        """The clocks' 催办 and 督办 that fall before ``until`` while a unit holds the
        ticket (a sweep every 30 s: casework/clocks.py)."""
        t = self.t
        if self.stage not in ("dispatched", "in_progress") or t["due_at"] is None:
            return
        sweep = self.g.rng.randint(1, 30)
        warn, due = t["warn_at"] + sweep, t["due_at"] + sweep
        if self.urged != self.round and warn <= min(until, t["due_at"]):
            self.urged = self.round
            warn = max(warn, self.last)
            units = [a[1] for a in self.active() if a[3] != "replied"]
            for unit in units:
                self.notice(unit, "urged", warn)
            self.event(warn, "urge", "clock", "clock", "", self.stage, "临近办理期限")
        if self.supervised != self.round and due <= until:
            self.supervised = self.round
            due = max(due, self.last)
            g = self.g
            self.open_supervision = [g.supervision_ids.take(), self.pk, "overdue", self.round,
                                     due, "clock", "", None]
            g.supervisions.append(self.open_supervision)
            self.event(due, "supervise", "clock", "clock", "", self.stage,
                       "超期自动督办 (overdue: escalated)")
            for a in self.active():
                self.notice(a[1], "supervised", due)


class Generator:
    def __init__(self, world: World, deadlines: Deadlines, plan: Plan, seed: int) -> None:
        self.world, self.deadlines, self.plan = world, deadlines, plan
        self.rng = random.Random(seed)
        self.end = plan.end
        self.tickets: list[str] = []
        self.assignments: list[str] = []
        self.events: list[str] = []
        self.notices: list[str] = []
        self.supervisions: list[list[Any]] = []
        self.hour_cum = list(_cumulative(HOURS))

    def caller(self) -> str:
        rng, w = self.rng, self.world
        u = rng.random()
        if u < 0.01:
            return "anonymous"
        if u < 0.02:
            return phone(bisect.bisect_left(w.frequent_cum, rng.random()))
        if u < 0.37:
            return phone(w.frequent + rng.randrange(w.repeat_pool))
        return phone(w.frequent + w.repeat_pool + rng.randrange(w.single_pool))

    def day(self, day_index: int, day_number: int, count: int, first_pk: int,
            strides: dict[str, int]) -> None:
        rng, end = self.rng, self.end
        self.assignment_ids = Ids(day_index * strides["case_assignments"] + 1,
                                  strides["case_assignments"])
        self.event_ids = Ids(day_index * strides["workflow_events"] + 1,
                             strides["workflow_events"])
        self.notice_ids = Ids(day_index * strides["unit_notices"] + 1, strides["unit_notices"])
        self.supervision_ids = Ids(day_index * strides["supervisions"] + 1,
                                   strides["supervisions"])
        midnight = day_number * DAY - LOCAL_OFFSET
        times = []
        for _ in range(count):
            while True:
                hour = bisect.bisect_left(self.hour_cum, rng.random())
                at = midnight + hour * 3600 + rng.randrange(3600)
                if at <= end - 1800:
                    break
            times.append(at)
        times.sort()
        stamp = day_of(day_number).strftime("%Y%m%d")
        rtypes = [r for r, _ in REQUEST_TYPES]
        rweights = [x for _, x in REQUEST_TYPES]
        urg = [u for u, _ in URGENCIES]
        uweights = [x for _, x in URGENCIES]
        for n, created in enumerate(times, start=1):
            self.ticket(first_pk + n - 1, f"{stamp}-{n:06d}", created,
                        rng.choices(rtypes, rweights)[0], rng.choices(urg, uweights)[0])

    def ticket(self, pk: int, ticket_id: str, created: int, request_type: str,
               urgency: str) -> None:
        rng, w, end = self.rng, self.world, self.end
        queued = created + rng.randint(6, 25)
        seat_n = rng.randint(1, SEATS)
        t: dict[str, Any] = dict.fromkeys(
            ("answered_at", "ended_at", "seat", "abandon_stage", "wait_seconds",
             "talk_seconds", "request_type", "category", "urgency", "summary", "disposition",
             "unit", "district", "street", "address", "contact_number", "citizen_name",
             "dispatched_at", "due_at", "warn_at", "accept_due_at", "first_unit_code",
             "first_accepted_at", "replied_at", "replied_on_time", "callback_solved",
             "callback_satisfied", "closed_at"))
        t["reopen_count"], t["confidential"], t["sent_back"] = 0, False, False
        stage, version, outcome = "intake", 0, "answered"
        wait = rng.expovariate(1 / 18.0)
        if rng.random() < ABANDONED:
            outcome, t["abandon_stage"] = "abandoned", "queue"
            t["wait_seconds"] = round(wait, 1)
            t["ended_at"] = queued + int(wait) + 1
        else:
            answered = queued + int(wait) + 1
            talk = min(3600.0, rng.lognormvariate(5.1, 0.6))
            t["answered_at"], t["ended_at"] = answered, answered + int(talk) + 1
            t["seat"] = f"seat-{seat_n:03d}"
            t["wait_seconds"], t["talk_seconds"] = round(wait, 1), round(talk, 1)
        ended = t["ended_at"]
        if ended > end:  # the call would still be going on: end it now
            t["ended_at"] = ended = end
        if outcome == "answered":
            category = w.categories[bisect.bisect_left(w.category_cum, rng.random())]
            district = w.districts[bisect.bisect_left(w.district_cum, rng.random())]
            street = rng.choice(w.streets[district]) if w.streets[district] else None
            t.update(request_type=request_type, urgency=urgency, category=category,
                     district=district, street=street)
            place = w.name[district] + (w.name[street] if street else "")
            t["address"] = f"{place}{rng.randint(1, 300)}号{rng.randint(1, 30)}号楼"
            t["summary"] = (f"市民来电反映：{t['address']}，{w.minor[category]}问题，"
                            + "，".join(rng.sample(PHRASES, rng.randint(3, 8))) + "。")
            if rng.random() < 0.2:
                t["contact_number"] = phone(rng.randrange(6_000_000_000))
            if rng.random() < 0.4:
                t["citizen_name"] = rng.choice(SURNAMES) + rng.choice(("先生", "女士"))
            t["confidential"] = rng.random() < 0.05
            undecided = ended > end - 7200 and rng.random() < 0.3
            unit = w.unit_of[category]
            if undecided:
                pass
            elif unit is not None and rng.random() < w.p_dispatch:
                if rng.random() < 0.45:
                    unit = district
                t["disposition"], t["unit"] = "转办", unit
                case = Case(self, pk, t)
                case.run(f"agent-{seat_n:03d}")
                stage, version = case.stage, case.version
                # What the actions keep on the ticket for the reports (the first primary).
                first = next(a for a in case.a if a[2] == "primary")
                t["first_unit_code"], t["first_accepted_at"] = first[1], first[6]
                self.flush_case(pk, case)
            else:
                t["disposition"] = "直办"
                case = Case(self, pk, t)
                case.event(ended, "close_direct", f"agent-{seat_n:03d}", "agent", None,
                           "direct", "已当场答复诉求人")
                t["closed_at"] = ended
                archive = ended + rng.randint(3600, 3 * DAY)
                if archive <= end:
                    case.event(archive, "archive", "dispatcher-01", "dispatcher", None,
                               "archived")
                stage, version = case.stage, case.version
        T = ts_text
        self.tickets.append("\t".join((
            str(pk), ticket_id, self.caller(), "12345", "\\N", f"{created}.{pk}",
            "fallback" if rng.random() < 0.01 else "ivr", T(created), T(queued),
            T(t["answered_at"]), T(ended), opt(t["seat"]), "closed", outcome,
            opt(t["abandon_stage"]), opt(t["wait_seconds"]), opt(t["talk_seconds"]),
            opt(t["request_type"]), opt(t["category"]), opt(t["urgency"]), opt(t["summary"]),
            opt(t["disposition"]), opt(t["unit"]), opt(t["district"]), opt(t["street"]),
            opt(t["address"]), opt(t["contact_number"]), opt(t["citizen_name"]),
            opt(t["confidential"]), stage, str(version), T(t["dispatched_at"]), T(t["due_at"]),
            T(t["warn_at"]), T(t["accept_due_at"]), opt(t["first_unit_code"]),
            T(t["first_accepted_at"]), opt(t["sent_back"]), str(t["reopen_count"]),
            T(t["replied_at"]),
            opt(t["replied_on_time"]), opt(t["callback_solved"]), opt(t["callback_satisfied"]),
            T(t["closed_at"]))))

    def flush_case(self, pk: int, case: Case) -> None:
        T = ts_text
        for a in case.a:
            self.assignments.append("\t".join((
                str(a[0]), str(pk), a[1], a[2], a[3], opt(a[4]), T(a[5]), T(a[6]), T(a[7]),
                T(a[8]), opt(a[9]), opt(a[10]), T(a[11]))))

    def buffers(self) -> dict[str, list[str]]:
        sup = ["\t".join((str(s[0]), str(s[1]), s[2], str(s[3]), ts_text(s[4]), s[5], s[6],
                          ts_text(s[7]))) for s in self.supervisions]
        return {"tickets": self.tickets, "case_assignments": self.assignments,
                "workflow_events": self.events, "unit_notices": self.notices,
                "supervisions": sup}


COLUMNS = {
    "tickets": ("id, ticket_id, caller, dialled, department_hint, channel_id, source, "
                "created_at, queued_at, answered_at, ended_at, seat, status, outcome, "
                "abandon_stage, wait_seconds, talk_seconds, request_type, category, urgency, "
                "summary, disposition, unit, district, street, address, contact_number, "
                "citizen_name, confidential, stage, version, dispatched_at, due_at, warn_at, "
                "accept_due_at, first_unit_code, first_accepted_at, sent_back, reopen_count, "
                "replied_at, replied_on_time, callback_solved, "
                "callback_satisfied, closed_at"),
    "case_assignments": ("id, ticket_pk, unit_code, role, state, from_unit, dispatched_at, "
                         "accepted_at, contacted_at, replied_at, result, solved, ended_at"),
    "workflow_events": ("id, ticket_pk, at, action, actor, actor_role, unit_code, from_stage, "
                        "to_stage, note"),
    "unit_notices": "id, ticket_pk, unit_code, kind, round, at, text, read_at",
    "supervisions": "id, ticket_pk, reason, round, opened_at, opened_by, instructions, closed_at",
}


class LineStream(io.TextIOBase):
    """The lines of one table as a file COPY reads from, encoded a batch at a time (the
    chunk is never joined into one string)."""

    def __init__(self, lines: list[str], batch: int = 5000) -> None:
        self.lines, self.batch, self.at = lines, batch, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:  # type: ignore[override]
        if self.at >= len(self.lines):
            return ""
        part = self.lines[self.at:self.at + self.batch]
        self.at += self.batch
        return "\n".join(part) + "\n"

    readline = read  # type: ignore[assignment]


def connect(url: str) -> Any:
    u = make_url(url)
    conn = psycopg2.connect(host=u.host, port=u.port, user=u.username, password=u.password,
                            dbname=u.database)
    with conn.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
    conn.commit()
    return conn


def copy_rows(conn: Any, table: str, lines: list[str]) -> None:
    if not lines:
        return
    with conn.cursor() as cur:
        cur.copy_expert(f"COPY {table} ({COLUMNS[table]}) FROM STDIN", LineStream(lines),
                        size=1 << 20)


def run_chunk(chunk: Chunk) -> dict[str, Any]:
    started = time.monotonic()
    world_deadlines = _WORLD.get(chunk.plan)
    if world_deadlines is None:
        world = World(chunk.plan)
        world_deadlines = _WORLD[chunk.plan] = (world, Deadlines(DeadlineRules.default(),
                                                                 WorkCalendar()))
    world, deadlines = world_deadlines
    strides = dict(chunk.strides)
    first_day = chunk.days[0][0]
    gen = Generator(world, deadlines, chunk.plan, chunk.plan.seed * 1_000_003 + first_day)
    for day_index, day_number, count, first_pk in chunk.days:
        gen.day(day_index, day_number, count, first_pk, strides)
    generated = time.monotonic()
    conn = connect(chunk.url)
    try:
        counts = {}
        for table, lines in gen.buffers().items():
            copy_rows(conn, table, lines)
            counts[table] = len(lines)
        conn.commit()
    finally:
        conn.close()
    return {"rows": counts, "generate_s": generated - started,
            "copy_s": time.monotonic() - generated}


# --- the database side: indexes off and on ------------------------------------------------------


def _definitions(cur: Any) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(table, name, definition) of every constraint to drop, foreign keys last; and the
    indexes that back no constraint."""
    cur.execute("""
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype
        FROM pg_constraint c
        WHERE c.contype IN ('p', 'u', 'f')
          AND (c.conrelid::regclass::text = ANY(%(t)s)
               OR (c.contype = 'f' AND c.confrelid::regclass::text = ANY(%(t)s)))
    """, {"t": list(TABLES)})
    rows = cur.fetchall()
    order = {"p": 0, "u": 1, "f": 2}
    constraints = [(t, n, d) for t, n, d, k in sorted(rows, key=lambda r: order[r[3]])]
    cur.execute("""
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid::regclass::text = ANY(%(t)s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    """, {"t": list(TABLES)})
    return constraints, cur.fetchall()


def drop_indexes(conn: Any) -> dict[str, Any]:
    with conn.cursor() as cur:
        constraints, indexes = _definitions(cur)
        for table, name, _ in reversed(constraints):  # foreign keys first
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cur.execute(f"DROP INDEX {name}")
    conn.commit()
    return {"constraints": constraints, "indexes": indexes}


def build_indexes(conn: Any, saved: dict[str, Any]) -> dict[str, float]:
    """The indexes and keys as they were; each one's seconds."""
    took: dict[str, float] = {}
    with conn.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET max_parallel_maintenance_workers = 2")
        for name, definition in saved["indexes"]:
            started = time.monotonic()
            cur.execute(definition)
            conn.commit()
            took[name] = round(time.monotonic() - started, 1)
            log(f"index {name}: {took[name]} s")
        for table, name, definition in saved["constraints"]:
            started = time.monotonic()
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            conn.commit()
            took[name] = round(time.monotonic() - started, 1)
            log(f"constraint {name}: {took[name]} s")
    return took


def check_empty(conn: Any) -> None:
    with conn.cursor() as cur:
        for table in TABLES:
            cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
            if cur.fetchone()[0]:
                raise SystemExit(f"{table} is not empty: generate into a fresh database")


def write_meta(conn: Any, plan: Plan, summary: dict[str, Any]) -> None:
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key text PRIMARY KEY, value text)")
        values = {"plan": json.dumps(asdict(plan)), "end": plan.end_iso,
                  "summary": json.dumps(summary)}
        for key, value in values.items():
            cur.execute(f"INSERT INTO {META_TABLE} VALUES (%s, %s) ON CONFLICT (key) "
                        "DO UPDATE SET value = EXCLUDED.value", (key, value))
    conn.commit()


def read_meta(url: str) -> dict[str, str]:
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT key, value FROM {META_TABLE}")
            return dict(cur.fetchall())
    finally:
        conn.close()


def chunks(plan: Plan, url: str, counts: list[tuple[int, int]]) -> tuple[list[Chunk], dict]:
    max_day = max(c for _, c in counts)
    strides = {table: max(64, max_day * k) for table, k in PER_TICKET.items()}
    for table, stride in strides.items():
        if stride * len(counts) > INT4_MAX:
            raise SystemExit(f"{plan.tickets} tickets over {plan.years} years: the id blocks "
                             f"of {table} would pass 2**31")
    out, current, size, pk = [], [], 0, 1
    for index, (number, count) in enumerate(counts):
        current.append((index, number, count, pk))
        pk += count
        size += count
        if size >= CHUNK_TICKETS:
            out.append(Chunk(tuple(current), url, plan, tuple(strides.items())))
            current, size = [], 0
    if current:
        out.append(Chunk(tuple(current), url, plan, tuple(strides.items())))
    return out, strides


def generate(url: str, plan: Plan, workers: int = 2, migrate: bool = True) -> dict[str, Any]:
    """Migrates, loads, indexes and analyses; returns the summary."""
    phases: dict[str, float] = {}
    started = time.monotonic()
    if migrate:
        from hotline.migrate import upgrade
        upgrade(url)
    phases["migrate_s"] = round(time.monotonic() - started, 1)
    conn = connect(url)
    conn.autocommit = False
    try:
        check_empty(conn)
        saved = drop_indexes(conn)
        counts = day_counts(plan, WorkCalendar())
        todo, strides = chunks(plan, url, counts)
        log(f"{plan.tickets:,} tickets over {len(counts)} days (up to {plan.end_iso}), "
            f"{len(todo)} chunks, {workers} workers")
        t0 = time.monotonic()
        rows = dict.fromkeys(TABLES, 0)
        gen_s = copy_s = 0.0
        done = 0
        if workers <= 1:
            results: Iterator[dict[str, Any]] = map(run_chunk, todo)
            pool = None
        else:
            pool = multiprocessing.get_context("fork").Pool(workers)
            results = pool.imap_unordered(run_chunk, todo)
        try:
            for result in results:
                for table, n in result["rows"].items():
                    rows[table] += n
                gen_s += result["generate_s"]
                copy_s += result["copy_s"]
                done += 1
                elapsed = time.monotonic() - t0
                log(f"chunk {done}/{len(todo)}: {rows['tickets']:,} tickets, "
                    f"{sum(rows.values()):,} rows, {rows['tickets'] / elapsed:,.0f} tickets/s")
        finally:
            if pool is not None:
                pool.close()
                pool.join()
        phases["load_s"] = round(time.monotonic() - t0, 1)
        t1 = time.monotonic()
        index_s = build_indexes(conn, saved)
        phases["index_s"] = round(time.monotonic() - t1, 1)
        t2 = time.monotonic()
        conn.autocommit = True
        with conn.cursor() as cur:
            for table in TABLES:
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")
            for table in TABLES:
                cur.execute(f"VACUUM (ANALYZE) {table}")
        phases["analyze_s"] = round(time.monotonic() - t2, 1)
        conn.autocommit = False
        phases["total_s"] = round(time.monotonic() - started, 1)
        total_rows = sum(rows.values())
        summary = {
            "plan": asdict(plan), "end": plan.end_iso, "workers": workers, "rows": rows,
            "phases_s": phases, "index_build_s": index_s,
            "worker_cpu_s": {"generate": round(gen_s, 1), "copy": round(copy_s, 1)},
            "tickets_per_s_load": round(rows["tickets"] / max(phases["load_s"], 0.1)),
            "rows_per_s_load": round(total_rows / max(phases["load_s"], 0.1)),
            "tickets_per_s_total": round(rows["tickets"] / max(phases["total_s"], 0.1)),
            "id_strides": strides,
        }
        write_meta(conn, plan, summary)
        return summary
    finally:
        conn.close()


def parse_end(raw: str | None) -> int:
    if not raw:
        return int(time.time()) // 60 * 60
    value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise SystemExit("--end needs a time zone, e.g. 2026-12-02T02:00:00Z")
    return int(value.timestamp())


def make_plan(tickets: int, seed: int = 1, years: int = 3, end: int | None = None,
              units_file: Path = DEFAULT_UNITS, taxonomy_file: Path = DEFAULT_TAXONOMY) -> Plan:
    return Plan(tickets=tickets, seed=seed, years=years,
                end=end if end is not None else parse_end(None),
                units_file=str(units_file), taxonomy_file=str(taxonomy_file))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--end", help="the data's now, ISO 8601 with zone (default: now)")
    parser.add_argument("--units-file", type=Path, default=DEFAULT_UNITS)
    parser.add_argument("--taxonomy-file", type=Path, default=DEFAULT_TAXONOMY)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1,
                        help="processes generating and copying (default: cores + 1, so "
                             "that one generates while another waits on its COPY)")
    args = parser.parse_args(argv)
    plan = make_plan(args.tickets, args.seed, args.years, parse_end(args.end),
                     args.units_file, args.taxonomy_file)
    summary = generate(args.database_url, plan, args.workers)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    print(f"casework_data_tickets_per_s: {summary['tickets_per_s_total']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

