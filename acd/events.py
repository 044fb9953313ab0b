"""Reading the ACD's event stream (`acd:events`): one flat str->str dict per entry.

Every state change the Lua scripts make appends one entry; statistics, the queue_log and
the tests all read the stream through these helpers, so they agree on its shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def text(value: Any) -> str:
    """A Redis reply value as text (the clients here return bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def decode_fields(fields: Mapping[Any, Any] | None) -> dict[str, str]:
    return {text(k): text(v) for k, v in (fields or {}).items()}


def decode_entries(entries: Iterable[Any] | None) -> list[tuple[str, dict[str, str]]]:
    """XRANGE/XREAD entries as (entry id, fields)."""
    return [(text(entry_id), decode_fields(fields)) for entry_id, fields in (entries or [])]
