"""Loading the Vosk model once per worker, with a clear error when the path is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# What every Kaldi/Vosk model folder holds (the big cn-0.22 and the small ones alike).
REQUIRED_FILES = ("am/final.mdl", "conf/model.conf")


class ModelError(RuntimeError):
    """The configured model path is missing or is not a Vosk model."""


def check_model_path(raw: str) -> Path:
    if not raw:
        raise ModelError("no Vosk model configured: set HOTLINE_ASR_MODEL_PATH to the model "
                         "folder (vosk-model-cn-0.22 or vosk-model-small-cn-0.22)")
    path = Path(raw)
    if not path.is_dir():
        raise ModelError(f"HOTLINE_ASR_MODEL_PATH={raw}: no such folder")
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise ModelError(f"HOTLINE_ASR_MODEL_PATH={raw}: not a Vosk model "
                         f"(missing {', '.join(missing)})")
    return path


def load_model(raw: str) -> Any:
    """The vosk.Model at the path (about 2 s and a few hundred MB: once per worker)."""
    path = check_model_path(raw)
    import vosk

    vosk.SetLogLevel(-1)
    try:
        return vosk.Model(str(path))
    except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
        raise ModelError(f"HOTLINE_ASR_MODEL_PATH={raw}: Vosk could not load it: {exc}") from exc
