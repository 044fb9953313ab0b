"""A real softphone as a seat: Debian's baresip, where every other stack test has SIPp.

baresip (tests/support/baresip.py) registers as seat-098 with that seat's password,
answers the citizen's call by itself and speaks a WAV file (espeak-ng Korean, looped) as
PCMU RTP. The product's recording of the agent leg must hold those words, by the stand-in
Vosk model in grammar mode with the workers' phrase list (as the transcription stack tests
configure them), where a silent recording of the same length holds none. Then baresip's
own transfer (a REFER, asked for through ctrl_tcp) sends a caller to the water experts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.settings import seat_name
from tests.support.asr import AGENT_SAYS, asr_env
from tests.support.baresip import Baresip
from tests.support.ports import free_port, seat_media_port, seat_port
from tests.support.sipp import Sipp
from tests.support.speech import RATE, long_recording, synthesise
from tests.support.stack import Stack, wait_for
from transcription.model import load_model
from transcription.recognizer import Transcriber
from transcription.recordings import is_complete, read_pcm, recording_path, wait_until_complete
from transcription.worker import read_phrases

pytestmark = pytest.mark.stack

SOFTPHONE = 98  # a registering seat (no static contact) no other stack test uses
EXPERT = 19  # a static seat (SIPp on seat_port(19)) no other stack test uses
WATER_EXPERTS = "796166"  # 7 + the water department's legacy number 96166
SPOKEN = {"네", "확인"}  # AGENT_SAYS, as the phrase list spells it


@pytest.fixture
def softphone(sqlite_stack: Stack, tmp_path: Path) -> Iterator[Baresip]:
    """baresip registered as seat-098, speaking AGENT_SAYS over and over. Looped and long:
    the bridge waits for the greeting's first part, so the citizen misses the first words,
    and baresip hangs up when its file ends (the citizen must hang up first)."""
    stack = sqlite_stack
    speech = synthesise(AGENT_SAYS, tmp_path / "agent-says.wav")
    audio = long_recording(speech, 60, tmp_path / "softphone.wav")
    name = seat_name(SOFTPHONE)
    phone = Baresip(seat=name, password=stack.secrets.seat_passwords[name],
                    registrar=stack.sip_target, sip_port=seat_port(SOFTPHONE),
                    rtp_port=seat_media_port(SOFTPHONE), ctrl_port=free_port(),
                    audio=audio, workdir=tmp_path)
    with phone:
        phone.wait_registered(stack)
        yield phone
    # It unregistered as it quit: no contact is left for the next test.
    wait_for(lambda: f"{name}/sip:" not in stack.asterisk("pjsip show contacts"), 10,
             f"{name} to unregister")


def citizen(stack: Stack, tmp_path: Path, talk_ms: int) -> Sipp:
    return Sipp("citizen_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2", calls=1,
                service="12345", variables={"talk_ms": str(talk_ms)}, workdir=tmp_path,
                label="citizen")


def new_ticket(stack: Stack, before: int) -> str:
    wait_for(lambda: stack.tickets.count() > before, 10, "the ticket")
    assert stack.tickets.count() == before + 1
    return stack.tickets.list_recent(limit=1)[0].ticket_id


def grammar_transcriber(stack: Stack) -> Transcriber:
    """What a worker makes of the transcription stack tests' settings (asr_env): the
    stand-in model, the phrase list as a Vosk grammar, the model's unknown word."""
    env = asr_env(stack)
    transcriber = Transcriber(load_model(env["HOTLINE_ASR_MODEL_PATH"]),
                              phrases=read_phrases(env["HOTLINE_ASR_PHRASES_FILE"]),
                              unknown_word=env["HOTLINE_ASR_UNKNOWN_WORD"])
    assert transcriber.mode == "phrase list"
    return transcriber


def words(transcriber: Transcriber, pcm: bytes) -> list[str]:
    return [w for s in transcriber.transcribe(pcm, speaker="agent") for w in s.text.split()]


def test_baresip_answers_and_its_words_are_on_the_agent_leg(
        sqlite_stack: Stack, softphone: Baresip, tmp_path: Path) -> None:
    stack, name = sqlite_stack, seat_name(SOFTPHONE)
    before = stack.tickets.count()
    stack.seat_ready(name)
    with citizen(stack, tmp_path, talk_ms=15000) as caller:
        answered = softphone.wait_event("CALL_ESTABLISHED", timeout=20)
        assert answered["direction"] == "incoming"
        assert caller.wait(timeout=40) == 0
    # The citizen's hang-up reached the softphone (it did not end the call itself).
    assert softphone.wait_event("CALL_CLOSED", timeout=10)["id"] == answered["id"]
    ticket = stack.wait_closed(new_ticket(stack, before))
    assert (ticket.outcome, ticket.seat) == ("answered", name)
    assert ticket.talk_seconds is not None and ticket.talk_seconds > 10

    agent = recording_path(stack.settings.recordings_dir, ticket.ticket_id, "agent")
    wait_until_complete([agent], 10)
    assert is_complete(agent)
    pcm = read_pcm(agent)
    assert len(pcm) / 2 / RATE > 10  # recorded from the seat's answer to the hang-up
    transcriber = grammar_transcriber(stack)
    # The audio crossed baresip's encoder, RTP and Asterisk: each word must be heard, and
    # more than once (the file says them every ~3 s, the leg is ~14 s long).
    heard = words(transcriber, pcm)
    assert set(heard) >= SPOKEN, heard
    assert heard.count("확인") >= 2, heard
    # The check can fail: the same grammar hears nothing in silence of the same length,
    # nor on the citizen's leg of this call (the SIPp citizen sends no audio).
    assert words(transcriber, bytes(len(pcm))) == []
    citizen_leg = recording_path(stack.settings.recordings_dir, ticket.ticket_id, "citizen")
    wait_until_complete([citizen_leg], 10)
    assert words(transcriber, read_pcm(citizen_leg)) == []


def in_bridge(stack: Stack, seat: str) -> bool:
    """The seat's channel is in a bridge (with the citizen): BridgeID, the last field but
    one of `core show channels concise`, is set. Until the greeting's first part has
    played the seat's channel waits, answered, in no bridge."""
    rows = stack.asterisk("core show channels concise").splitlines()
    return any(row.startswith(f"PJSIP/{seat}-") and row.split("!")[-2] for row in rows)


def test_baresip_blind_transfers_with_its_own_refer(
        sqlite_stack: Stack, softphone: Baresip, tmp_path: Path) -> None:
    stack, name, expert_name = sqlite_stack, seat_name(SOFTPHONE), seat_name(EXPERT)
    before = stack.tickets.count()
    with Sipp("seat_answer.xml", remote=stack.sip_target, local_ip="127.0.0.1",
              local_port=seat_port(EXPERT), variables={"ring_ms": "100"}, workdir=tmp_path,
              label="expert") as expert:
        stack.hotline("seat", "login", name, "--skills", "general:1")
        stack.hotline("seat", "login", expert_name, "--skills", "expert_water:1")
        with citizen(stack, tmp_path, talk_ms=12000) as caller:
            answered = softphone.wait_event("CALL_ESTABLISHED", timeout=20)
            # A person transfers once talking: after the greeting's part, in the bridge.
            wait_for(lambda: in_bridge(stack, name), 10, "the softphone bridged with the citizen")
            reply = softphone.command("transfer", WATER_EXPERTS)
            assert reply["ok"], reply
            invite = expert.wait_for_message(lambda m: m.method == "INVITE", timeout=20)
            # baresip hangs up by itself once the PBX's NOTIFY reports the new call's 200.
            closed = softphone.wait_event("CALL_CLOSED", timeout=15)
            assert closed["id"] == answered["id"]
            assert caller.wait(timeout=40) == 0
    assert not [e for e in softphone.events if e.get("type") == "TRANSFER_FAILED"]
    # baresip's own REFER, to the code on the PBX (its trace is in the log).
    host = stack.sip_target
    assert f"Refer-To: sip:{WATER_EXPERTS}@{host}" in softphone.log.read_text(errors="replace")
    ticket_id = new_ticket(stack, before)  # the transfer opened no second ticket
    assert invite.header("x-hotline-ticket") == ticket_id
    assert (invite.header("x-hotline-call") or "").endswith("-expert-water")
    record = stack.wait_closed(ticket_id)
    assert (record.outcome, record.seat) == ("answered", expert_name)
    kinds = [(e.kind, e.detail) for e in record.events]
    assert ("transferred", f"blind by {name}") in kinds
    assert ("transfer", "blind to expert:water") in kinds
    assert [d for k, d in kinds if k == "answered"] == [f"seat={name}", f"seat={expert_name}"]
    for seat in (name, expert_name):  # each seat's part ended, and the seat is free again
        wait_for(lambda seat=seat: stack.seat_state(seat).get("state") == "ready", 10,
                 f"{seat} to be ready again")
