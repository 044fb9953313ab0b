"""The suite's layout rule (tests/conftest.py), its one port table (tests/support/ports.py)
and how `hotline test --unit` runs tests/unit.

The rule is checked on what pytest collected in this very run, before -k / -m deselected
anything: a unit test's fixtures (all of them, through other fixtures too) include no stack
fixture, and every test under tests/stack/ carries the ``stack`` marker.
"""

from __future__ import annotations

import re
import socket
from typing import Literal

import pytest

from tests.conftest import COLLECTED, STACK_DIR, STACK_FIXTURES, TESTS_DIR, UNIT_DIR, in_dir
from tests.support import ports


def collected(request: pytest.FixtureRequest) -> list[pytest.Item]:
    return request.config.stash[COLLECTED]


def test_no_unit_test_takes_a_stack_fixture_or_the_stack_marker(
    request: pytest.FixtureRequest,
) -> None:
    unit = [item for item in collected(request) if in_dir(item, UNIT_DIR)]
    assert unit, "no item of tests/unit collected"
    wrong = [f"{item.nodeid}: {sorted(STACK_FIXTURES & set(fixtures))}"
             for item in unit
             if STACK_FIXTURES & set(fixtures := getattr(item, "fixturenames", ()))]
    assert not wrong, "unit tests that need the stack (move them to tests/stack/):\n" + \
        "\n".join(wrong)
    marked = [item.nodeid for item in unit if item.get_closest_marker("stack")]
    assert not marked, f"unit tests marked stack: {marked}"


def test_no_unit_test_asks_for_a_stack_fixture_by_name() -> None:
    # What the collected items cannot show: a fixture taken by name inside a test body.
    names = "|".join(sorted(STACK_FIXTURES))
    asks = re.compile(rf"getfixturevalue\(\s*['\"]({names})['\"]")
    wrong = [str(path.relative_to(TESTS_DIR)) for path in sorted(UNIT_DIR.glob("**/*.py"))
             if asks.search(path.read_text(encoding="utf-8"))]
    assert not wrong, f"unit test files that take a stack fixture: {wrong}"


def test_every_stack_test_carries_the_stack_marker(request: pytest.FixtureRequest) -> None:
    stack = [item for item in collected(request) if in_dir(item, STACK_DIR)]
    if not stack:
        pytest.skip("tests/stack was not collected in this run (say, --unit): a full run checks")
    unmarked = [item.nodeid for item in stack if item.get_closest_marker("stack") is None]
    assert not unmarked, f"stack tests without the stack marker: {unmarked}"


def test_test_modules_live_in_unit_or_stack_only() -> None:
    elsewhere = [str(path.relative_to(TESTS_DIR)) for path in sorted(TESTS_DIR.glob("**/test_*.py"))
                 if not (path.is_relative_to(UNIT_DIR) or path.is_relative_to(STACK_DIR))]
    assert not elsewhere, f"test modules outside tests/unit and tests/stack: {elsewhere}"


def test_the_port_table_has_no_two_services_on_one_port() -> None:
    taken: dict[int, str] = {}
    for stack_name, table in (("TEST", ports.TEST), ("BENCH", ports.BENCH)):
        fixed = {
            "sip": [table.sip], "ami": [table.ami], "acd": [table.acd], "redis": [table.redis],
            "api": [table.api],
            "fastagi": [table.fastagi + k for k in range(4)],  # up to four FastAGI nodes
            "seats": [table.seats + n for n in range(101)],  # 100 seats, or one shared port
        }
        for name, numbers in fixed.items():
            for number in numbers:
                assert number not in taken, f"{stack_name}.{name} {number} is {taken[number]}"
                taken[number] = f"{stack_name}.{name}"
    media = range(ports.seat_media_port(0), ports.seat_media_port(100) + 4)
    assert not set(media) & set(taken), "seats' RTP ports collide with a service"
    assert media.stop <= 20000, "seats' RTP ports reach Asterisk's RTP range"


@pytest.mark.parametrize(("kind", "sock_type"),
                         [("tcp", socket.SOCK_STREAM), ("udp", socket.SOCK_DGRAM)],
                         ids=["tcp", "udp"])
def test_free_port_can_be_bound(kind: Literal["tcp", "udp"], sock_type: int) -> None:
    port = ports.free_port(kind)
    assert 1024 <= port <= 65535
    with socket.socket(socket.AF_INET, sock_type) as sock:
        sock.bind(("127.0.0.1", port))


@pytest.mark.parametrize(("args", "named"), [
    ([], False),
    (["--unit", "-k", "acd"], False),  # "acd" is -k's value, though acd/ is a directory
    (["--unit", "-k", "faults and postgresql", "-s", "--durations=15"], False),
    (["--unit", "tests/unit/test_prompts.py"], True),
    (["--unit", "-x", "tests/unit/test_acd.py::test_wrap_up_is_timed_and_can_end_early"], True),
])
def test_hotline_test_unit_runs_in_parallel_only_when_no_test_is_named(
        args: list[str], named: bool) -> None:
    from hotline.cli import names_tests

    assert names_tests(args) is named
