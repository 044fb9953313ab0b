"""Prometheus text exposition (format 0.0.4) of the live figures, written by hand.

Day figures are gauges: they restart at local midnight with the day they count.
"""

from __future__ import annotations

from typing import Any

QUEUE_GAUGES = {
    "waiting": ("hotline_queue_waiting_calls", "Calls waiting in the queue now"),
    "longest_wait_s": ("hotline_queue_longest_wait_seconds", "Longest wait now"),
    "offered": ("hotline_queue_offered_today", "Calls that entered the queue today"),
    "answered": ("hotline_queue_answered_today", "Calls answered today"),
    "answered_within_sl": ("hotline_queue_answered_within_sl_today",
                           "Calls answered within the service level (15 s) today"),
    "abandoned": ("hotline_queue_abandoned_today",
                  "Calls abandoned today (short abandons excluded)"),
    "short_abandoned": ("hotline_queue_short_abandoned_today",
                        "Calls abandoned within the short-abandon threshold today"),
    "connection_rate_pct": ("hotline_queue_connection_rate_percent",
                            "answered / (answered + abandoned), today"),
    "sl_pct": ("hotline_queue_service_level_percent",
               "answered within SL / (answered + abandoned), today"),
    "sl_from_answer_pct": ("hotline_queue_service_level_from_answer_percent",
                           "the service level with the wait counted from the PBX's answer"),
    "sl2_pct": ("hotline_queue_service_level2_percent",
                "(answered + abandoned within SL) / (answered + abandoned), today"),
    "asa_s": ("hotline_queue_asa_seconds", "Average speed of answer today"),
    "aht_s": ("hotline_queue_aht_seconds", "Average handle (talk) time today"),
}


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def exposition(snapshot: dict[str, Any]) -> str:
    out: list[str] = []
    for key, (name, help_text) in QUEUE_GAUGES.items():
        out += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for queue in snapshot["queues"]:
            if queue.get(key) is not None:
                out.append(f'{name}{{queue="{_label(queue["queue"])}"}} {queue[key]}')
    out += ["# HELP hotline_queue_agents Logged-in agents with the queue's skill, by state",
            "# TYPE hotline_queue_agents gauge"]
    for queue in snapshot["queues"]:
        for state, count in sorted(queue["agents"].items()):
            out.append(f'hotline_queue_agents{{queue="{_label(queue["queue"])}",'
                       f'state="{_label(state)}"}} {count}')
    out += ["# HELP hotline_agent_calls_today Calls the agent answered today",
            "# TYPE hotline_agent_calls_today gauge"]
    for agent in snapshot["agents"]:
        out.append(f'hotline_agent_calls_today{{seat="{_label(agent["seat"])}"}} '
                   f'{agent["calls_today"]}')
    out += ["# HELP hotline_agent_state_seconds Time in the agent's present state",
            "# TYPE hotline_agent_state_seconds gauge"]
    for agent in snapshot["agents"]:
        out.append(f'hotline_agent_state_seconds{{seat="{_label(agent["seat"])}",'
                   f'state="{_label(agent["state"])}"}} {agent["in_state_s"]}')
    return "\n".join(out) + "\n"
