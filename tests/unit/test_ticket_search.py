"""Finding tickets (tickets/search.py) against real databases, a SQLite file and a throwaway
PostgreSQL server: pages cover every ticket exactly once, inserts between pages change
nothing already listed, each filter, the agent's rule in SQL agreeing with
tickets/participants.py, and every bad input refused in plain words. Then the API's list and
detail routes over a real SQLite file, and the skills' plain errors (API and CLI)."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from accounts.auth import Auth
from accounts.tokens import Principal, TokenSigner
from acd.routing import parse_skills
from hotline import cli
from hotline.api import deps
from hotline.api.routes import seats as seats_api
from hotline.api.routes import tickets as tickets_api
from hotline.migrate import upgrade
from infra.settings import Settings
from tickets.form import TicketForms
from tickets.participants import may_open
from tickets.search import (
    MAX_LIMIT,
    Position,
    SearchError,
    TicketQuery,
    caller_filter,
    day_range,
    decode_cursor,
    encode_cursor,
    limit_of,
    moment,
    outcome_filter,
    search,
    text_filter,
)
from tickets.store import TicketStore

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2026-11-24 10:00 in Shanghai.
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


_channels = itertools.count()


def call(store: TicketStore, when: datetime, *, caller: str = "13800000001",
         seat: str | None = None, outcome: str = "answered") -> str:
    """A call the way the call path writes it: answered by ``seat``, or abandoned."""
    ticket_id = store.open_ticket(caller=caller, dialled="12345",
                                  channel_id=f"ch-{next(_channels)}", at=when)
    store.mark_queued(ticket_id, at=when + timedelta(seconds=1))
    if outcome == "answered":
        assert seat is not None
        store.mark_answered(ticket_id, seat=seat, at=when + timedelta(seconds=4))
        store.close(ticket_id, outcome="answered", at=when + timedelta(seconds=30))
    elif outcome == "abandoned":
        store.close(ticket_id, outcome="abandoned", abandon_stage="queue",
                    at=when + timedelta(seconds=9))
    else:
        store.close(ticket_id, outcome=outcome, at=when + timedelta(seconds=2))
    return ticket_id


def all_pages(store: TicketStore, query: TicketQuery) -> list[list[str]]:
    pages: list[list[str]] = []
    after = None
    while True:
        page = search(store, TicketQuery(**{**query.__dict__, "after": after}))
        pages.append([t.ticket_id for t in page.tickets])
        if page.next_cursor is None:
            return pages
        after = decode_cursor(page.next_cursor)


# --- pagination --------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 100])
def test_pages_cover_every_ticket_once_newest_first(store: TicketStore, limit: int) -> None:
    # Ties on created_at (three calls in one microsecond) are broken by the primary key.
    moments = [at(0), at(0), at(0), at(5), at(9), at(9), at(60), at(3600), at(-30)]
    opened = [call(store, when, seat="seat-001") for when in moments]
    pages = all_pages(store, TicketQuery(limit=limit))
    flat = [ticket for page in pages for ticket in page]
    assert sorted(flat) == sorted(opened) and len(flat) == len(set(flat))
    assert all(len(page) == limit for page in pages[:-1]) and 0 < len(pages[-1]) <= limit
    records = {r.ticket_id: r for r in search(store, TicketQuery(limit=100)).tickets}
    order = [(records[t].created_at, records[t].id) for t in flat]
    assert order == sorted(order, reverse=True)


def test_a_full_last_page_says_there_is_no_more(store: TicketStore) -> None:
    for n in range(4):
        call(store, at(n), seat="seat-001")
    first = search(store, TicketQuery(limit=2))
    assert first.next_cursor is not None
    second = search(store, TicketQuery(limit=2, after=decode_cursor(first.next_cursor)))
    assert len(second.tickets) == 2 and second.next_cursor is None
    assert search(store, TicketQuery(caller="13999999999")).tickets == []


def test_calls_opened_between_pages_do_not_shift_the_pages(store: TicketStore) -> None:
    before = [call(store, at(n * 10), seat="seat-001") for n in range(10)]
    page = search(store, TicketQuery(limit=4))
    seen = [t.ticket_id for t in page.tickets]
    while page.next_cursor is not None:
        # New calls keep coming (newer than everything listed) while the agent pages on.
        call(store, at(1000 + len(seen)), seat="seat-002")
        page = search(store, TicketQuery(limit=4, after=decode_cursor(page.next_cursor)))
        seen += [t.ticket_id for t in page.tickets]
    assert seen == list(reversed(before))


def test_the_cursor_round_trips_and_refuses_what_it_did_not_write() -> None:
    position = Position(datetime(2026, 11, 24, 2, 0, 0, 123456, tzinfo=UTC), 42)
    assert decode_cursor(encode_cursor(position)) == position

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    for junk in ["", "x", "!!!", "é", "a" * 500, b64(b"not json"), b64(b"[]"), b64(b'{"t":1}'),
                 b64(b'{"t":"2026-11-24T02:00:00+00:00","i":-1}'),
                 b64(b'{"t":"2026-11-24T02:00:00+00:00","i":true}'),
                 b64(b'{"t":"2026-11-24T02:00:00+00:00","i":1e400}'),
                 b64(b'{"t":"2026-11-24T02:00:00","i":1}'),  # no zone
                 b64(b'{"t":"0001-01-01T00:00:00+08:00","i":1}'),  # before year 1 in UTC
                 b64(b"\xff\xfe")]:
        with pytest.raises(SearchError, match="cursor is not one this route gave out"):
            decode_cursor(junk)


# --- filters ------------------------------------------------------------------------------------


def ids(store: TicketStore, **filters: Any) -> set[str]:
    return {t.ticket_id for t in search(store, TicketQuery(limit=MAX_LIMIT, **filters)).tickets}


def test_filters_each_and_together(store: TicketStore) -> None:
    zone = SHANGHAI
    # 23:59 on the 24th and 00:00 on the 25th, Shanghai time: two local days.
    late = datetime(2026, 11, 24, 23, 59, 59, tzinfo=zone)
    midnight = datetime(2026, 11, 25, 0, 0, tzinfo=zone)
    a = call(store, late, caller="13800000001", seat="seat-001")
    b = call(store, midnight, caller="13800000001", outcome="abandoned")
    c = call(store, midnight + timedelta(hours=1), caller="13800000002", seat="seat-002")
    d = call(store, midnight + timedelta(hours=2), caller="anonymous", outcome="refused")

    assert ids(store, caller="13800000001") == {a, b}
    since, until = day_range("2026-11-24", zone)
    assert ids(store, since=since, until=until) == {a}
    since, until = day_range("2026-11-25", zone)
    assert ids(store, since=since, until=until) == {b, c, d}
    assert ids(store, since=midnight + timedelta(minutes=30)) == {c, d}
    assert ids(store, until=midnight) == {a}
    assert ids(store, outcome="abandoned") == {b}
    assert ids(store, outcome="refused") == {d}
    assert ids(store, seat="seat-002") == {c}
    assert ids(store, caller="13800000001", outcome="answered") == {a}
    assert ids(store, caller="13800000002", seat="seat-001") == set()


def test_text_is_found_in_summary_category_or_unit_literally(store: TicketStore) -> None:
    forms = TicketForms(store)
    water = call(store, at(0), seat="seat-001")
    forms.save(water, {"request_type": "投诉", "category": "050102", "urgency": "一般",
                       "summary": "小区 Water 停水三天 100% 无人管", "disposition": "转办",
                       "unit": "市水务局"})
    road = call(store, at(10), seat="seat-001")
    forms.save(road, {"request_type": "咨询", "category": "070301", "urgency": "一般",
                      "summary": "路灯不亮", "disposition": "直办", "unit": None})
    call(store, at(20), seat="seat-001")  # no form: every text column NULL

    assert ids(store, text="停水") == {water}
    assert ids(store, text="water") == {water}  # case-insensitive on both backends
    assert ids(store, text="水务") == {water}  # the unit
    assert ids(store, text="0703") == {road}  # the category code
    assert ids(store, text="100%") == {water}
    # LIKE's wildcards are literal characters in q.
    assert ids(store, text="%") == {water}
    assert ids(store, text="_") == set()
    assert ids(store, text="!") == set()


def test_the_agent_rule_in_sql_is_participants_rule(store: TicketStore) -> None:
    """spoke_on (SQL) and may_open (Python) agree for every seat on every shape of event,
    including seats whose names are prefixes of others' and LIKE's own wildcards."""
    blind = call(store, at(0), seat="seat-051")
    store.add_event(blind, "transferred", "blind by seat-051", at=at(35))
    store.mark_answered(blind, seat="seat-0512", at=at(36))  # late: the ticket is closed
    attended = store.open_ticket(caller="1380", dialled="12345", channel_id="att", at=at(40))
    store.mark_answered(attended, seat="seat-055", at=at(41))
    store.add_event(attended, "consult_answered", "seat-056", at=at(45))
    store.add_event(attended, "transferred", "attended by seat-055 to seat-057", at=at(50))
    store.mark_answered(attended, seat="seat-057", at=at(50))
    store.close(attended, outcome="answered", at=at(90))
    rang = store.open_ticket(caller="1381", dialled="12345", channel_id="rang", at=at(100))
    store.add_event(rang, "offered", "seat-060", at=at(101))
    store.add_event(rang, "answered", "seat-061 without its prefix", at=at(102))
    store.close(rang, outcome="abandoned", abandon_stage="ringing", at=at(105))
    odd = call(store, at(200), seat="seat_7")
    records = search(store, TicketQuery(limit=MAX_LIMIT)).tickets
    seats = ["seat-051", "seat-0512", "seat-05", "seat-055", "seat-056", "seat-057",
             "seat-060", "seat-061", "seat_7", "seat-7", "seat%7", "by", "to", "seat=seat-051"]
    for seat in seats:
        expected = {r.ticket_id for r in records if may_open(r, seat)}
        assert ids(store, visible_to_seat=seat) == expected, seat
        assert ids(store, seat=seat) == expected, seat
    assert ids(store, visible_to_seat="seat-051") == {blind}
    assert ids(store, visible_to_seat="seat-0512") == {blind}
    assert ids(store, visible_to_seat="seat-056") == {attended}
    assert ids(store, visible_to_seat="seat-060") == set()  # an offer is not speaking
    assert ids(store, visible_to_seat="seat_7") == {odd}
    assert ids(store, visible_to_seat="seat-7") == set()


# --- plain-word refusals ------------------------------------------------------------------------


def test_bad_filters_are_refused_in_plain_words() -> None:
    for withheld in ("anonymous", "unknown", "+", "abc", "1" * 40, "138\x000"):
        with pytest.raises(SearchError, match="withheld|control characters"):
            caller_filter(withheld)
    assert caller_filter(" 13800000001 ") == "13800000001"
    for day in ("2026-13-01", "2026-02-30", "20261124", "2026-W48-2", "24.11.2026", "0001-01-01",
                "9999-12-31", "２０２６-11-24"):
        with pytest.raises(SearchError, match="day"):
            day_range(day, SHANGHAI)
    start, end = day_range("2026-11-24", SHANGHAI)
    assert (start, end) == (datetime(2026, 11, 23, 16, tzinfo=UTC),
                            datetime(2026, 11, 24, 16, tzinfo=UTC))
    for bad in ("yesterday", "2026-11-24T08:00:00", "2026-11-24", "0001-01-01T00:00:00+08:00",
                "9999-12-31T23:59:59-08:00", "2026-11-24T08:00\x00+08:00"):
        with pytest.raises(SearchError, match="from"):
            moment("from", bad)
    assert moment("to", "2026-11-24T08:00:00Z") == datetime(2026, 11, 24, 8, tzinfo=UTC)
    with pytest.raises(SearchError, match="outcome must be one of answered, abandoned, refused"):
        outcome_filter("lost")
    for limit in (0, -1, MAX_LIMIT + 1, 10**30):
        with pytest.raises(SearchError, match=f"whole number from 1 to {MAX_LIMIT}"):
            limit_of(limit)
    with pytest.raises(SearchError, match="control characters"):
        text_filter("water\x00")


# --- the API ------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[TicketStore]:
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    upgrade(url)
    ticket_store = TicketStore(url)
    yield ticket_store
    ticket_store.dispose()


@pytest.fixture
def client(sqlite_store: TicketStore, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(state_dir=tmp_path, database_url=sqlite_store.database_url)
    app = FastAPI()
    app.include_router(tickets_api.router(Auth(TokenSigner("k" * 32, 3600)), settings))
    forms = TicketForms(sqlite_store)
    app.dependency_overrides[deps.forms] = lambda: forms
    with TestClient(app) as test_client:
        yield test_client


def token(role: str, seat: str | None) -> dict[str, str]:
    signed, _ = TokenSigner("k" * 32, 3600).issue(Principal(f"user-{seat}", role, seat))
    return {"Authorization": f"Bearer {signed}"}


def test_the_detail_route_gives_the_whole_ticket(client: TestClient,
                                                 sqlite_store: TicketStore) -> None:
    ticket_id = call(sqlite_store, T0, seat="seat-001")
    body = client.get(f"/api/tickets/{ticket_id}", headers=token("agent", "seat-001")).json()
    assert body["ticket_id"] == ticket_id and body["caller"] == "13800000001"
    assert body["dialled"] == "12345" and body["source"] == "ivr"
    assert (body["status"], body["outcome"], body["abandon_stage"]) == (
        "closed", "answered", None)
    assert body["seat"] == "seat-001" and body["seats"] == ["seat-001"]
    assert body["created_at"] == "2026-11-24T02:00:00+00:00"
    assert body["queued_at"] == "2026-11-24T02:00:01+00:00"
    assert body["answered_at"] == "2026-11-24T02:00:04+00:00"
    assert body["ended_at"] == "2026-11-24T02:00:30+00:00"
    assert (body["wait_seconds"], body["talk_seconds"]) == (3.0, 26.0)
    assert [e["kind"] for e in body["events"]] == ["opened", "queued", "answered", "closed"]
    assert body["events"][2] == {"id": body["events"][2]["id"],
                                 "at": "2026-11-24T02:00:04+00:00", "kind": "answered",
                                 "detail": "seat=seat-001"}
    for field in ("request_type", "category", "urgency", "summary", "disposition", "unit",
                  "department_hint"):
        assert body[field] is None
    assert client.get(f"/api/tickets/{ticket_id}",
                      headers=token("agent", "seat-002")).status_code == 403
    assert client.get("/api/tickets/20261124-999999",
                      headers=token("supervisor", None)).status_code == 404
    assert client.get("/api/tickets/nonsense", headers=token("admin", None)).status_code == 404
    assert client.get(f"/api/tickets/{ticket_id}").status_code == 401


def test_the_list_route_pages_filters_and_keeps_agents_to_their_tickets(
        client: TestClient, sqlite_store: TicketStore) -> None:
    mine = [call(sqlite_store, at(n), seat="seat-001") for n in range(5)]
    theirs = [call(sqlite_store, at(100 + n), seat="seat-002") for n in range(3)]
    boss, agent = token("supervisor", None), token("agent", "seat-001")

    def listed(headers: dict[str, str], **params: Any) -> list[str]:
        found: list[str] = []
        cursor = None
        while True:
            reply = client.get("/api/tickets", headers=headers,
                               params={**params, **({"cursor": cursor} if cursor else {})})
            assert reply.status_code == 200, reply.text
            found += [t["ticket_id"] for t in reply.json()["tickets"]]
            assert all("events" not in t for t in reply.json()["tickets"])
            cursor = reply.json()["next_cursor"]
            if cursor is None:
                return found

    assert listed(boss, limit=3) == list(reversed(mine + theirs))
    assert listed(agent, limit=2) == list(reversed(mine))
    assert listed(boss, seat="seat-002") == list(reversed(theirs))
    assert listed(agent, day="2026-11-24", outcome="answered") == list(reversed(mine))
    assert listed(boss, **{"from": "2026-11-24T10:01:40+08:00"}) == list(reversed(theirs))
    assert listed(agent, caller="13800000001", q="") == list(reversed(mine))
    # Another seat's tickets are not an agent's to search; its own seat is.
    assert client.get("/api/tickets", params={"seat": "seat-002"},
                      headers=agent).status_code == 403
    assert listed(agent, seat="seat-001") == list(reversed(mine))
    assert client.get("/api/tickets", headers=token("agent", None)).status_code == 403
    assert client.get("/api/tickets").status_code == 401


@pytest.mark.parametrize(("params", "words"), [
    ({"caller": "anonymous"}, "withheld numbers are all stored as 'anonymous'"),
    ({"day": "2026-11-31"}, "not a date on the calendar"),
    ({"day": "yesterday"}, "day must be a date written YYYY-MM-DD"),
    ({"from": "2026-11-24T08:00:00"}, "from needs a time zone"),
    ({"to": "soon"}, "to must be a date-time in ISO 8601"),
    ({"outcome": "lost"}, "outcome must be one of answered, abandoned, refused"),
    ({"limit": "0"}, "limit must be a whole number from 1 to 100"),
    ({"limit": "101"}, "limit must be a whole number from 1 to 100"),
    ({"cursor": "garbage"}, "cursor is not one this route gave out"),
    ({"q": "a\x00b"}, "q must not contain control characters"),
    ({"seat": "seat\x00"}, "seat must not contain control characters"),
])
def test_bad_search_input_is_422_in_plain_words(client: TestClient, params: dict[str, str],
                                                words: str) -> None:
    reply = client.get("/api/tickets", params=params, headers=token("supervisor", None))
    assert reply.status_code == 422, reply.text
    assert words in reply.json()["detail"]


# --- skills in plain words ----------------------------------------------------------------------


@pytest.mark.parametrize(("skills", "words"), [
    ("general:abc", "skill level must be a whole number from 1 to 99: 'general:abc'"),
    ("general:0", "from 1 to 99: 'general:0'"),
    ("general:100", "from 1 to 99: 'general:100'"),
    ("general:+5", "from 1 to 99: 'general:+5'"),
    ("general:1:2", "from 1 to 99: 'general:1:2'"),
    ("tax 1:2", "skill name 'tax 1' may hold only letters, digits, _ and -"),
    (":5", "skill ':5' has no name"),
    (" , ", "an agent needs at least one skill"),
    # Claiming another agent's own skill would take the calls transferred to that agent.
    ("general:1,agent_seat-002:1", "starting with 'agent_' are the system's own"),
])
def test_bad_skills_are_named_with_the_expected_form(skills: str, words: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_skills(skills)
    assert words in str(raised.value)
    assert "e.g. general:1,tax:5" in str(raised.value)
    assert "int()" not in str(raised.value) and "literal" not in str(raised.value)


def test_good_skills_still_parse() -> None:
    assert parse_skills("general:1, tax:5,water") == {"general": 1, "tax": 5, "water": 1}
    assert parse_skills("general: 3,") == {"general": 3}


def test_the_seat_api_answers_bad_skills_with_422_in_plain_words(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    app = FastAPI()
    app.include_router(seats_api.router(
        deps.SeatAuth(Auth(TokenSigner("k" * 32, 3600)), settings.seat_names()), settings))
    # The skills are checked before the ACD is asked: nothing here may reach it.
    app.dependency_overrides[deps.distributor] = lambda: None
    with TestClient(app) as test_client:
        reply = test_client.post("/api/seats/seat-001/login", json={"skills": "general:abc"},
                                 headers=token("agent", "seat-001"))
    assert reply.status_code == 422
    assert reply.json()["detail"].startswith(
        "skill level must be a whole number from 1 to 99: 'general:abc'")


def test_the_cli_prints_bad_skills_in_plain_words_and_exits_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOTLINE_STATE_DIR", str(tmp_path))
    # No Redis is running for this test: the skills must be refused before it is needed.
    monkeypatch.setenv("HOTLINE_REDIS_URL", "redis://127.0.0.1:9/0")
    code = cli.main(["seat", "login", "seat-001", "--skills", "general:abc"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("hotline: seat-001: skill level must be a whole number from 1 to 99")
    assert "int()" not in err and "Traceback" not in err
