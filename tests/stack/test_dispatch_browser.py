"""The dispatch desk (/dispatch, 调度台) in headless Chromium, on tickets made through the
real store and API: a call answered and left undecided is under 待派 and the dispatcher
转办s it (after a 409: a supervisor put it under 督办 behind the page's back); a ticket
every unit replied to is under 待回访, gets its 回访 (solved, satisfied), moves to 待归档
and is archived. A dispatcher sees no 催办/督办/批示. A supervisor then picks both tickets,
makes a 呈报 (downloaded with the token), records the leaders' 批示 (refused in plain words
on the archived one) and exports them for 发布. Every step is checked against the API.
Screenshots are kept in test-artifacts/dispatch-*.png."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.support.accounts import add_user, login_as, token
from tests.support.browser import ARTIFACTS
from tests.support.page import attr, js, shown, text, timeline
from tests.support.stack import Stack

pytestmark = pytest.mark.stack

SHIZHONG = "370103"  # 市中区 (units/data/units.csv); 370102 is other tests'
CGJ, STHJJ = "370100-cgj", "370100-sthjj"  # 市城市管理局, 市生态环境局
SUPERVISOR_ONLY = ("do-urge", "do-supervise", "do-instruct")


def listed(chrome: webdriver.Chrome, which: str) -> list[str]:
    """The ticket ids of the list's rows, once the list shown is ``which``."""
    ids = js(chrome, "const t = document.querySelector('#list');"
                     " if (t.dataset.list !== arguments[0]) return [];"
                     " return [...t.querySelectorAll('tbody tr')].map(tr => tr.dataset.ticket);",
             which)
    return [str(i) for i in cast(list[str], ids)]


def sign_in(stack: Stack, chrome: webdriver.Chrome, user: str, password: str) -> WebDriverWait:
    chrome.get(f"{stack.api_url}/dispatch")
    wait = WebDriverWait(chrome, 20)
    wait.until(lambda b: shown(b, "#login"))
    chrome.find_element(By.ID, "user").send_keys(user)
    chrome.find_element(By.ID, "password").send_keys(password)
    chrome.find_element(By.CSS_SELECTOR, "#login button").click()
    wait.until(lambda b: shown(b, "#desk") and attr(b, "#dispatch-unit", "data-ready") == "1")
    return wait


def choose_list(chrome: webdriver.Chrome, wait: WebDriverWait, which: str,
                ticket_id: str) -> None:
    chrome.find_element(By.CSS_SELECTOR, f'#lists button[data-list="{which}"]').click()
    wait.until(lambda b: ticket_id in listed(b, which))


def open_case(chrome: webdriver.Chrome, wait: WebDriverWait, ticket_id: str) -> None:
    chrome.find_element(By.CSS_SELECTOR, f'#list tr[data-ticket="{ticket_id}"] .ticket-id').click()
    wait.until(lambda b: shown(b, "#detail") and text(b, "#detail-id") == ticket_id)


def act(chrome: webdriver.Chrome, wait: WebDriverWait, button: str,
        message: str = "#action-msg") -> str:
    """Clicks a button and waits for the page's answer (done or refused); returns it."""
    js(chrome, "document.querySelector(arguments[0]).dataset.status = 'clicked';", message)
    chrome.find_element(By.ID, button).click()
    wait.until(lambda b: attr(b, message, "data-status") not in ("clicked", "")
               and text(b, message) not in ("", "正在提交…", "sending…"))
    return text(chrome, message)


def answered_ticket(stack: Stack, caller: str) -> str:
    """A call answered by seat-001 and ended; its form never saved."""
    at = datetime.now(UTC)
    ticket_id = stack.tickets.open_ticket(caller=caller, dialled="12345",
                                          channel_id=f"dispatch-{secrets.token_hex(8)}", at=at)
    stack.tickets.mark_answered(ticket_id, seat="seat-001", at=at)
    stack.tickets.close(ticket_id, outcome="answered", at=datetime.now(UTC), seat="seat-001")
    return ticket_id


def number() -> str:
    return "135" + "".join(secrets.choice("0123456789") for _ in range(8))


def get(api: str, path: str, who: dict[str, str], **params: str) -> Any:
    reply = httpx.get(f"{api}{path}", params=params, headers=who)
    assert reply.status_code == 200, reply.text
    return reply.json()


def post(api: str, path: str, who: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    reply = httpx.post(f"{api}{path}", json=body, headers=who)
    assert reply.status_code in (200, 201), reply.text
    return reply


def queue(api: str, who: dict[str, str], which: str) -> list[str]:
    rows = get(api, "/dispatch/queue", who, list=which, limit="200")
    return [r["ticket_id"] for r in rows]


def downloaded(chrome: webdriver.Chrome, folder: Path, name: str) -> bytes:
    done = folder / name
    WebDriverWait(chrome, 20).until(
        lambda _: done.exists() and not any(folder.glob("*.crdownload")))
    return done.read_bytes()


def test_the_dispatch_desk_dispatches_calls_back_archives_and_briefs(
        sqlite_stack: Stack, browser: webdriver.Chrome, tmp_path: Path) -> None:
    stack = sqlite_stack
    api = f"{stack.api_url}/api"
    ARTIFACTS.mkdir(exist_ok=True)
    browser.execute_cdp_cmd("Browser.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(tmp_path)})
    agent_password = add_user(stack, "dispatch-agent", "agent", "seat-001")
    agent = {"Authorization": f"Bearer {token(stack, 'dispatch-agent', agent_password)}"}
    unit = login_as(stack, "dispatch-shizhong", "unit", unit=SHIZHONG)
    desk_password = add_user(stack, "dispatch-desk", "dispatcher")
    boss_password = add_user(stack, "dispatch-boss", "supervisor")
    desk = {"Authorization": f"Bearer {token(stack, 'dispatch-desk', desk_password)}"}
    boss = {"Authorization": f"Bearer {token(stack, 'dispatch-boss', boss_password)}"}

    # A: answered, its form never saved. B: dispatched by the agent's form to 市中区, which
    # accepts and replies, so the citizen is to be called back.
    a = answered_ticket(stack, number())
    b = answered_ticket(stack, number())
    form = {"request_type": "投诉", "category": "050101", "urgency": "一般",
            "disposition": "转办", "unit": SHIZHONG, "summary": "经四路夜间施工噪音扰民"}
    saved = httpx.put(f"{api}/tickets/{b}/form", json=form, headers=agent)
    assert saved.status_code == 200, saved.text
    post(api, f"/cases/{b}/accept", unit, {})
    post(api, f"/cases/{b}/reply", unit, {"result": "已责令夜间停工", "solved": True})
    assert get(api, f"/cases/{b}", desk)["stage"] == "replied"
    assert a in queue(api, desk, "dispatch") and b in queue(api, desk, "callback")

    # The dispatcher signs in: A under 待派, with 转办 and 直办 but no supervisor's actions.
    wait = sign_in(stack, browser, "dispatch-desk", desk_password)
    assert attr(browser, "#who", "data-role") == "dispatcher"
    assert not shown(browser, "#side") and not shown(browser, "#list th.pick-col")
    choose_list(browser, wait, "dispatch", a)
    assert b not in listed(browser, "dispatch")
    open_case(browser, wait, a)
    seen = get(api, f"/cases/{a}", desk)
    assert attr(browser, "#detail", "data-version") == str(seen["version"])
    assert set(attr(browser, "#actions", "data-actions").split()) == set(seen["actions"])
    assert shown(browser, "#do-dispatch") and shown(browser, "#do-close-direct")
    assert not any(shown(browser, f"#{button}") for button in SUPERVISOR_ONLY)
    assert not {"urge", "supervise", "instruct"} & set(seen["actions"])
    # 转办 without a unit: the page asks for one and sends nothing.
    assert act(browser, wait, "do-dispatch") == "请选择主办单位。"
    assert get(api, f"/cases/{a}", desk)["version"] == seen["version"]
    menu = Select(browser.find_element(By.ID, "dispatch-unit"))
    assert SHIZHONG in [o.get_attribute("value") for o in menu.options]
    menu.select_by_value(CGJ)
    assert menu.first_selected_option.text == "市城市管理局"
    Select(browser.find_element(By.ID, "dispatch-co")).select_by_value(STHJJ)
    browser.find_element(By.ID, "dispatch-note").send_keys("请城管局牵头处理")
    # Meanwhile a supervisor puts A under 督办 through the API: the page's 转办 is a 409 in
    # plain words, nothing of it is written, and the page shows A as it is now.
    post(api, f"/cases/{a}/supervise", boss, {"instructions": "请尽快派单"})
    conflict = act(browser, wait, "do-dispatch")
    assert attr(browser, "#action-msg", "data-status") == "409"
    assert "已被他人修改" in conflict and "409" not in conflict, conflict
    now = get(api, f"/cases/{a}", desk)
    assert now["stage"] == "intake" and now["supervised"]
    wait.until(lambda b_: attr(b_, "#detail", "data-version") == str(now["version"]))
    assert shown(browser, '#detail-flags [data-flag="supervised"]')
    assert text(browser, "#detail-instructions") == "请尽快派单"
    browser.save_screenshot(str(ARTIFACTS / "dispatch-conflict.png"))
    # The form kept its choices: 转办 again, on the version now shown.
    assert act(browser, wait, "do-dispatch") == "已转办。"
    wait.until(lambda b_: attr(b_, "#detail", "data-stage") == "dispatched")
    sent = get(api, f"/cases/{a}", desk)
    assert sent["stage"] == "dispatched"
    parts = {p["unit_code"]: (p["role"], p["state"]) for p in sent["assignments"]}
    assert parts == {CGJ: ("primary", "dispatched"), STHJJ: ("co", "dispatched")}
    assert [(e["action"], e["actor"]) for e in sent["events"]] == [
        ("supervise", "dispatch-boss"), ("dispatch", "dispatch-desk")]
    assert sent["events"][-1]["note"] == "请城管局牵头处理"
    assert timeline(browser) == [("supervise", "dispatch-boss"), ("dispatch", "dispatch-desk")]
    wait.until(lambda b_: a not in listed(b_, "dispatch") and attr(b_, "#list", "data-list")
               == "dispatch")
    assert a not in queue(api, desk, "dispatch")

    # B under 待回访: 回访, solved and satisfied.
    choose_list(browser, wait, "callback", b)
    open_case(browser, wait, b)
    assert shown(browser, "#do-callback") and not shown(browser, "#do-archive")
    assert not any(shown(browser, f"#{button}") for button in SUPERVISOR_ONLY)
    assert attr(browser, f'#detail-assignments tr[data-unit="{SHIZHONG}"]',
                "data-state") == "replied"
    browser.find_element(By.ID, "callback-solved-yes").click()
    assert act(browser, wait, "do-callback") == "请选择市民是否满意。"
    browser.find_element(By.ID, "callback-satisfied-yes").click()
    browser.find_element(By.ID, "callback-note").send_keys("市民表示噪音已消除，满意")
    assert act(browser, wait, "do-callback") == "已回访。"
    wait.until(lambda b_: attr(b_, "#detail", "data-stage") == "callback_done")
    called = get(api, f"/cases/{b}", desk)
    assert called["stage"] == "callback_done"
    assert b not in queue(api, desk, "callback") and b in queue(api, desk, "archive")

    # B now under 待归档: 归档.
    choose_list(browser, wait, "archive", b)
    open_case(browser, wait, b)
    assert shown(browser, "#do-archive") and not shown(browser, "#do-callback")
    browser.find_element(By.ID, "archive-note").send_keys("办结归档")
    assert act(browser, wait, "do-archive") == "已归档。"
    wait.until(lambda b_: attr(b_, "#detail", "data-stage") == "archived")
    archived = get(api, f"/cases/{b}", desk)
    assert archived["stage"] == "archived" and archived["actions"] == []
    assert [(e["action"], e["actor"]) for e in archived["events"]][-2:] == [
        ("callback", "dispatch-desk"), ("archive", "dispatch-desk")]
    assert archived["events"][-1]["note"] == "办结归档"
    assert shown(browser, "#no-actions")
    wait.until(lambda b_: b not in listed(b_, "archive") and attr(b_, "#list", "data-list")
               == "archive")
    assert text(browser, "#detail-stage") == "已归档"
    browser.save_screenshot(str(ARTIFACTS / "dispatch-archived.png"))

    # The English toggle: headings, lists and the stage in English, and back.
    browser.find_element(By.ID, "lang").click()
    wait.until(lambda b_: text(b_, "#tickets-heading") == "Tickets")
    assert text(browser, "#detail-heading") == "Ticket"
    assert text(browser, '#lists button[data-list="dispatch"]') == "To dispatch"
    assert text(browser, '#lists button[data-list="callback"]') == "To call back"
    assert text(browser, "#detail-stage") == "archived"
    assert text(browser, "#action-msg") == "Archived."
    browser.save_screenshot(str(ARTIFACTS / "dispatch-en.png"))
    browser.find_element(By.ID, "lang").click()
    wait.until(lambda b_: text(b_, "#tickets-heading") == "工单列表")
    assert text(browser, '#lists button[data-list="archive"]') == "待归档"

    # The supervisor signs in: A is under 督办; its row's box, and B (archived, in no
    # list) by its number and the detail's box.
    browser.find_element(By.ID, "out").click()
    wait = sign_in(stack, browser, "dispatch-boss", boss_password)
    assert attr(browser, "#who", "data-role") == "supervisor"
    assert shown(browser, "#bulk")
    assert a in [r["ticket_id"] for r in get(api, "/supervision/cases", boss,
                                              list="supervised", limit="200")]
    choose_list(browser, wait, "supervised", a)
    open_case(browser, wait, a)
    actions = get(api, f"/cases/{a}", boss)["actions"]
    assert {"urge", "supervise", "instruct"} <= set(actions)
    assert all(shown(browser, f"#{button}") for button in SUPERVISOR_ONLY)
    browser.find_element(By.CSS_SELECTOR, f'#list tr[data-ticket="{a}"] input.pick').click()
    browser.find_element(By.ID, "find-id").send_keys(b)
    browser.find_element(By.ID, "do-find").click()
    wait.until(lambda b_: text(b_, "#detail-id") == b)
    browser.find_element(By.ID, "detail-pick").click()
    wait.until(lambda b_: attr(b_, "#picked", "data-tickets") == f"{a} {b}")
    assert text(browser, "#picked-count") == "2"

    # 呈报 with a title: the API's briefing holds both tickets.
    title = f"典型诉求呈报 {secrets.token_hex(3)}"
    assert act(browser, wait, "do-brief", "#bulk-msg") == "请填写呈报件标题。"
    browser.find_element(By.ID, "briefing-title").send_keys(title)
    assert act(browser, wait, "do-brief", "#bulk-msg") == "已生成呈报件。"
    briefing_id = attr(browser, "#briefing", "data-briefing")
    made = get(api, f"/reports/briefings/{briefing_id}", boss)
    assert made["title"] == title and made["created_by"] == "dispatch-boss"
    assert [i["ticket_id"] for i in made["items"]] == [a, b]
    assert text(browser, "#briefing-title-shown") == title
    # Its download, fetched with the token.
    browser.find_element(By.ID, "briefing-download").click()
    page = downloaded(browser, tmp_path, f"briefing-{briefing_id}.html").decode()
    assert title in page and a in page and b in page

    # The leaders' 批示: refused on the archived B in plain words, nothing written; then on A.
    Select(browser.find_element(By.ID, "instr-ticket")).select_by_value(b)
    browser.find_element(By.ID, "instr-leader").send_keys("王市长")
    browser.find_element(By.ID, "instr-text").send_keys("请举一反三")
    refused = act(browser, wait, "do-instr", "#instr-msg")
    assert attr(browser, "#instr-msg", "data-status") == "409"
    assert refused == "工单已归档，不能再批示", refused
    assert not get(api, f"/reports/briefings/{briefing_id}", boss)["items"][1]["instructions"]
    assert get(api, f"/cases/{b}", boss)["events"][-1]["action"] == "archive"
    Select(browser.find_element(By.ID, "instr-ticket")).select_by_value(a)
    browser.find_element(By.ID, "instr-text").clear()
    browser.find_element(By.ID, "instr-text").send_keys("请城管局一周内办结并报告")
    assert act(browser, wait, "do-instr", "#instr-msg") == "已记录领导批示。"
    item = get(api, f"/reports/briefings/{briefing_id}", boss)["items"][0]
    assert item["ticket_id"] == a and item["instructed_by"] == "王市长"
    assert "请城管局一周内办结并报告" in item["instructions"]
    last = get(api, f"/cases/{a}", boss)["events"][-1]
    assert (last["action"], last["actor"]) == ("instruct", "dispatch-boss")
    assert last["note"] == "领导批示（王市长）：请城管局一周内办结并报告"
    wait.until(lambda b_: "请城管局一周内办结并报告" in text(
        b_, f'#briefing-items li[data-ticket="{a}"] .instructions'))
    browser.save_screenshot(str(ARTIFACTS / "dispatch-briefing.png"))

    # 发布: the picked tickets as a CSV download, the same the API gives.
    assert act(browser, wait, "do-publish", "#bulk-msg") == "已导出典型案例（CSV）。"
    csv = downloaded(browser, tmp_path, "typical-cases.csv")
    same = httpx.post(f"{api}/reports/publication", json={"ticket_ids": [a, b], "format": "csv"},
                      headers=boss)
    assert same.status_code == 200, same.text
    assert csv == same.content
    assert a not in csv.decode() and "经四路夜间施工噪音扰民" in csv.decode()
    browser.save_screenshot(str(ARTIFACTS / "dispatch-published.png"))

    # An agent is sent to the desk, in plain words.
    browser.find_element(By.ID, "out").click()
    wait.until(lambda b_: shown(b_, "#login"))
    browser.find_element(By.ID, "user").send_keys("dispatch-agent")
    browser.find_element(By.ID, "password").send_keys(agent_password)
    browser.find_element(By.CSS_SELECTOR, "#login button").click()
    wait.until(lambda b_: shown(b_, "#wrong-role"))
    assert not shown(browser, "#desk")
    assert "调度台只供派单员和班长使用" in text(browser, "#wrong-role-text")
    assert attr(browser, "#right-page", "href").endswith("/desk")


def test_the_dispatch_desk_pages_through_a_long_queue(
        sqlite_stack: Stack, browser: webdriver.Chrome) -> None:
    """More undecided calls than a page holds (200): the desk pages through them oldest
    first, each page what the API gives at that offset, none twice."""
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from tickets.models import Ticket

    stack = sqlite_stack
    api = f"{stack.api_url}/api"
    password = add_user(stack, "dispatch-pager", "dispatcher")
    desk = {"Authorization": f"Bearer {token(stack, 'dispatch-pager', password)}"}
    made = [answered_ticket(stack, number()) for _ in range(201)]
    try:
        pages: list[list[str]] = []
        while not pages or len(pages[-1]) == 200:
            got = get(api, "/dispatch/queue", desk, list="dispatch", limit="200",
                      offset=str(200 * len(pages)))
            pages.append([r["ticket_id"] for r in got])
        everything = [t for page in pages for t in page]
        assert len(everything) == len(set(everything)) >= 201
        assert everything.index(made[0]) < everything.index(made[-1])  # oldest first
        assert len(pages) >= 2

        wait = sign_in(stack, browser, "dispatch-pager", password)
        wait.until(lambda b: listed(b, "dispatch") == pages[0])
        assert text(browser, "#page-no") == "第 1 页" and shown(browser, "#pager")
        assert js(browser, "return document.querySelector('#page-prev').disabled") is True
        browser.find_element(By.ID, "page-next").click()
        wait.until(lambda b: listed(b, "dispatch") == pages[1])
        assert text(browser, "#page-no") == "第 2 页"
        assert js(browser, "return document.querySelector('#page-prev').disabled") is False
        assert js(browser, "return document.querySelector('#page-next').disabled") is (
            len(pages[1]) < 200)
        browser.find_element(By.ID, "lang").click()
        wait.until(lambda b: text(b, "#page-no") == "Page 2")
        browser.save_screenshot(str(ARTIFACTS / "dispatch-page-2.png"))
        browser.find_element(By.ID, "page-prev").click()
        wait.until(lambda b: listed(b, "dispatch") == pages[0])
        # Another list starts at its first page.
        browser.find_element(By.ID, "page-next").click()
        wait.until(lambda b: text(b, "#page-no") == "Page 2")
        browser.find_element(By.CSS_SELECTOR, '#lists button[data-list="callback"]').click()
        wait.until(lambda b: attr(b, "#list", "data-list") == "callback")
        assert attr(browser, "#page-no", "data-page") == "1"
    finally:
        # Out of the later tests' lists: these calls are as if long archived.
        with Session(stack.tickets.engine) as session, session.begin():
            session.execute(update(Ticket).where(Ticket.ticket_id.in_(made))
                            .values(stage="archived"))
