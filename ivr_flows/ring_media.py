"""The greeting as the seat's ring media: music-on-hold classes that play the intake's
prompts once, then hold music for as long as the call waits.

A caller is queued the moment the call is answered. If a seat is free, it rings at once
and the caller hears the greeting meanwhile (Dial's m(<class>)), so an idle agent never
waits for the greeting to end. res_musiconhold plays a files-mode class in name order,
`loop_last` repeats only the last file (the music), and a class restarted on the same
channel resumes where it stopped: a second ring, or the wait between two rings, goes on
with the greeting instead of starting it again.

    <prompts_dir>/ring-media/<class>/1-<prompt>.wav … n-hold.wav

The first part of each class (the service's name; for a legacy number, the notice that
its line has moved) always plays: the seat's answer routine holds the bridge until
it is over (see `protected_s`). The rest yields to the agent's answer.
"""

from __future__ import annotations

import functools
import shutil
import wave
from dataclasses import dataclass
from pathlib import Path

from asterisk_conf.core import GREETING_CLASS, MOVED_GREETING_CLASS, ring_media_dir
from infra.settings import Settings

# The hold music after the greeting: one file of Debian's asterisk-moh-opsound-wav (a
# class loops its last file only).
HOLD_MUSIC = "usr/share/asterisk/moh/macroform-the_simplicity.wav"


@dataclass(frozen=True)
class RingMedia:
    music_class: str
    protected: tuple[str, ...]  # prompts that always play in full
    rest: tuple[str, ...]  # prompts that yield to the agent's answer

    @property
    def prompts(self) -> tuple[str, ...]:
        return self.protected + self.rest


RING_MEDIA = (
    RingMedia(GREETING_CLASS, protected=("greeting_name",), rest=("greeting",)),
    # The notice names the hotline already: the name after it may yield.
    RingMedia(MOVED_GREETING_CLASS, protected=("legacy_moved",),
              rest=("greeting_name", "greeting")),
)


def media_for(legacy: bool) -> RingMedia:
    return RING_MEDIA[1] if legacy else RING_MEDIA[0]


@functools.lru_cache(maxsize=64)
def _wav_seconds(path: str, mtime: float) -> float:
    with wave.open(path) as audio:
        return audio.getnframes() / audio.getframerate()


def wav_seconds(path: Path) -> float:
    """A WAV file's length; read once per version of the file (each call asks for it)."""
    return _wav_seconds(str(path), path.stat().st_mtime)


def protected_s(settings: Settings, media: RingMedia) -> float:
    """How long the part that always plays lasts, from the rendered prompts."""
    folder = settings.prompts_dir / settings.language
    return sum(wav_seconds(folder / f"{name}.wav") for name in media.protected)


def build_all(settings: Settings) -> list[Path]:
    """Fills each class's folder from the rendered prompts of `settings.language` and the
    hold music. Returns the files written (a file already equal in size is kept)."""
    written: list[Path] = []
    music = settings.asterisk_root / HOLD_MUSIC
    for media in RING_MEDIA:
        folder = ring_media_dir(settings, media.music_class)
        folder.mkdir(parents=True, exist_ok=True)
        sources = [settings.prompts_dir / settings.language / f"{name}.wav"
                   for name in media.prompts]
        if music.exists():
            sources.append(music)
        wanted = {f"{n}-{source.stem}.wav": source for n, source in enumerate(sources, 1)}
        for stale in folder.glob("*.wav"):
            if stale.name not in wanted:
                stale.unlink()
        for name, source in wanted.items():
            target = folder / name
            if target.exists() and target.stat().st_size == source.stat().st_size and \
                    target.stat().st_mtime >= source.stat().st_mtime:
                continue
            shutil.copyfile(source, target)
            written.append(target)
    return written
