"""The responsible unit's inbox (/inbox) in headless Chromium, on tickets dispatched through
the real API: the district sees both under 新工单, the confidential one masked (its number
and name nowhere in the page); it accepts one, is refused a 下派 outside its units in plain
words, passes it down to a street, and sends the other back after a 409 (the ticket changed
under the page) and a progress note with the citizen contacted. The street signs in, accepts
and replies. Every step is checked against the API, the events in order with their actors.
Screenshots are kept in test-artifacts/inbox-*.png."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
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

LIXIA, QUANCHENG = "370102", "370102004"  # 历下区, and its 泉城路街道 (units/data/units.csv)
SHIZHONG = "370103"  # 市中区: not under 历下区
NAME = "张三"


def listed(chrome: webdriver.Chrome) -> list[str]:
    """The ticket ids of the list's rows, in order."""
    ids = js(chrome, "return [...document.querySelectorAll('#list tbody tr')]"
                     ".map(tr => tr.dataset.ticket);")
    return [str(i) for i in cast(list[str], ids)]


def sign_in(stack: Stack, chrome: webdriver.Chrome, user: str, password: str) -> WebDriverWait:
    chrome.get(f"{stack.api_url}/inbox")
    wait = WebDriverWait(chrome, 20)
    wait.until(lambda b: shown(b, "#login"))
    chrome.find_element(By.ID, "user").send_keys(user)
    chrome.find_element(By.ID, "password").send_keys(password)
    chrome.find_element(By.CSS_SELECTOR, "#login button").click()
    wait.until(lambda b: shown(b, "#inbox"))
    return wait


def choose_filter(chrome: webdriver.Chrome, wait: WebDriverWait, which: str) -> None:
    chrome.find_element(By.CSS_SELECTOR, f'#filters button[data-filter="{which}"]').click()
    wait.until(lambda b: "active" in attr(b, f'#filters button[data-filter="{which}"]',
                                          "class"))


def open_case(chrome: webdriver.Chrome, wait: WebDriverWait, ticket_id: str) -> None:
    wait.until(lambda b: ticket_id in listed(b))
    chrome.find_element(By.CSS_SELECTOR, f'#list tr[data-ticket="{ticket_id}"]').click()
    wait.until(lambda b: shown(b, "#detail") and text(b, "#detail-id") == ticket_id)


def act(chrome: webdriver.Chrome, wait: WebDriverWait, button: str) -> str:
    """Clicks an action and waits for the page's answer (done or refused); returns it."""
    js(chrome, "document.querySelector('#action-msg').dataset.status = 'clicked';")
    chrome.find_element(By.ID, button).click()
    wait.until(lambda b: attr(b, "#action-msg", "data-status") not in ("clicked", "")
               and text(b, "#action-msg") not in ("", "正在提交…", "sending…"))
    return text(chrome, "#action-msg")


def dispatched_ticket(stack: Stack, api: str, agent: dict[str, str], caller: str,
                      **form: Any) -> str:
    """A call answered by seat-001 and ended, then its form saved as 转办 to 历下区 through
    the real API by that seat's agent."""
    at = datetime.now(UTC)
    ticket_id = stack.tickets.open_ticket(caller=caller, dialled="12345",
                                          channel_id=f"inbox-{secrets.token_hex(8)}", at=at)
    stack.tickets.mark_answered(ticket_id, seat="seat-001", at=at)
    stack.tickets.close(ticket_id, outcome="answered", at=datetime.now(UTC), seat="seat-001")
    body = {"request_type": "投诉", "category": "050101", "urgency": "一般",
            "disposition": "转办", "unit": LIXIA, **form}
    saved = httpx.put(f"{api}/tickets/{ticket_id}/form", json=body, headers=agent)
    assert saved.status_code == 200, saved.text
    return ticket_id


def case(api: str, ticket_id: str, who: dict[str, str]) -> dict[str, Any]:
    reply = httpx.get(f"{api}/cases/{ticket_id}", headers=who)
    assert reply.status_code == 200, reply.text
    return cast(dict[str, Any], reply.json())


def test_the_unit_inbox_accepts_passes_down_sends_back_and_replies(
        sqlite_stack: Stack, browser: webdriver.Chrome) -> None:
    stack = sqlite_stack
    api = f"{stack.api_url}/api"
    ARTIFACTS.mkdir(exist_ok=True)
    agent = login_as(stack, "inbox-agent", "agent", "seat-001")
    boss = login_as(stack, "inbox-boss", "supervisor")
    district_password = add_user(stack, "inbox-lixia", "unit", unit=LIXIA)
    street_password = add_user(stack, "inbox-quancheng", "unit", unit=QUANCHENG)
    district = {"Authorization": f"Bearer {token(stack, 'inbox-lixia', district_password)}"}
    street = {"Authorization": f"Bearer {token(stack, 'inbox-quancheng', street_password)}"}

    secret = "139" + "".join(secrets.choice("0123456789") for _ in range(8))
    masked = secret[:3] + "****" + secret[-4:]
    plain = "137" + "".join(secrets.choice("0123456789") for _ in range(8))
    confidential = dispatched_ticket(
        stack, api, agent, secret, summary="泉城路芙蓉街夜间施工噪音扰民", confidential=True,
        contact_number=secret, citizen_name=NAME)
    other = dispatched_ticket(stack, api, agent, plain, summary="解放路路灯不亮")
    # The ground truth: staff see the real number and name; the district sees them masked.
    seen_by_staff = case(api, confidential, boss)
    assert (seen_by_staff["contact_number"], seen_by_staff["citizen_name"]) == (secret, NAME)
    inbox = httpx.get(f"{api}/inbox", params={"filter": "new"}, headers=district).json()
    rows = {r["ticket_id"]: r for r in inbox["tickets"]}
    assert {confidential, other} <= set(rows)
    assert rows[confidential]["caller"] == masked and rows[other]["caller"] == plain

    # The district signs in: both tickets under 新工单, the confidential one masked.
    wait = sign_in(stack, browser, "inbox-lixia", district_password)
    assert attr(browser, "#who", "data-unit") == LIXIA
    choose_filter(browser, wait, "new")
    wait.until(lambda b: {confidential, other} <= set(listed(b)))
    row = f'#list tr[data-ticket="{confidential}"]'
    assert text(browser, f"{row} .caller") == masked
    assert shown(browser, f'{row} [data-flag="confidential"]')
    assert text(browser, f'{row} [data-flag="confidential"]') == "保密"
    assert not browser.find_elements(By.CSS_SELECTOR,
                                     f'#list tr[data-ticket="{other}"] [data-flag]')
    assert text(browser, f'#list tr[data-ticket="{other}"] .caller') == plain
    assert text(browser, f"{row} .summary") == "泉城路芙蓉街夜间施工噪音扰民"
    assert text(browser, f"{row} .urgency") == "一般"
    assert text(browser, f"{row} .due") not in ("", "—")
    wait.until(lambda b: shown(b, f'#notice-list li[data-kind="dispatched"]'
                                  f'[data-ticket="{confidential}"]'))
    assert secret not in browser.page_source and NAME not in browser.page_source
    browser.save_screenshot(str(ARTIFACTS / "inbox-new.png"))

    # The confidential ticket: its detail masked too; 签收.
    open_case(browser, wait, confidential)
    assert text(browser, "#detail-contact") == masked
    assert text(browser, "#detail-name") == "（保密）"
    assert timeline(browser) == [("dispatch", "inbox-agent")]
    assert secret not in browser.page_source and NAME not in browser.page_source
    assert shown(browser, "#do-accept") and not shown(browser, "#do-reply")
    assert act(browser, wait, "do-accept") == "已签收。"
    wait.until(lambda b: attr(b, "#detail", "data-stage") == "in_progress")
    assert case(api, confidential, district)["stage"] == "in_progress"
    assert not shown(browser, "#do-accept") and shown(browser, "#do-reply")

    # A 下派 outside the district (the menu tampered with) is refused in plain words, and
    # nothing is written.
    version = case(api, confidential, district)["version"]
    js(browser, "const s = document.querySelector('#pass-down-unit');"
                " s.add(new Option('市中区', arguments[0])); s.value = arguments[0];", SHIZHONG)
    refused = act(browser, wait, "do-pass-down")
    assert attr(browser, "#action-msg", "data-status") == "422"
    assert refused == f"'{SHIZHONG}' 不是本单位的下级单位", refused
    after = case(api, confidential, district)
    assert after["version"] == version and len(after["events"]) == 2
    browser.find_element(By.ID, "lang").click()
    wait.until(lambda b: text(b, "#action-msg") == "is not a unit under yours")
    assert text(browser, "#tickets-heading") == "Tickets"
    assert text(browser, "#notices-heading") == "Notices"
    assert text(browser, "#detail-heading") == "Ticket"
    assert text(browser, '#filters button[data-filter="new"]') == "New"
    assert text(browser, "#detail-stage") == "in progress"
    assert text(browser, '#detail-flags [data-flag="confidential"]') == "Confidential"
    assert confidential not in listed(browser)  # accepted: no longer under 新工单
    browser.save_screenshot(str(ARTIFACTS / "inbox-refused-en.png"))
    browser.find_element(By.ID, "lang").click()
    wait.until(lambda b: text(b, "#tickets-heading") == "工单列表")
    assert text(browser, '#filters button[data-filter="overdue"]') == "已超期"

    # 下派 to 泉城路街道, chosen from the district's children.
    menu = Select(browser.find_element(By.ID, "pass-down-unit"))
    assert QUANCHENG in [o.get_attribute("value") for o in menu.options]
    assert SHIZHONG not in [o.get_attribute("value") for o in menu.options]
    menu.select_by_value(QUANCHENG)
    browser.find_element(By.ID, "pass-down-note").send_keys("请泉城路街道核实处理")
    assert act(browser, wait, "do-pass-down") == "已下派。"
    wait.until(lambda b: attr(b, "#detail", "data-stage") == "dispatched")
    passed = case(api, confidential, district)
    parts = {a["unit_code"]: a for a in passed["assignments"]}
    assert passed["stage"] == "dispatched"
    assert (parts[QUANCHENG]["state"], parts[QUANCHENG]["from_unit"]) == ("dispatched", LIXIA)
    assert parts[LIXIA]["state"] == "passed_down"
    assert attr(browser, f'#detail-assignments tr[data-unit="{QUANCHENG}"]',
                "data-state") == "dispatched"
    # The district now only watches it: the street holds it.
    assert attr(browser, "#no-actions", "data-why") == "held_below"
    assert not any(shown(browser, f"#{b}") for b in
                   ("do-accept", "do-send-back", "do-pass-down", "do-progress", "do-reply"))
    browser.save_screenshot(str(ARTIFACTS / "inbox-passed-down.png"))

    # The other ticket: shown at one version, accepted meanwhile through the API, so the
    # page's 签收 is a 409 in plain words and the page shows the ticket as it is now.
    open_case(browser, wait, other)
    shown_version = int(attr(browser, "#detail", "data-version"))
    meanwhile = httpx.post(f"{api}/cases/{other}/accept", json={}, headers=district)
    assert meanwhile.status_code == 200, meanwhile.text
    conflict = act(browser, wait, "do-accept")
    assert attr(browser, "#action-msg", "data-status") == "409"
    assert "已被他人修改" in conflict and "409" not in conflict, conflict
    wait.until(lambda b: attr(b, "#detail", "data-stage") == "in_progress")
    assert int(attr(browser, "#detail", "data-version")) > shown_version
    assert not shown(browser, "#do-accept")
    # A progress note, the citizen contacted.
    browser.find_element(By.ID, "progress-note").send_keys("已电话联系市民，正在排查线路")
    browser.find_element(By.ID, "progress-contacted").click()
    assert act(browser, wait, "do-progress") == "已记录办理进展。"
    noted = case(api, other, district)
    assert [a["contacted_at"] is not None for a in noted["assignments"]] == [True]
    assert noted["events"][-1]["note"] == "已电话联系市民，正在排查线路"
    # 退回: without a reason the page asks for one and sends nothing; then with it.
    before = noted["version"]
    assert act(browser, wait, "do-send-back") == "请填写退回理由。"
    assert attr(browser, "#action-msg", "data-status") == "local"
    assert case(api, other, district)["version"] == before
    reason = "路灯属城市管理局，不属本区"
    browser.find_element(By.ID, "send-back-reason").send_keys(reason)
    assert act(browser, wait, "do-send-back") == "已退回。"
    wait.until(lambda b: attr(b, "#detail", "data-stage") == "returned")
    back = case(api, other, district)
    assert back["stage"] == "returned"
    assert [(e["action"], e["actor"]) for e in back["events"]] == [
        ("dispatch", "inbox-agent"), ("accept", "inbox-lixia"),
        ("progress", "inbox-lixia"), ("send_back", "inbox-lixia")]
    assert back["events"][-1]["note"] == reason
    wait.until(lambda b: other not in listed(b))  # no longer the district's to do
    browser.save_screenshot(str(ARTIFACTS / "inbox-sent-back.png"))

    # The street signs in: the ticket passed down is new to it; the other was never its.
    browser.find_element(By.ID, "out").click()
    wait = sign_in(stack, browser, "inbox-quancheng", street_password)
    assert attr(browser, "#who", "data-unit") == QUANCHENG
    choose_filter(browser, wait, "new")
    wait.until(lambda b: confidential in listed(b))
    assert other not in listed(browser)
    wait.until(lambda b: shown(b, f'#notice-list li[data-kind="dispatched"]'
                                  f'[data-ticket="{confidential}"]'))
    assert "请泉城路街道核实处理" in text(browser, "#notice-list")
    open_case(browser, wait, confidential)
    assert secret not in browser.page_source and NAME not in browser.page_source
    assert act(browser, wait, "do-accept") == "已签收。"
    wait.until(lambda b: attr(b, "#detail", "data-stage") == "in_progress")
    assert case(api, confidential, street)["stage"] == "in_progress"
    # 反馈 with the result, solved.
    result = "已责令施工单位夜间停工，噪音已消除"
    browser.find_element(By.ID, "reply-result").send_keys(result)
    browser.find_element(By.ID, "reply-solved-yes").click()
    assert act(browser, wait, "do-reply") == "已反馈。"
    wait.until(lambda b: attr(b, "#detail", "data-stage") == "replied")
    done = case(api, confidential, boss)
    assert done["stage"] == "replied"
    steps = [("dispatch", "inbox-agent"), ("accept", "inbox-lixia"),
             ("pass_down", "inbox-lixia"), ("accept", "inbox-quancheng"),
             ("reply", "inbox-quancheng")]
    assert [(e["action"], e["actor"]) for e in done["events"]] == steps
    assert done["events"][2]["unit_code"] == QUANCHENG
    assert done["events"][-1]["note"] == result
    mine = next(a for a in done["assignments"] if a["unit_code"] == QUANCHENG)
    assert (mine["state"], mine["result"], mine["solved"]) == ("replied", result, True)
    assert timeline(browser) == steps
    assert secret not in browser.page_source and NAME not in browser.page_source
    browser.save_screenshot(str(ARTIFACTS / "inbox-street-replied.png"))
