"""Which processes `hotline up` runs, by the settings."""

from __future__ import annotations

from hotline import services
from infra.settings import Settings


def test_no_transcription_worker_without_a_model() -> None:
    settings = Settings(asr_model_path="")
    assert services.asr_services(settings) == []
    assert "asr" not in [s.name for s in services.all_services(settings)]


def test_workers_by_the_settings_each_with_its_own_health_port() -> None:
    settings = Settings(asr_model_path="/srv/vosk-model-cn-0.22", asr_workers=2,
                        asr_health_port=4700)
    workers = services.asr_services(settings)
    assert [(w.name, w.host, w.port) for w in workers] == [
        ("asr", "127.0.0.1", 4700), ("asr-2", "127.0.0.1", 4701)]
    assert all(w.argv[-2:] == ["--health-port", str(w.port)] for w in workers)
    assert [s.name for s in services.all_services(settings)][-2:] == ["asr", "asr-2"]
    assert services.asr_services(Settings(asr_model_path="/m", asr_workers=0)) == []
