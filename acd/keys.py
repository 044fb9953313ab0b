"""Redis key names, in one place. Every key starts with `acd:` (see lua/lib.lua)."""

EVENTS = "acd:events"  # stream: one entry per state change
# hash: policy, wrapup_ms, offer_timeout_ms, no_answer_pause_after, ring_others_idle_ms, …
CONFIG = "acd:config"
TIMERS = "acd:timers"  # sorted set: "kind|id" -> due (ms)
# pub/sub channel per node: "<call id> <seat> <ring ms, 0 for the full ring timeout>"
OFFERS_CHANNEL_PREFIX = "acd:offers:"


def call_key(call_id: str) -> str:
    return f"acd:call:{call_id}"


def agent_key(seat: str) -> str:
    return f"acd:agent:{seat}"


def waiting_key(skill: str) -> str:
    """Sorted set: call id -> order (priority, then arrival); lowest first."""
    return f"acd:waiting:{skill}"


def ready_key(skill: str) -> str:
    """Sorted set: seat -> the selection policy's score; lowest first."""
    return f"acd:ready:{skill}"


def retry_key(skill: str) -> str:
    """Sorted set: seat -> misses, then last miss (ms); the ready seats whose last offer
    went unanswered, asked only when no seat of ready_key(skill) is free."""
    return f"acd:retry:{skill}"


def offers_channel(node: str) -> str:
    return OFFERS_CHANNEL_PREFIX + node


def node_key(node: str) -> str:
    """A FastAGI node's heartbeat; it expires a few seconds after the process dies."""
    return f"acd:node:{node}"


def seat_lost_key(call_id: str) -> str:
    """Set when the seat's softphone vanished mid-call: the caller is queued again."""
    return f"acd:seat_lost:{call_id}"
