"""The Lua scripts, each with the matching policy prepended, registered once per client."""

from __future__ import annotations

from functools import cache
from pathlib import Path

LUA_DIR = Path(__file__).resolve().parent / "lua"
OPERATIONS = ("enqueue", "leave", "seat_ready", "seat_unavailable", "offer_failed",
              "answered", "call_ended")


@cache
def source(operation: str) -> str:
    if operation not in OPERATIONS:
        raise KeyError(operation)
    policy = (LUA_DIR / "match.lua").read_text()
    return policy + "\n" + (LUA_DIR / f"{operation}.lua").read_text()
