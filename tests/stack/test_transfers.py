"""Transfers through the real stack: a seat sends its caller to an expert queue or to
another agent, blind (its softphone's REFER, or the seat API) or attended (the seat API's
consultation, completed when the agent hangs up), and the ticket follows the call: every
seat's part is recorded and transcribed, and every agent who spoke on it may open it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from acd.events import decode_entries
from tests.support.accounts import login_as
from tests.support.asr import AGENT_SAYS, AsrWorker, asr_env
from tests.support.ports import seat_port
from tests.support.sipp import Sipp
from tests.support.speech import speech_pcap
from tests.support.stack import Stack, wait_for
from transcription.recordings import recording_path
from transcription.store import TranscriptionStore

pytestmark = pytest.mark.stack


def acd_events(stack: Stack) -> list[dict[str, str]]:
    return [entry for _, entry in decode_entries(stack.redis.xrange("acd:events"))]


def seat(stack: Stack, n: int, scenario: str, tmp_path: Path, **variables: str) -> Sipp:
    return Sipp(scenario, remote=stack.sip_target, local_ip="127.0.0.1",
                local_port=seat_port(n), variables={"ring_ms": "100", **variables},
                workdir=tmp_path, label=f"seat{n}")


def caller(stack: Stack, tmp_path: Path, talk_ms: int) -> Sipp:
    return Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                calls=1, service="12345", variables={"talk_ms": str(talk_ms)},
                workdir=tmp_path, label="caller")


def queue_log_of(stack: Stack, uniqueid: str, last: str) -> list[list[str]]:
    """The call's queue_log lines, split into fields, once its `last` event is written."""
    path = stack.settings.log_dir / stack.settings.queue_log

    def lines() -> list[list[str]]:
        return [fields for row in path.read_text().splitlines()
                if (fields := row.split("|"))[1] == uniqueid]
    wait_for(lambda: any(f[4] == last for f in lines()), 10, f"{last} in queue_log")
    return lines()


def only_ticket(stack: Stack, before: int) -> str:
    assert stack.tickets.count() == before + 1  # the transfer opened no second ticket
    return stack.tickets.list_recent(limit=1)[0].ticket_id


def assert_all_ready(stack: Stack, *seats: str) -> None:
    for name in seats:
        wait_for(lambda name=name: stack.seat_state(name).get("state") == "ready", 10,
                 f"{name} to be ready again")
        assert stack.seat_state(name).get("call", "") == ""


def test_softphone_blind_transfer_to_an_expert_queue(stack: Stack, tmp_path: Path) -> None:
    before = stack.tickets.count()
    with seat(stack, 51, "seat_answer_refer.xml", tmp_path, talk_ms="4000",
              refer_to="796166") as first, \
            seat(stack, 52, "seat_answer.xml", tmp_path) as expert:
        stack.hotline("seat", "login", "seat-051", "--skills", "general:1")
        stack.hotline("seat", "login", "seat-052", "--skills", "expert_water:1")
        with caller(stack, tmp_path, 11500) as citizen:
            invite = expert.wait_for_message(lambda m: m.method == "INVITE", timeout=30)
            assert citizen.wait(timeout=40) == 0
        assert first.messages()  # the first seat did take the call
    ticket_id = only_ticket(stack, before)
    # The transfer's INVITE is labelled with the same ticket, once (the caller's channel
    # was labelled by the first session too).
    assert invite.header("x-hotline-ticket") == ticket_id
    assert invite.raw.lower().count("x-hotline-ticket:") == 1
    assert (invite.header("x-hotline-call") or "").endswith("-expert-water")
    assert invite.raw.lower().count("x-hotline-call:") == 1
    record = stack.wait_closed(ticket_id)
    assert (record.outcome, record.seat) == ("answered", "seat-052")
    kinds = [(e.kind, e.detail) for e in record.events]
    assert ("transferred", "blind by seat-051") in kinds
    assert ("transfer", "blind to expert:water") in kinds
    assert [d for k, d in kinds if k == "answered"] == ["seat=seat-051", "seat=seat-052"]
    events = acd_events(stack)
    offers = [(e["call"], e["seat"]) for e in events if e["type"] == "offered"]
    assert [s for _, s in offers] == ["seat-051", "seat-052"]
    assert offers[1][0] == f"{offers[0][0]}-expert-water"
    queued = [e for e in events if e["type"] == "enqueued"]
    assert [e["queue"] for e in queued] == ["general", "expert_water"]
    # Each seat's part of the call ended exactly once.
    assert sorted(e["seat"] for e in events if e["type"] == "ended") == ["seat-051", "seat-052"]
    assert_all_ready(stack, "seat-051", "seat-052")
    # queue_log as app_queue writes a blind transfer: the code the seat's own REFER named,
    # in the seats' context, then the caller queued again under its own uniqueid.
    refer = next(m for m in first.messages() if m.direction == "sent" and m.method == "REFER")
    code = (refer.header("refer-to") or "").split("sip:", 1)[1].split("@", 1)[0]
    log = queue_log_of(stack, offers[0][0], "COMPLETECALLER")
    assert [f[4] for f in log] == ["ENTERQUEUE", "CONNECT", "BLINDTRANSFER", "ENTERQUEUE",
                                   "CONNECT", "COMPLETECALLER"], log
    transfer = log[2]
    assert transfer[3] == "PJSIP/seat-051" and transfer[5:7] == [code, "from-seat"], transfer
    assert transfer[7] == log[1][5] and 3 <= int(transfer[8]) <= 5, transfer  # hold, talk
    assert (log[3][2], log[4][3]) == ("expert_water", "PJSIP/seat-052")
    # The expert's part is recorded beside the first seat's, not over it.
    first_mix = recording_path(stack.settings.recordings_dir, ticket_id, "mix")
    wait_for(lambda: (first_mix.parent / f"{ticket_id}-expert-water-mix.wav").is_file(), 10,
             "the expert's recording")
    assert first_mix.is_file()


def test_the_experts_part_is_transcribed_and_both_agents_open_the_ticket(
        stack: Stack, tmp_path: Path) -> None:
    _, expert_pcap = speech_pcap(AGENT_SAYS, tmp_path / "speech", "expert")
    worker = AsrWorker(asr_env(stack), "asr-transfer", tmp_path)
    try:
        worker.wait_ready(timeout=120)
        before = stack.tickets.count()
        with seat(stack, 57, "seat_answer_refer.xml", tmp_path, talk_ms="4000",
                  refer_to="796166"), \
                Sipp("seat_answer_speak.xml", remote=stack.sip_target, local_ip="127.0.0.1",
                     local_port=seat_port(58), variables={"ring_ms": "100"},
                     keys={"speech_pcap": str(expert_pcap)}, workdir=tmp_path,
                     label="seat58"):
            stack.hotline("seat", "login", "seat-057", "--skills", "general:1")
            stack.hotline("seat", "login", "seat-058", "--skills", "expert_water:1")
            with caller(stack, tmp_path, 14500) as citizen:
                assert citizen.wait(timeout=40) == 0
        ticket_id = only_ticket(stack, before)
        record = stack.wait_closed(ticket_id)
        assert (record.outcome, record.seat) == ("answered", "seat-058")
        transcriptions = TranscriptionStore(stack.tickets)
        wait_for(lambda: getattr(transcriptions.get(ticket_id), "status", "") == "done", 120,
                 "the transcript")
        transcript = transcriptions.get(ticket_id)
        assert transcript is not None
        # The expert's recording is transcribed too, labelled with its part and seat.
        expert = [s for s in transcript.segments if s.part == "expert-water"]
        assert [s.seat for s in expert if s.speaker == "agent"], transcript.segments
        assert {s.seat for s in expert} == {"seat-058"}
        assert {s.seat for s in transcript.segments if s.part == ""} <= {"seat-057"}
    finally:
        worker.stop()
    # Ticket.seat is the expert now; the first agent still opens its own ticket.
    url = f"{stack.api_url}/api/tickets/{ticket_id}"
    for name, seat_name in (("xfer057", "seat-057"), ("xfer058", "seat-058")):
        who = login_as(stack, name, "agent", seat_name)
        assert httpx.get(url, headers=who).status_code == 200
        for part in ("", "expert-water"):
            audio = httpx.get(f"{url}/recordings/mix", params={"part": part}, headers=who)
            assert audio.status_code == 200, (name, part, audio.text)
        parts = httpx.get(f"{url}/recordings", headers=who).json()
        assert [(p["part"], p["seat"]) for p in parts] == [
            ("", "seat-057"), ("expert-water", "seat-058")]
    stranger = login_as(stack, "xfer059", "agent", "seat-059")
    assert httpx.get(url, headers=stranger).status_code == 403
    assert_all_ready(stack, "seat-057", "seat-058")


def test_api_blind_transfer_to_another_agent(stack: Stack, tmp_path: Path) -> None:
    before = stack.tickets.count()
    with seat(stack, 53, "seat_answer.xml", tmp_path), \
            seat(stack, 54, "seat_answer.xml", tmp_path) as target:
        stack.hotline("seat", "login", "seat-053", "--skills", "general:1")
        # The target agent has no skill the caller's queue asks for: only the transfer
        # (to that very agent) reaches it.
        stack.hotline("seat", "login", "seat-054", "--skills", "tax:1")
        agent = login_as(stack, "transfer053", "agent", "seat-053")
        other = login_as(stack, "transfer054", "agent", "seat-054")
        with caller(stack, tmp_path, 9000) as citizen:
            wait_for(lambda: stack.seat_state("seat-053").get("state") == "on_call", 30,
                     "seat-053 to answer")
            url = f"{stack.api_url}/api/seats/seat-053/transfer"
            bad = httpx.post(url, json={"target": "agent:seat-999"}, headers=agent)
            assert bad.status_code == 422
            assert httpx.post(url, json={"target": "agent:seat-054"}).status_code == 401
            assert httpx.post(url, json={"target": "agent:seat-054"},
                              headers=other).status_code == 403
            reply = httpx.post(url, json={"target": "agent:seat-054"}, headers=agent)
            assert reply.status_code == 202, reply.text
            assert reply.json()["extension"] == "8054"
            target.wait_for_message(lambda m: m.method == "INVITE", timeout=20)
            assert citizen.wait(timeout=40) == 0
    record = stack.wait_closed(only_ticket(stack, before))
    assert (record.outcome, record.seat) == ("answered", "seat-054")
    first_call = [e["call"] for e in acd_events(stack)
                  if e["type"] == "offered" and e["seat"] == "seat-053"][-1]
    log = queue_log_of(stack, first_call, "COMPLETECALLER")
    transfer = next(f for f in log if f[4] == "BLINDTRANSFER")
    assert transfer[3:7] == ["PJSIP/seat-053", "BLINDTRANSFER", "8054", "from-seat"], log
    assert ("transfer", "blind to agent:seat-054") in [(e.kind, e.detail)
                                                       for e in record.events]
    assert_all_ready(stack, "seat-053", "seat-054")


def test_api_attended_transfer_completes_when_the_agent_hangs_up(
        stack: Stack, tmp_path: Path) -> None:
    before = stack.tickets.count()
    # The first agent talks 3 s, the seat API starts the consultation, and the agent hangs
    # up 6 s after answering: the caller is then with the expert, who stays busy.
    with seat(stack, 55, "seat_answer_hangup.xml", tmp_path, talk_ms="6000"), \
            seat(stack, 56, "seat_answer.xml", tmp_path) as expert:
        stack.hotline("seat", "login", "seat-055", "--skills", "general:1")
        stack.hotline("seat", "login", "seat-056", "--skills", "expert_tax:1")
        agent = login_as(stack, "transfer055", "agent", "seat-055")
        with caller(stack, tmp_path, 14000) as citizen:
            wait_for(lambda: stack.seat_state("seat-055").get("state") == "on_call", 30,
                     "seat-055 to answer")
            reply = httpx.post(f"{stack.api_url}/api/seats/seat-055/transfer",
                               json={"target": "expert:tax", "mode": "attended"},
                               headers=agent)
            assert reply.status_code == 202, reply.text
            expert.wait_for_message(lambda m: m.method == "INVITE", timeout=20)
            # The agent hung up: the expert is now on the caller's call, not freed.
            wait_for(lambda: stack.seat_state("seat-055").get("state") == "ready", 20,
                     "seat-055 to be freed by its hang-up")
            assert stack.seat_state("seat-056")["state"] == "on_call"
            assert citizen.wait(timeout=40) == 0
    record = stack.wait_closed(only_ticket(stack, before))
    assert (record.outcome, record.seat) == ("answered", "seat-056")
    kinds = [(e.kind, e.detail) for e in record.events]
    assert ("consult", "seat-055 to expert:tax") in kinds
    assert ("consult_answered", "seat-056") in kinds
    assert ("transferred", "attended by seat-055 to seat-056") in kinds
    assert_all_ready(stack, "seat-055", "seat-056")
    # The caller's own call ends in queue_log with the first agent's attended transfer.
    first_call = [e["call"] for e in acd_events(stack)
                  if e["type"] == "offered" and e["seat"] == "seat-055"][-1]
    log = queue_log_of(stack, first_call, "ATTENDEDTRANSFER")
    assert [f[4] for f in log] == ["ENTERQUEUE", "CONNECT", "ATTENDEDTRANSFER"], log
    assert log[2][3] == "PJSIP/seat-055" and log[2][5] == "BRIDGE" and len(log[2]) == 10
