"""Prompts: text files rendered to 8 kHz mono WAV at set-up (espeak-ng + sox).

A recorded `<name>.wav` beside `<name>.txt` replaces the rendered one (it is only
converted to 8 kHz mono). Output goes to the git-ignored state dir; a prompt is rendered
again only when its source is newer than the output.

    python -m ivr_flows.prompts
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from hotline.settings import Settings, load_settings

PROMPTS_SOURCE = Path(__file__).resolve().parent / "prompts"
# espeak-ng voice per prompt language.
VOICES = {"zh": "cmn", "en": "en"}


def _to_8k(source: Path, target: Path) -> None:
    # Normalise to -3 dBFS first: espeak's peaks clip when resampled otherwise.
    subprocess.run(["sox", str(source), "-b", "16", "-e", "signed", str(target),
                    "channels", "1", "gain", "-n", "-3", "rate", "8000"], check=True)


def render_prompt(text_file: Path, target: Path, voice: str) -> None:
    recorded = text_file.with_suffix(".wav")
    if recorded.exists():
        _to_8k(recorded, target)
        return
    with tempfile.TemporaryDirectory() as tmp:
        spoken = Path(tmp) / "spoken.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "190", "-w", str(spoken),
                        "-f", str(text_file)], check=True)
        _to_8k(spoken, target)


def render_all(settings: Settings) -> list[Path]:
    """Renders every prompt that is missing or older than its source. Returns those done."""
    rendered: list[Path] = []
    for language, voice in VOICES.items():
        out_dir = settings.prompts_dir / language
        out_dir.mkdir(parents=True, exist_ok=True)
        for text_file in sorted((PROMPTS_SOURCE / language).glob("*.txt")):
            target = out_dir / f"{text_file.stem}.wav"
            # This file counts as a source too: a change of voice or speed re-renders all.
            sources = [text_file, text_file.with_suffix(".wav"), Path(__file__)]
            newest = max(p.stat().st_mtime for p in sources if p.exists())
            if target.exists() and target.stat().st_mtime >= newest:
                continue
            render_prompt(text_file, target, voice)
            rendered.append(target)
    return rendered


def prompt_names() -> list[str]:
    return sorted(p.stem for p in (PROMPTS_SOURCE / "zh").glob("*.txt"))


if __name__ == "__main__":
    done = render_all(load_settings())
    print(f"{len(done)} prompts rendered")
    sys.exit(0)
