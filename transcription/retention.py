"""The retention rule: recordings older than ``recording_retention_days`` are deleted."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path


def sweep(recordings_dir: Path, retention_days: float, now: float | None = None) -> int:
    """Deletes recording files last written before the cut-off, and emptied day folders.
    Returns how many files went."""
    if not recordings_dir.is_dir():
        return 0
    cutoff = (now if now is not None else time.time()) - retention_days * 86400
    removed = 0
    for day in sorted(p for p in recordings_dir.iterdir() if p.is_dir()):
        for path in day.glob("*.wav"):
            with contextlib.suppress(FileNotFoundError):  # another sweeper was quicker
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        with contextlib.suppress(OSError):  # not empty, or already gone
            day.rmdir()
    return removed
