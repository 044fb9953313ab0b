"""What each statistic counts. Every figure is computed from the ACD's events only.

A *call* is one `enqueued` event (a caller entering the ACD's queue). A citizen's call
enters it as it is answered, so the greeting is part of its wait. Its *queue* is the first
skill it was queued with (`general`, `enterprise`, a department such as `tax` for a legacy
number, `expert_<dept>`), even if it overflows to another pool later. Every call figure is
counted in the day and the 15-minute interval in which the call entered the queue (the
local time zone is `stats_timezone`), as Asterisk's queue reports do.

- **offered** (呼入量): calls that entered the queue.
- **answered** (接通): an `answered` event (the seat picked up). *wait* (排队时长) is
  `enqueued` → `answered`.
- **answered within SL** (15 秒内接通): answered with wait ≤ `service_level_s` (15 s,
  GB/T 33358).
- **abandoned** (放弃): the caller left (`left` event) before an answer, after waiting
  at least `short_abandon_s` (5 s). This includes hanging up while a seat rang.
- **short abandoned** (短时放弃): left before an answer within `short_abandon_s`. Not
  counted against the service level or the connection rate (a misdial, a caller who
  changed their mind), but shown, and still part of *offered*.
- **waiting** (排队中): entered, neither answered nor left yet. *longest wait* is the
  oldest of those. So offered = answered + abandoned + short abandoned + waiting.
- **connection rate** (接通率) = answered ÷ (answered + abandoned): answered ÷ offered
  over the calls with an outcome, short abandons excluded. GB/T 33358 asks ≥ 95 % over
  24 h.
- **service level (SL)** = answered within SL ÷ (answered + abandoned): Asterisk's
  `SL` with short abandons excluded.
- **SL from the answer** (`sl_from_answer_pct`) = the service level with the wait counted
  from the PBX's answer of the caller (the enqueued event's `pbx_answered`) instead of the
  queue entry. A citizen's call is queued as it is answered, so the two agree for it; an
  event without `pbx_answered` (a transfer, a consultation) counts from its queue entry.
- **SL2** = (answered within SL + abandoned within SL) ÷ (answered + abandoned):
  Asterisk's `SL2`, which does not hold quick abandons against the queue.
- **timely answer rate** (及时接通率) = answered within SL ÷ answered (Jinan's ≥ 80 %).
- **ASA** (平均应答时长) = mean wait of the answered calls.
- **AHT** (平均处理时长) = mean talk time (`answered` → `ended`) of the calls that ended.
  Wrap-up is the agent's own time and is shown as a state, not added in.
- **agents by state**: logged-in agents that have the queue's skill, by ACD state. A
  ready agent whose softphone is not registered (its last `registration` event says 0)
  is offered no call, so it counts as `unregistered`, never as `ready`. Before any
  `registration` event it counts as ready, as the ACD offers it calls.
- **per agent**: state and time in it, calls answered today, AHT over its ended calls.

A rate whose denominator is 0 is null (shown as "—"), never 0 % or 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rules:
    service_level_s: float = 15.0
    short_abandon_s: float = 5.0
    timezone: str = "Asia/Shanghai"
    interval_min: int = 15


def ratio(part: int, whole: int) -> float | None:
    """A percentage rounded to 0.1, or None when nothing was counted."""
    return None if whole == 0 else round(100.0 * part / whole, 1)


def mean_s(total_ms: int, count: int) -> float | None:
    return None if count == 0 else round(total_ms / count / 1000, 1)
