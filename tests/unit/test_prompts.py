"""Prompts render to 8 kHz mono WAV; a recorded file of the same name replaces the text."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

from ivr_flows.prompts import PROMPTS_SOURCE, prompt_names, render_prompt


def wav_format(path: Path) -> tuple[int, int, int, float]:
    with wave.open(str(path)) as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes() / \
            w.getframerate()


def test_every_prompt_exists_in_chinese_and_english() -> None:
    zh = prompt_names()
    en = sorted(p.stem for p in (PROMPTS_SOURCE / "en").glob("*.txt"))
    assert zh == en
    assert {"greeting_name", "greeting", "legacy_moved", "fallback_apology"} <= set(zh)
    moved = (PROMPTS_SOURCE / "zh" / "legacy_moved.txt").read_text()
    assert "已转移到" in moved and "市民服务热线" in moved


def test_text_renders_to_8khz_mono(tmp_path: Path) -> None:
    text = tmp_path / "hello.txt"
    text.write_text("您好，这里是一二三四五热线。")
    target = tmp_path / "out.wav"
    render_prompt(text, target, "cmn")
    rate, channels, width, seconds = wav_format(target)
    assert (rate, channels, width) == (8000, 1, 2)
    assert seconds > 1.0


def test_the_greeting_is_spoken_at_a_natural_pace(tmp_path: Path) -> None:
    """Measured on the rendered audio: Mandarin at 3.8–5.5 syllables a second (espeak's
    default pace, about 3, kept callers in the greeting for 11 s), English at 140–200 words
    a minute."""
    import re

    for language, voice in (("zh", "cmn"), ("en", "en")):
        text, seconds = "", 0.0
        for part in ("greeting_name", "greeting"):  # the service's name, then the rest
            source = PROMPTS_SOURCE / language / f"{part}.txt"
            target = tmp_path / f"{part}-{language}.wav"
            render_prompt(source, target, voice)
            seconds += wav_format(target)[3]
            text += " " + source.read_text()
        if language == "zh":
            pace = len(re.findall(r"[\u4e00-\u9fff]", text)) / seconds
            assert 3.8 <= pace <= 5.5, f"{pace:.2f} syllables/s"
        else:
            pace = len(text.split()) / seconds * 60
            assert 140 <= pace <= 200, f"{pace:.0f} words/min"


def test_recorded_file_replaces_the_rendered_one(tmp_path: Path) -> None:
    text = tmp_path / "hello.txt"
    text.write_text("您好")
    recorded = tmp_path / "hello.wav"
    # A "recording": 3 s of a 440 Hz tone, 16 kHz stereo, as a studio would deliver.
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "2", "-b", "16", str(recorded),
                    "synth", "3", "sine", "440"], check=True)
    target = tmp_path / "out.wav"
    render_prompt(text, target, "cmn")
    rate, channels, width, seconds = wav_format(target)
    assert (rate, channels, width) == (8000, 1, 2)
    assert abs(seconds - 3.0) < 0.05  # the recording's length, not the speech's
