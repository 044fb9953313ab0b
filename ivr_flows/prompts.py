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

from infra.settings import Settings, load_settings

PROMPTS_SOURCE = Path(__file__).resolve().parent / "prompts"
# espeak-ng voice per prompt language.
VOICES = {"zh": "cmn", "en": "en"}
# Speaking rate per voice (espeak-ng -s). Its Mandarin at the default pace is about 3
# syllables a second, slow enough that callers hang up during the greeting; 280 gives
# about 4.3, a broadcaster's pace. English at 160 is about 180 words a minute.
RATES = {"cmn": 280, "en": 160}


def _to_8k(source: Path, target: Path) -> None:
    # Normalise to -3 dBFS first: espeak's peaks clip when resampled otherwise.
    subprocess.run(["sox", str(source), "-b", "16", "-e", "signed", str(target),
                    "channels", "1", "gain", "-n", "-3", "rate", "8000"], check=True)


def render_prompt(text_file: Path, target: Path, voice: str) -> None:
    recorded = text_file.with_suffix(".wav")
    if recorded.exists():
        _to_8k(recorded, target)
        return
    _speak(text_file.read_text(), target, voice)


def _speak(text: str, target: Path, voice: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spoken = Path(tmp) / "spoken.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(RATES.get(voice, 175)), "-w",
                        str(spoken), text], check=True)
        _to_8k(spoken, target)


def _fresh(target: Path, sources: list[Path]) -> bool:
    # This file counts as a source too: a change of voice or speed re-renders all.
    newest = max(p.stat().st_mtime for p in [*sources, Path(__file__)] if p.exists())
    return target.exists() and target.stat().st_mtime >= newest


def render_all(settings: Settings) -> list[Path]:
    """Renders every prompt that is missing or older than its source. Returns those done.

    `<name>.txt` is one prompt. `<name>.template` holds a text with `{n}` and a range
    (first line `range: 1-20`) and becomes `<name>_1` … `<name>_20`, such as the queue
    position announcements; a recorded `<name>_<n>.wav` replaces one of them.
    """
    rendered: list[Path] = []
    for language, voice in VOICES.items():
        source_dir = PROMPTS_SOURCE / language
        out_dir = settings.prompts_dir / language
        out_dir.mkdir(parents=True, exist_ok=True)
        for text_file in sorted(source_dir.glob("*.txt")):
            target = out_dir / f"{text_file.stem}.wav"
            if not _fresh(target, [text_file, text_file.with_suffix(".wav")]):
                render_prompt(text_file, target, voice)
                rendered.append(target)
        for template in sorted(source_dir.glob("*.template")):
            first, _, text = template.read_text().partition("\n")
            low, _, high = first.removeprefix("range:").strip().partition("-")
            for n in range(int(low), int(high) + 1):
                target = out_dir / f"{template.stem}_{n}.wav"
                recorded = source_dir / f"{template.stem}_{n}.wav"
                if _fresh(target, [template, recorded]):
                    continue
                if recorded.exists():
                    _to_8k(recorded, target)
                else:
                    _speak(text.strip().format(n=n), target, voice)
                rendered.append(target)
    return rendered


def prompt_names() -> list[str]:
    return sorted(p.stem for p in (PROMPTS_SOURCE / "zh").glob("*.txt"))


if __name__ == "__main__":
    done = render_all(load_settings())
    print(f"{len(done)} prompts rendered")
    sys.exit(0)
