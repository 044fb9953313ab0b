"""Where a call's recordings live, and reading them back as 8 kHz 16-bit mono PCM.

MixMonitor writes three WAV files per answered call, named by ticket id, in one folder per
day (the ticket id starts with its date):
    <recordings_dir>/20261124/20261124-000001-citizen.wav   what the citizen said
    <recordings_dir>/20261124/20261124-000001-agent.wav     what the agent said
    <recordings_dir>/20261124/20261124-000001-mix.wav       both
"""

from __future__ import annotations

import struct
import time
import wave
from pathlib import Path

from tickets.ids import is_ticket_id
from tickets.models import RECORDING_LEGS

SAMPLE_RATE = 8000
TRANSCRIBED_LEGS = ("citizen", "agent")
WAV_HEADER_BYTES = 44


class CorruptAudio(ValueError):
    """A recording that cannot be read as 8 kHz 16-bit mono WAV."""


class RecordingMissing(FileNotFoundError):
    """No recording file where one should be."""


def recording_path(recordings_dir: Path, ticket_id: str, leg: str) -> Path:
    if not is_ticket_id(ticket_id):
        raise ValueError(f"not a ticket id: {ticket_id!r}")
    if leg not in RECORDING_LEGS:
        raise ValueError(f"leg must be one of {', '.join(RECORDING_LEGS)}; got {leg!r}")
    return recordings_dir / ticket_id[:8] / f"{ticket_id}-{leg}.wav"


def _declared_data_bytes(head: bytes) -> int | None:
    """The data chunk size Asterisk wrote in a 44-byte WAV header, or None if not a WAV."""
    if len(head) < WAV_HEADER_BYTES or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    return int(struct.unpack("<I", head[40:44])[0])


def is_complete(path: Path) -> bool:
    """Asterisk fills in the WAV header's sizes when it closes the file: until then the
    header does not match the file's length."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            declared = _declared_data_bytes(f.read(WAV_HEADER_BYTES))
    except FileNotFoundError:
        return False
    return declared is not None and declared + WAV_HEADER_BYTES == size


def wait_until_complete(paths: list[Path], timeout_s: float) -> None:
    """Waits for Asterisk to close the files (it does so just after the hang-up). After the
    timeout the files are read as they are: a corrupt file fails the job with its reason."""
    deadline = time.monotonic() + timeout_s
    while not all(is_complete(p) for p in paths):
        if time.monotonic() > deadline:
            missing = [p for p in paths if not p.exists()]
            if missing:
                raise RecordingMissing(f"no recording at {', '.join(map(str, missing))}")
            return
        time.sleep(0.2)


def read_pcm(path: Path) -> bytes:
    """The samples of an 8 kHz 16-bit mono WAV; CorruptAudio says what is wrong otherwise."""
    try:
        with wave.open(str(path), "rb") as wav:
            shape = (wav.getframerate(), wav.getsampwidth(), wav.getnchannels())
            if shape != (SAMPLE_RATE, 2, 1):
                raise CorruptAudio(
                    f"{path.name}: expected 8000 Hz 16-bit mono, got {shape[0]} Hz "
                    f"{shape[1] * 8}-bit {shape[2]} channel(s)")
            frames = wav.readframes(wav.getnframes())
    except FileNotFoundError as exc:
        raise RecordingMissing(f"no recording at {path}") from exc
    except (wave.Error, EOFError, struct.error) as exc:
        raise CorruptAudio(f"{path.name}: not a readable WAV file ({exc})") from exc
    if len(frames) % 2:
        raise CorruptAudio(f"{path.name}: truncated sample data")
    return frames
