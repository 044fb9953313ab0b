"""The SIPp scenarios and runner, proven SIPp-to-SIPp on loopback (no Asterisk).

Every test starts real sipp processes on free ports and stops them on the way out.
Citizens bind 127.0.0.2, as they do against Asterisk (the carrier trunk's address).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time
from pathlib import Path

import pytest

from tests.support.sipp import (
    EXIT_ALL_CALLS_OK,
    EXIT_SOME_CALL_FAILED,
    SipMessage,
    Sipp,
    SippTimeout,
    parse_stats,
    run,
    scenario_info,
)

pytestmark = pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp not installed")

CITIZEN_IP = "127.0.0.2"
RUN_TIMEOUT = 20.0  # sipp's own -timeout for client runs; they finish in well under 2 s


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def _remote(seat: Sipp) -> str:
    return f"{seat.local_ip}:{seat.local_port}"


def _seq(messages: list[SipMessage], direction: str) -> list[str]:
    """Compact ``INVITE`` / ``200 INVITE`` labels of the messages in one direction."""
    out = []
    for m in messages:
        if m.direction != direction:
            continue
        out.append(m.method if m.is_request else f"{m.status} {m.cseq_method}")
    return [x for x in out if x]


def _stopped_stats(seat: Sipp) -> tuple[int, int]:
    seat.stop()
    stats = seat.stats
    return stats.successful, stats.failed


@pytest.mark.parametrize("service", ["12345", "12319"])
def test_citizen_talk_against_seat_answer(workdir: Path, service: str) -> None:
    # A seat may be given the far end's address; as a server it answers the source.
    seat = Sipp("seat_answer", remote="127.0.0.1:9", workdir=workdir, variables={"ring_ms": 150})
    with seat:
        before = time.time()
        citizen = run(
            "citizen_talk",
            remote=_remote(seat),
            local_ip=CITIZEN_IP,
            service=service,
            caller="13800000001",
            variables={"talk_ms": 300, "extra_headers": "X-Hotline-Test: harness-1"},
            timeout_s=RUN_TIMEOUT,
            workdir=workdir,
        )
        after = time.time()
        assert citizen.returncode == EXIT_ALL_CALLS_OK, citizen.errors()
        assert citizen.stats.successful == 1 and citizen.stats.failed == 0

        invite = seat.wait_for_message(lambda m: m.method == "INVITE", timeout=2)
        assert invite.direction == "recv"
        assert invite.first_line == f"INVITE sip:{service}@{_remote(seat)} SIP/2.0"
        assert invite.headers["x-hotline-test"] == "harness-1"
        assert invite.headers["from"].startswith('"13800000001" <sip:13800000001@127.0.0.2:')
        assert "m=audio" in invite.body and "RTP/AVP 0 101" in invite.body
        assert "a=rtpmap:101 telephone-event/8000" in invite.body
        # Timestamps are wall-clock epoch seconds (sanity, not performance).
        assert before - 2 <= invite.at <= after + 2

        seat_msgs = seat.messages()
        assert _seq(seat_msgs, "sent") == ["100 INVITE", "180 INVITE", "200 INVITE", "200 BYE"]
        assert _seq(seat_msgs, "recv") == ["INVITE", "ACK", "BYE"]
        ringing = next(m for m in seat_msgs if m.status == 180)
        answer = next(m for m in seat_msgs if m.status == 200 and m.cseq_method == "INVITE")
        assert "m=audio" in answer.body and "a=rtpmap:0 PCMU/8000" in answer.body
        assert answer.at - ringing.at >= 0.14  # ring_ms=150 reached the <pause>

        mine = citizen.messages()
        ack = next(m for m in mine if m.method == "ACK")
        bye = next(m for m in mine if m.method == "BYE")
        assert bye.at - ack.at >= 0.29  # talk_ms=300
        assert bye.headers["call-id"] == invite.headers["call-id"]

        assert _stopped_stats(seat) == (1, 0)


def test_citizen_wait_bye_against_seat_answer_hangup(workdir: Path) -> None:
    with Sipp("seat_answer_hangup", workdir=workdir, variables={"talk_ms": 300}) as seat:
        citizen = run(
            "citizen_wait_bye",
            remote=_remote(seat),
            local_ip=CITIZEN_IP,
            service="12345",
            timeout_s=RUN_TIMEOUT,
            workdir=workdir,
        )
        assert citizen.returncode == EXIT_ALL_CALLS_OK, citizen.errors()
        assert _seq(citizen.messages(), "recv")[-1] == "BYE"
        assert _seq(citizen.messages(), "sent")[-1] == "200 BYE"
        assert _seq(seat.messages(), "sent")[-1] == "BYE"
        assert _stopped_stats(seat) == (1, 0)
        assert seat.returncode == EXIT_ALL_CALLS_OK


def test_seat_answer_hangup_accepts_far_end_bye(workdir: Path) -> None:
    with Sipp("seat_answer_hangup", workdir=workdir, variables={"talk_ms": 5000}) as seat:
        citizen = run(
            "citizen_talk",
            remote=_remote(seat),
            local_ip=CITIZEN_IP,
            service="12345",
            variables={"talk_ms": 200},
            timeout_s=RUN_TIMEOUT,
            workdir=workdir,
        )
        assert citizen.returncode == EXIT_ALL_CALLS_OK, citizen.errors()
        assert _seq(seat.messages(), "recv") == ["INVITE", "ACK", "BYE"]
        assert _stopped_stats(seat) == (1, 0)


@pytest.mark.parametrize(
    ("seat_scenario", "variables"),
    [("seat_no_answer", {}), ("seat_answer", {"ring_ms": 5000})],
)
def test_cancel_while_ringing(workdir: Path, seat_scenario: str, variables: dict[str, int]) -> None:
    with Sipp(seat_scenario, workdir=workdir, variables=variables) as seat:
        caller = run(
            "test_cancel_uac",
            remote=_remote(seat),
            service="seat-001",
            variables={"cancel_ms": 200},
            timeout_s=RUN_TIMEOUT,
            workdir=workdir,
        )
        assert caller.returncode == EXIT_ALL_CALLS_OK, caller.errors()
        seat_msgs = seat.messages()
        assert _seq(seat_msgs, "recv") == ["INVITE", "CANCEL", "ACK"]
        assert _seq(seat_msgs, "sent") == ["100 INVITE", "180 INVITE", "200 CANCEL", "487 INVITE"]
        invite = seat_msgs[0]
        assert invite.headers["x-hotline-ticket"] == "T-TEST-CANCEL"
        assert _stopped_stats(seat) == (1, 0)


def test_register_against_test_registrar(workdir: Path) -> None:
    registrar_vars = {"user": "seat-001", "password": "s3cret"}
    with Sipp("test_registrar", workdir=workdir, variables=registrar_vars) as registrar:
        remote = _remote(registrar)

        def register(scenario: str, **variables: str) -> Sipp:
            return run(
                scenario,
                remote=remote,
                variables={"user": "seat-001", **variables},
                timeout_s=RUN_TIMEOUT,
                workdir=workdir,
            )

        good = register("register", password="s3cret")
        assert good.returncode == EXIT_ALL_CALLS_OK, good.errors()
        sent = [m for m in good.messages() if m.method == "REGISTER"]
        assert len(sent) == 2 and "authorization" not in sent[0].headers
        assert sent[1].headers["authorization"].startswith('Digest username="seat-001"')
        assert f'uri="sip:{remote}"' in sent[1].headers["authorization"]
        assert sent[1].headers["contact"] == f"<sip:seat-001@127.0.0.1:{good.local_port}>"

        # domain sets the Request-URI, and the digest URI follows it (-auth_uri).
        domain = register("register", password="s3cret", domain="127.0.0.1", expires="60")
        assert domain.returncode == EXIT_ALL_CALLS_OK, domain.errors()
        sent = [m for m in domain.messages() if m.method == "REGISTER"]
        assert sent[1].first_line == "REGISTER sip:127.0.0.1 SIP/2.0"
        assert 'uri="sip:127.0.0.1"' in sent[1].headers["authorization"]
        assert sent[1].headers["expires"] == "60"

        bad = register("register", password="wrong")
        assert bad.returncode == EXIT_SOME_CALL_FAILED
        assert bad.stats.failed == 1
        assert bad.stats.failures == {"FailedRegexpDoesntMatch": 1}
        assert [m.status for m in bad.messages() if not m.is_request] == [401, 403]
        assert "BYE" not in _seq(bad.messages(), "sent")

        refused = register("register_wrong", password="wrong")
        assert refused.returncode == EXIT_ALL_CALLS_OK, refused.errors()

        accepted = register("register_wrong", password="s3cret", expires="5")
        assert accepted.returncode == EXIT_SOME_CALL_FAILED
        assert accepted.stats.failures == {"FailedRegexpDoesntMatch": 1}

        # The registrar's own view: 5 exchanges, each ended by its scenario.
        assert _stopped_stats(registrar) == (5, 0)


def test_citizen_rejected_passes_on_403(workdir: Path) -> None:
    with Sipp("test_reject_uas", workdir=workdir) as uas:
        citizen = run(
            "citizen_rejected",
            remote=_remote(uas),
            local_ip=CITIZEN_IP,
            service="12345",
            timeout_s=RUN_TIMEOUT,
            workdir=workdir,
        )
        assert citizen.returncode == EXIT_ALL_CALLS_OK, citizen.errors()
        assert citizen.stats.successful == 1
        msgs = citizen.messages()
        invite = next(m for m in msgs if m.method == "INVITE")
        ack = next(m for m in msgs if m.method == "ACK")
        # ACK for a non-2xx answer belongs to the INVITE transaction.
        assert ack.headers["via"] == invite.headers["via"]
        assert ack.first_line == invite.first_line.replace("INVITE", "ACK", 1)
        assert _seq(uas.messages(), "recv") == ["INVITE", "ACK"]
        assert _stopped_stats(uas) == (1, 0)


def test_citizen_rejected_fails_when_answered(workdir: Path) -> None:
    with Sipp("seat_answer", workdir=workdir) as seat:
        citizen = run(
            "citizen_rejected",
            remote=_remote(seat),
            local_ip=CITIZEN_IP,
            service="12345",
            timeout_s=RUN_TIMEOUT,
            workdir=workdir,
        )
        assert citizen.returncode == EXIT_SOME_CALL_FAILED
        assert citizen.stats.failed == 1 and citizen.stats.successful == 0
        assert citizen.stats.failures == {"FailedRegexpDoesntMatch": 1}
        assert "EXPECTED-INVITE-REJECTION" in citizen.errors()
        # Nothing dangles: the wrongly answered call was ACKed and hung up.
        assert _seq(citizen.messages(), "sent") == ["INVITE", "ACK", "BYE"]
        assert _stopped_stats(seat) == (1, 0)


@pytest.mark.parametrize(
    ("scenario", "digit", "event"),
    [("citizen_dtmf", "1", 1), ("citizen_dtmf", "#", 11), ("citizen_dtmf_talk", None, 1)],
)
def test_citizen_dtmf_sends_rfc2833(
    workdir: Path, scenario: str, digit: str | None, event: int
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rtp:
        rtp.bind(("127.0.0.1", 0))
        rtp.settimeout(0.2)
        rtp_port = rtp.getsockname()[1]
        sink_vars = {"rtp_port": rtp_port, "talk_ms": 1200}
        with Sipp("test_rtp_sink_uas", workdir=workdir, variables=sink_vars) as sink:
            variables = {"dtmf_delay_ms": 200}
            if scenario == "citizen_dtmf_talk":
                variables["talk_ms"] = 300  # hangs up itself, before the sink does
            citizen = Sipp(
                scenario,
                remote=_remote(sink),
                local_ip=CITIZEN_IP,
                service="12345",
                dtmf=digit,  # None: the runner's default, key "1"
                variables=variables,
                timeout_s=RUN_TIMEOUT,
                workdir=workdir,
            )
            packets: list[tuple[bytes, tuple[str, int]]] = []
            with citizen:
                deadline = time.monotonic() + 10
                while citizen.running and time.monotonic() < deadline:
                    with contextlib.suppress(TimeoutError):
                        packets.append(rtp.recvfrom(2048))
            assert citizen.returncode == EXIT_ALL_CALLS_OK, citizen.errors()
    assert len(packets) >= 3
    for data, (src_ip, _) in packets:
        assert src_ip == CITIZEN_IP
        assert data[1] & 0x7F == 101  # telephone-event payload type
        assert data[12] == event  # RFC 2833 event code


def test_timeout_messages_while_running_and_stop(workdir: Path) -> None:
    with Sipp("seat_answer", workdir=workdir) as seat:
        citizen = Sipp(
            "citizen_wait_bye",
            remote=_remote(seat),
            local_ip=CITIZEN_IP,
            service="12345",
            workdir=workdir,
        ).start()
        try:
            # The seat never hangs up: the citizen is still in the call...
            with pytest.raises(SippTimeout):
                citizen.wait(0.7)
            assert citizen.running
            # ...and its trace is readable while it runs.
            assert _seq(citizen.messages(), "sent") == ["INVITE", "ACK"]
            # Started without a terminal, in its own session.
            pid = citizen.pid
            assert pid is not None and os.getsid(pid) == pid
            tty_nr = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[4]
            assert tty_nr == "0"
        finally:
            citizen.stop(grace=0.3)
            citizen.stop()  # idempotent
        assert not citizen.running
        assert citizen.returncode is not None


def test_many_calls_one_seat(workdir: Path) -> None:
    with Sipp("seat_answer", workdir=workdir) as seat:
        citizen = run(
            "citizen_talk",
            remote=_remote(seat),
            local_ip=CITIZEN_IP,
            service="12345",
            calls=5,
            rate=20,
            concurrent_limit=5,
            variables={"talk_ms": 100},
            timeout_s=RUN_TIMEOUT,
            workdir=workdir,
        )
        assert citizen.returncode == EXIT_ALL_CALLS_OK, citizen.errors()
        assert citizen.stats.successful == 5
        invites = [m for m in seat.messages() if m.method == "INVITE"]
        assert len({m.call_id for m in invites}) == 5
        assert _stopped_stats(seat) == (5, 0)


def test_undeclared_variable_is_refused(workdir: Path) -> None:
    with pytest.raises(ValueError, match="talk_ms"):
        Sipp("citizen_wait_bye", remote="127.0.0.1:5060", variables={"talk_ms": 1}, workdir=workdir)
    with pytest.raises(ValueError, match="remote"):
        Sipp("citizen_talk", remote=None, workdir=workdir)


def test_scenarios_are_classified() -> None:
    servers = {"seat_answer", "seat_answer_hangup", "seat_answer_refer", "seat_answer_speak",
               "seat_no_answer", "test_registrar"}
    servers |= {"test_reject_uas", "test_rtp_sink_uas"}
    scenario_dir = Path(__file__).parent.parent / "sipp"
    for path in sorted(scenario_dir.glob("*.xml")):
        assert scenario_info(path).is_server == (path.stem in servers), path.name
    assert scenario_info("citizen_talk").variables >= {"caller", "talk_ms", "extra_headers"}


def test_message_log_parsing(tmp_path: Path) -> None:
    """Parser details that are awkward to provoke live: compact and folded headers,
    first value wins, a partly written last block, and stats from a CSV."""
    log = tmp_path / "x_messages.log"
    log.write_bytes(
        b"----------------------------------------------- 2026-01-02 03:04:05.250000\n"
        b"UDP message received [10] bytes :\n\n"
        b"SIP/2.0 200 OK\r\nv: SIP/2.0/UDP a;branch=1\r\nVia: SIP/2.0/UDP b\r\n"
        b"i: abc@x\r\nSubject: one\r\n two\r\nl: 4\r\n\r\nv=0\n\n"
        b"----------------------------------------------- 2026-01-02 03:04:06.000000\n"
        b"UDP message sent (99 bytes):\n\nINVITE sip:x SIP/2.0\r\nContent-Length: 50\r\n\r\nv=0"
    )
    seat = Sipp("seat_answer", workdir=tmp_path / "w")
    seat.message_file = log
    msgs = seat.messages()
    assert len(msgs) == 1  # the INVITE is incomplete and sipp "still running"
    msg = msgs[0]
    assert msg.at == 1767323045.25  # 2026-01-02T03:04:05.25Z
    assert (msg.direction, msg.status, msg.cseq_method) == ("recv", 200, None)
    assert msg.headers["via"] == "SIP/2.0/UDP a;branch=1"
    assert msg.call_id == "abc@x" and msg.headers["subject"] == "one two"
    assert msg.body == "v=0\n"

    stats_csv = tmp_path / "s.csv"
    stats_csv.write_text(
        "TotalCallCreated;CurrentCall;SuccessfulCall(C);FailedCall(C);FailedMaxUDPRetrans(C);"
        "CurrentTime;\n"
        "3;1;1;1;1;2026-01-02\t03:04:05.000000\t1767323045.000000;\n"
    )
    stats = parse_stats(stats_csv)
    assert (stats.created, stats.current, stats.successful, stats.failed) == (3, 1, 1, 1)
    assert stats.failures == {"FailedMaxUDPRetrans": 1}
    assert stats.at == 1767323045.0
