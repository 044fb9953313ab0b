"""One Vosk recogniser per worker, reused for every recording.

A recogniser is made once (grammar or open vocabulary) and fed every job's audio. Vosk
counts word times from the first sample the recogniser ever saw, so this wrapper keeps
the count and gives times from the start of each recording.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from transcription.recordings import SAMPLE_RATE
from transcription.segments import segments_from_results
from transcription.store import SegmentRecord

CHUNK_BYTES = 8000  # half a second of 8 kHz 16-bit audio per AcceptWaveform call


def grammar_json(phrases: Sequence[str], unknown_word: str) -> str:
    """Vosk's grammar: the phrases, plus the model's unknown-word token so that other speech
    is not forced onto a phrase. Written unescaped: Vosk drops \\uXXXX words silently."""
    items = [p.strip() for p in phrases if p.strip()]
    return json.dumps([*items, unknown_word], ensure_ascii=False)


class Transcriber:
    def __init__(self, model: Any, *, phrases: Sequence[str] = (),
                 unknown_word: str = "[unk]") -> None:
        import vosk

        if phrases:
            self.recognizer = vosk.KaldiRecognizer(model, SAMPLE_RATE,
                                                   grammar_json(phrases, unknown_word))
        else:
            self.recognizer = vosk.KaldiRecognizer(model, SAMPLE_RATE)
        self.recognizer.SetWords(True)
        self.mode = "phrase list" if phrases else "open vocabulary"
        self._samples_seen = 0

    def transcribe(self, pcm: bytes, *, speaker: str) -> list[SegmentRecord]:
        """Segments of one leg's 8 kHz 16-bit mono audio, times from its first sample."""
        offset_s = self._samples_seen / SAMPLE_RATE
        results: list[dict[str, Any]] = []
        try:
            for start in range(0, len(pcm), CHUNK_BYTES):
                chunk = pcm[start:start + CHUNK_BYTES]
                accepted = self.recognizer.AcceptWaveform(chunk)
                self._samples_seen += len(chunk) // 2
                if accepted:
                    results.append(json.loads(self.recognizer.Result()))
            results.append(json.loads(self.recognizer.FinalResult()))
        except BaseException:
            # A half-fed recogniser would carry this audio into the next job.
            self.recognizer.Reset()
            raise
        return segments_from_results(results, speaker=speaker, offset_s=offset_s)
