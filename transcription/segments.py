"""Vosk's JSON results to speaker-labelled segments: pure functions, no Vosk here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from transcription.store import SegmentRecord

# Vosk's unknown-word tokens (grammar mode): noise, not speech anyone said.
UNKNOWN_WORDS = frozenset({"[unk]", "<UNK>", "<unk>"})


def segment_from_result(result: Mapping[str, Any], *, speaker: str,
                        offset_s: float = 0.0) -> SegmentRecord | None:
    """One Vosk result (an utterance, with SetWords) as a segment, or None if it holds no
    known word. ``offset_s`` is subtracted from Vosk's times: a reused recogniser counts
    time from its first sample ever, not from this recording's."""
    words = [w for w in result.get("result", []) if w.get("word") not in UNKNOWN_WORDS]
    if not words:
        return None
    confidence = sum(float(w.get("conf", 0.0)) for w in words) / len(words)
    return SegmentRecord(
        speaker=speaker,
        start_s=round(max(0.0, float(words[0]["start"]) - offset_s), 3),
        end_s=round(max(0.0, float(words[-1]["end"]) - offset_s), 3),
        text=" ".join(str(w["word"]) for w in words),
        confidence=round(confidence, 4),
    )


def segments_from_results(results: Iterable[Mapping[str, Any]], *, speaker: str,
                          offset_s: float = 0.0) -> list[SegmentRecord]:
    found = (segment_from_result(r, speaker=speaker, offset_s=offset_s) for r in results)
    return [s for s in found if s is not None]


def in_time_order(segments: Iterable[SegmentRecord]) -> list[SegmentRecord]:
    """Both legs interleaved as the conversation went."""
    return sorted(segments, key=lambda s: (s.start_s, s.speaker))
