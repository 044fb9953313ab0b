"""Reports from the stream: CSV rendering, and any day's figures by replaying its events.

Replaying is also the benchmark's baseline: what a stateless endpoint would have to do on
every request.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from acd import keys
from acd.events import decode_entries
from supervision.aggregator import Aggregator
from supervision.definitions import Rules

BATCH = 2000

# Column headings of the CSV exports: Chinese, then the field name.
HEADINGS = {
    "day": "日期 day", "interval": "时段 interval", "queue": "队列 queue",
    "offered": "呼入 offered", "answered": "接通 answered",
    "answered_within_sl": "15秒内接通 answered_within_sl", "abandoned": "放弃 abandoned",
    "short_abandoned": "短时放弃 short_abandoned",
    "connection_rate_pct": "接通率% connection_rate", "sl_pct": "服务水平% SL",
    "sl_from_answer_pct": "服务水平(自应答)% SL_from_answer",
    "sl2_pct": "SL2%", "timely_answer_pct": "及时接通率% timely_answer",
    "asa_s": "平均应答秒 ASA_s", "aht_s": "平均处理秒 AHT_s",
}


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([HEADINGS.get(c, c) for c in columns])
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return "\ufeff" + out.getvalue()  # a BOM, so that Excel reads the Chinese as UTF-8


INTERVAL_COLUMNS = ["interval", "queue", "offered", "answered", "answered_within_sl",
                    "abandoned", "short_abandoned", "connection_rate_pct", "sl_pct",
                    "sl_from_answer_pct", "timely_answer_pct", "asa_s", "aht_s"]
DAILY_COLUMNS = ["day", "queue", "offered", "answered", "answered_within_sl", "abandoned",
                 "short_abandoned", "connection_rate_pct", "sl_pct", "sl_from_answer_pct",
                 "sl2_pct", "timely_answer_pct", "asa_s", "aht_s"]


def day_bounds(day: date, timezone: str) -> tuple[int, int]:
    start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))
    end = start + timedelta(days=1)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


async def replay(client: aioredis.Redis, rules: Rules, start_ms: int, end_ms: int | None,
                 ) -> Aggregator:
    """A fresh aggregator fed with the stream's events in [start, end)."""
    aggregator = Aggregator(rules)
    low, high = f"{start_ms}-0", "+" if end_ms is None else f"({end_ms}-0"
    while True:
        entries = decode_entries(await client.xrange(keys.EVENTS, min=low, max=high,
                                                     count=BATCH))
        for entry_id, event in entries:
            aggregator.apply(entry_id, event)
        if len(entries) < BATCH:
            return aggregator
        low = "(" + entries[-1][0]
