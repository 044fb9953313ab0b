"""Where a call's recordings live, and reading them back as 8 kHz 16-bit mono PCM.

MixMonitor writes three WAV files (legs) per answered call, named by ticket id, in one folder
per day (the ticket id starts with its date):
    <recordings_dir>/20261124/20261124-000001-citizen.wav   what the citizen said
    <recordings_dir>/20261124/20261124-000001-agent.wav     what the agent said
    <recordings_dir>/20261124/20261124-000001-mix.wav       both

A transfer's seat records its part of the call apart (asterisk_conf/dialplan.py, the
suffix agi/call_session.py gives a transfer's Dial): the part is named for the transfer
target, ":" made "-", e.g. 20261124-000001-expert-water-agent.wav or
20261124-000001-agent-seat-007-citizen.wav. On a part recorded from a consultation the
"citizen" leg is the consulting agent until the transfer completes.
"""

from __future__ import annotations

import re
import struct
import time
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tickets.ids import is_ticket_id
from tickets.models import RECORDING_LEGS
from tickets.records import EventRecord, TicketRecord

SAMPLE_RATE = 8000
TRANSCRIBED_LEGS = ("citizen", "agent")
WAV_HEADER_BYTES = 44


class CorruptAudio(ValueError):
    """A recording that cannot be read as 8 kHz 16-bit mono WAV."""


class RecordingMissing(FileNotFoundError):
    """No recording file where one should be."""


# "expert-water", "agent-seat-007": a kind and a name, nothing that could leave the folder.
PART_NAME = re.compile(r"[a-z]+-[A-Za-z0-9_-]{1,56}")


def is_part_name(part: str) -> bool:
    """"" (the first seat's part) or a transfer's part name."""
    return part == "" or PART_NAME.fullmatch(part) is not None


def part_name(transfer_target: str) -> str:
    """The part a transfer to "expert:water" or "agent:seat-007" records as."""
    return transfer_target.replace(":", "-")


def recording_path(recordings_dir: Path, ticket_id: str, leg: str, part: str = "") -> Path:
    if not is_ticket_id(ticket_id):
        raise ValueError(f"not a ticket id: {ticket_id!r}")
    if leg not in RECORDING_LEGS:
        raise ValueError(f"leg must be one of {', '.join(RECORDING_LEGS)}; got {leg!r}")
    if not is_part_name(part):
        raise ValueError(f"not a recording part: {part!r}")
    base = f"{ticket_id}-{part}" if part else ticket_id
    return recordings_dir / ticket_id[:8] / f"{base}-{leg}.wav"


@dataclass(frozen=True)
class RecordingPart:
    """One seat's recording of a call (its three legs)."""

    name: str  # "" the first seat's; "expert-water" after a transfer
    seat: str | None  # who answered it (None: a file no event explains)
    answered_at: datetime | None  # when its recording started, if known

    def path(self, recordings_dir: Path, ticket_id: str, leg: str) -> Path:
        return recording_path(recordings_dir, ticket_id, leg, self.name)

    def offset_s(self, first_answer: datetime | None) -> float:
        """Seconds from the ticket's first answer to this recording's start."""
        if self.answered_at is None or first_answer is None:
            return 0.0
        return max(0.0, (self.answered_at - first_answer).total_seconds())


def _answering_seat(event: EventRecord) -> str | None:
    words = event.detail.split()
    if not words:
        return None
    if event.kind == "answered":  # "seat=seat-051", maybe "(ticket already closed)" after
        return words[0].removeprefix("seat=") if words[0].startswith("seat=") else None
    return words[0]  # consult_answered: "seat-056"


def parts_from_events(record: TicketRecord) -> dict[str, RecordingPart]:
    """The parts the ticket's events say were recorded (see agi/call_session.py):
    "answered" starts the first seat's, or a blind transfer's ("transfer" "blind to
    expert:water"); "consult_answered" starts a consultation's ("consult" "seat-055 to
    expert:tax"). An answer again under the same name records over the earlier file (a
    requeue), so the last one counts. The "answered" that follows an attended transfer's
    completion records nothing: the consulted seat is recording already."""
    parts: dict[str, RecordingPart] = {}
    # The part the next answer of each kind records (None: one no file could be named for,
    # left out rather than failing the whole job).
    blind: str | None = ""
    consult: str | None = None
    completed_to: str | None = None
    for event in record.events:
        words = event.detail.split()
        if event.kind == "transfer" and words:
            blind = _valid_part(part_name(words[-1]))
        elif event.kind == "consult" and words:
            consult = _valid_part(part_name(words[-1]))
        elif event.kind == "transferred" and words[:1] == ["attended"]:
            completed_to = words[-1]
        elif event.kind in ("answered", "consult_answered"):
            seat = _answering_seat(event)
            if seat is None:
                continue
            if event.kind == "answered" and seat == completed_to:
                completed_to = None
            elif event.kind == "answered" and blind is not None:
                parts[blind] = RecordingPart(blind, seat, event.at)
            elif event.kind == "consult_answered" and consult:
                parts[consult] = RecordingPart(consult, seat, event.at)
    return parts


def _valid_part(name: str) -> str | None:
    return name if is_part_name(name) else None


def parts_on_disk(recordings_dir: Path, ticket_id: str) -> set[str]:
    """The part names of the ticket's recording files in its day folder."""
    folder = recordings_dir / ticket_id[:8]
    found: set[str] = set()
    if not folder.is_dir():
        return found
    for path in folder.glob(f"{ticket_id}-*.wav"):
        middle = path.name[len(ticket_id):-len(".wav")]  # "-citizen", "-expert-water-mix"
        for leg in RECORDING_LEGS:
            if middle.endswith(f"-{leg}"):
                name = middle[1:-len(f"-{leg}")]
                if is_part_name(name):
                    found.add(name)
                break
    return found


def recording_parts(recordings_dir: Path, record: TicketRecord) -> list[RecordingPart]:
    """Every recorded part of the ticket's call, the first seat's first: the ones its events
    name, and any other found on disk. The first seat's is always expected."""
    known = parts_from_events(record)
    first = known.pop("", None) or RecordingPart("", record.seat, record.answered_at)
    others = sorted(known.values(),
                    key=lambda p: p.answered_at.timestamp() if p.answered_at else 0.0)
    for name in sorted(parts_on_disk(recordings_dir, record.ticket_id) - set(known) - {""}):
        others.append(RecordingPart(name, _seat_in_name(name), None))
    return [first, *others]


def _seat_in_name(name: str) -> str | None:
    kind, _, rest = name.partition("-")
    return rest if kind == "agent" else None


def part_paths(recordings_dir: Path, ticket_id: str, parts: Iterable[RecordingPart],
               legs: Iterable[str]) -> list[tuple[RecordingPart, str, Path]]:
    legs = tuple(legs)
    return [(part, leg, part.path(recordings_dir, ticket_id, leg))
            for part in parts for leg in legs]


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
