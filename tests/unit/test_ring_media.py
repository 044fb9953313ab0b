"""The greeting as ring media: the intake plan, the music-on-hold folders and classes."""

from __future__ import annotations

import wave
from dataclasses import replace
from pathlib import Path

import pytest

from asterisk_conf.core import GREETING_CLASS, MOVED_GREETING_CLASS, musiconhold_conf
from infra.settings import Settings
from ivr_flows.intake import plan_for
from ivr_flows.ring_media import build_all, media_for, protected_s


def tone(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x01\x00" * int(8000 * seconds))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(state_dir=tmp_path / "state", asterisk_root=tmp_path / "root")
    for name, seconds in (("greeting_name", 2.5), ("greeting", 3.0), ("legacy_moved", 4.0)):
        tone(settings.prompts_dir / "zh" / f"{name}.wav", seconds)
    tone(settings.asterisk_root / "usr/share/asterisk/moh/macroform-the_simplicity.wav", 1.0)
    return settings


def test_a_class_plays_the_prompts_in_order_then_the_music(settings: Settings) -> None:
    build_all(settings)
    folder = settings.prompts_dir / "ring-media"
    assert sorted(p.name for p in (folder / GREETING_CLASS).iterdir()) == [
        "1-greeting_name.wav", "2-greeting.wav", "3-macroform-the_simplicity.wav"]
    assert sorted(p.name for p in (folder / MOVED_GREETING_CLASS).iterdir()) == [
        "1-legacy_moved.wav", "2-greeting_name.wav", "3-greeting.wav",
        "4-macroform-the_simplicity.wav"]
    # A second build copies nothing; a re-rendered prompt is copied again.
    assert build_all(settings) == []
    tone(settings.prompts_dir / "zh" / "greeting.wav", 3.5)
    assert [p.name for p in build_all(settings)] == ["2-greeting.wav", "3-greeting.wav"]


def test_the_part_that_always_plays_is_the_name_or_the_legacy_notice(
        settings: Settings) -> None:
    assert protected_s(settings, media_for(legacy=False)) == pytest.approx(2.5)
    assert protected_s(settings, media_for(legacy=True)) == pytest.approx(4.0)


def test_the_plan_marks_the_protected_steps_and_names_the_class(settings: Settings) -> None:
    plan = plan_for("12345", settings)
    assert plan.ring_media.music_class == GREETING_CLASS
    assert [(step.stage, Path(step.prompt).name, step.protected) for step in plan.steps] == [
        ("greeting", "greeting_name", True), ("greeting", "greeting", False)]
    legacy = plan_for(next(iter(settings.legacy_numbers)), settings)
    assert legacy.department_hint is not None
    assert legacy.ring_media.music_class == MOVED_GREETING_CLASS
    assert [(s.stage, s.protected) for s in legacy.steps] == [
        ("announcement", True), ("greeting", False), ("greeting", False)]
    yielding = plan_for("12345", replace(settings, greeting_first_part_always_plays=False))
    assert not any(step.protected for step in yielding.steps)


def test_musiconhold_conf_declares_each_class_sorted_with_its_music_looped(
        settings: Settings) -> None:
    conf = musiconhold_conf(settings)
    for name in (GREETING_CLASS, MOVED_GREETING_CLASS):
        section = conf.split(f"[{name}]")[1].split("[")[0]
        assert f"directory = {settings.prompts_dir / 'ring-media' / name}" in section
        assert "sort = alpha" in section and "loop_last = yes" in section
    assert conf.startswith("[default]")
