"""Redis key names, in one place. Every key starts with `acd:`."""

WAITING = "acd:waiting"  # sorted set: call id -> order (arrival, ms); lowest first
READY = "acd:ready"  # sorted set: seat -> idle since (ms); longest idle first
EVENTS = "acd:events"  # stream: one entry per state change
CALL_PREFIX = "acd:call:"  # hash per call
SEAT_PREFIX = "acd:seat:"  # hash per seat
OFFERS_CHANNEL_PREFIX = "acd:offers:"  # pub/sub channel per node: "<call id> <seat>"


def call_key(call_id: str) -> str:
    return CALL_PREFIX + call_id


def seat_key(seat: str) -> str:
    return SEAT_PREFIX + seat


def offers_channel(node: str) -> str:
    return OFFERS_CHANNEL_PREFIX + node
