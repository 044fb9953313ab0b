"""The Lua scripts, each with the shared library (lua/lib.lua) prepended."""

from __future__ import annotations

from functools import cache
from pathlib import Path

LUA_DIR = Path(__file__).resolve().parent / "lua"
OPERATIONS = ("enqueue", "leave", "login", "ready", "unavailable", "registration",
              "offer_failed", "answered", "call_ended", "wrapup_done", "sweep", "estimate")


@cache
def source(operation: str) -> str:
    if operation not in OPERATIONS:
        raise KeyError(operation)
    return (LUA_DIR / "lib.lua").read_text() + "\n" + (LUA_DIR / f"{operation}.lua").read_text()
