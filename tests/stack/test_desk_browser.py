"""The agent's desk in headless Chromium, through real calls: nothing can be saved before a
screen pop, a new call clears the last call's form, the pause menu is the settings' (without
the system's no_answer), and the transfer control sends the caller to an expert queue (the
expert's SIP phone gets the call). Only the actions the seat's state allows can be clicked,
through a whole call; the caller panel shows the real state; a reload mid-call or in
wrap-up keeps the ticket; a repeat caller's history is in words. Screenshots are kept in
test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.support.accounts import add_user, token
from tests.support.browser import ARTIFACTS
from tests.support.ports import seat_port
from tests.support.sipp import Sipp
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.stack



def js(chrome: webdriver.Chrome, script: str, *args: object) -> object:
    return chrome.execute_script(script, *args)


def text(chrome: webdriver.Chrome, selector: str) -> str:
    return str(js(chrome, "const e = document.querySelector(arguments[0]);"
                          " return e ? e.textContent : '';", selector))


def value(chrome: webdriver.Chrome, selector: str) -> str:
    return str(js(chrome, "return document.querySelector(arguments[0]).value;", selector))


def disabled(chrome: webdriver.Chrome, selector: str) -> bool:
    return bool(js(chrome, "return document.querySelector(arguments[0]).disabled;", selector))


def form_requests(chrome: webdriver.Chrome) -> int:
    """How many requests the page sent to a ticket form route."""
    return int(str(js(chrome, "return performance.getEntriesByType('resource')"
                              ".filter(e => e.name.includes('/form')).length;")))


def open_desk(stack: Stack, chrome: webdriver.Chrome, user: str, seat: str) -> str:
    """Signs `user` (the agent of `seat`) in on the desk page; returns the password."""
    password = add_user(stack, user, "agent", seat)
    chrome.get(f"{stack.api_url}/desk")
    wait = WebDriverWait(chrome, 20)
    wait.until(lambda b: b.find_element(By.ID, "login").is_displayed())
    chrome.find_element(By.ID, "user").send_keys(user)
    chrome.find_element(By.ID, "password").send_keys(password)
    chrome.find_element(By.CSS_SELECTOR, "#login button").click()
    wait.until(lambda b: b.find_element(By.ID, "desk").is_displayed())
    wait.until(lambda b: text(b, "#state") == "未签入")  # from the desk socket
    return password


def citizen(stack: Stack, tmp_path: Path, number: str, talk_ms: int, label: str) -> Sipp:
    return Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                calls=1, service="12345", caller=number,
                variables={"talk_ms": str(talk_ms)}, workdir=tmp_path, label=label)


def phone(stack: Stack, n: int, tmp_path: Path, ring_ms: int = 100) -> Sipp:
    return Sipp("seat_answer.xml", remote=stack.sip_target, local_ip="127.0.0.1",
                local_port=seat_port(n), variables={"ring_ms": str(ring_ms)},
                workdir=tmp_path, label=f"seat{n}")


ACTIONS = ("login", "ready", "pause", "wrapup-done", "logout")


def enabled(chrome: webdriver.Chrome) -> set[str]:
    """The state buttons that can be clicked."""
    acts = js(chrome, "return [...document.querySelectorAll('button[data-act]')]"
                      ".filter(b => !b.disabled).map(b => b.dataset.act);")
    return set(cast(list[str], acts))


def click(chrome: webdriver.Chrome, action: str) -> None:
    chrome.find_element(By.CSS_SELECTOR, f'button[data-act="{action}"]').click()


def answered_pop(chrome: webdriver.Chrome) -> bool:
    return bool(js(chrome, "return !!document.querySelector('#pop [data-event=answered]')"))


def outcomes(chrome: webdriver.Chrome) -> list[str]:
    """The outcome column of the screen pop's history, newest first."""
    cells = js(chrome, "return [...document.querySelectorAll('#pop-history td.outcome')]"
                       ".map(td => td.textContent);")
    return [str(o).strip() for o in cast(list[str], cells)]


def test_desk_before_a_call_pause_menu_from_the_settings(
        sqlite_stack: Stack, browser: webdriver.Chrome) -> None:
    # Once, on SQLite: the page does not depend on the database; the form's writes are
    # tested on both in tests/unit (test_casework_api.py, test_ticket_access.py).
    stack = sqlite_stack
    ARTIFACTS.mkdir(exist_ok=True)
    password = open_desk(stack, browser, "desk044", "seat-044")
    wait = WebDriverWait(browser, 20)
    # No screen pop yet: no ticket, nothing to save, nothing to transfer.
    assert text(browser, "#ticket-id") == "—"
    assert disabled(browser, "#save")
    assert browser.find_element(By.ID, "save-hint").is_displayed()
    js(browser, "document.querySelector('#summary').value = '没有来电时的摘要';"
                "document.querySelector('#form').requestSubmit();")
    assert form_requests(browser) == 0 and text(browser, "#saved") == ""
    assert browser.find_elements(By.ID, "transfer-target")
    for control in ("#transfer-target", "#transfer-mode", "#transfer-go"):
        assert disabled(browser, control), control

    # The pause menu is the settings' reasons, without the system's no_answer.
    configured = stack.settings.pause_reason_list()
    assert "no_answer" in configured  # the default settings have it: it must be left out
    offered = [r for r in configured if r != "no_answer"]
    wait.until(lambda b: len(Select(b.find_element(By.ID, "pause-reason")).options) > 0)
    menu = Select(browser.find_element(By.ID, "pause-reason"))
    assert [o.get_attribute("value") for o in menu.options] == offered
    assert [o.text for o in menu.options][:4] == ["小休", "用餐", "培训", "会议"]
    headers = {"Authorization": f"Bearer {token(stack, 'desk044', password)}"}
    reasons = httpx.get(f"{stack.api_url}/api/desk/pause-reasons", headers=headers)
    assert reasons.status_code == 200, reasons.text
    assert [r["code"] for r in reasons.json()] == offered
    assert reasons.json()[0] == {"code": "break", "zh": "小休", "en": "Break"}
    assert httpx.get(f"{stack.api_url}/api/desk/pause-reasons").status_code == 401

    # Signed in, paused for a meal from that menu, then ready.
    browser.find_element(By.CSS_SELECTOR, 'button[data-act="login"]').click()
    wait.until(lambda b: text(b, "#state") == "就绪")
    menu.select_by_value("meal")
    browser.find_element(By.CSS_SELECTOR, 'button[data-act="pause"]').click()
    wait.until(lambda b: text(b, "#state") == "小休" and text(b, "#reason") == "用餐")
    assert stack.seat_state("seat-044")["reason"] == "meal"
    browser.find_element(By.ID, "lang").click()
    wait.until(lambda b: text(b, "#reason") == "Meal")
    menu = Select(browser.find_element(By.ID, "pause-reason"))
    assert [o.text for o in menu.options][:2] == ["Break", "Meal"]
    assert "Only during a call" in text(browser, "#transfer-hint")
    browser.save_screenshot(str(ARTIFACTS / "desk-paused-en.png"))
    browser.find_element(By.ID, "lang").click()
    wait.until(lambda b: text(b, "#reason") == "用餐")
    browser.find_element(By.CSS_SELECTOR, 'button[data-act="ready"]').click()
    wait.until(lambda b: text(b, "#state") == "就绪")
    assert disabled(browser, "#save") and disabled(browser, "#transfer-go")


def test_desk_new_call_clears_the_form_and_transfers_to_an_expert(
        sqlite_stack: Stack, browser: webdriver.Chrome, tmp_path: Path) -> None:
    # Once, on SQLite: the page does not depend on the database; the form's writes are
    # tested on both in tests/unit (test_casework_api.py, test_ticket_access.py).
    stack = sqlite_stack
    ARTIFACTS.mkdir(exist_ok=True)
    open_desk(stack, browser, "desk045", "seat-045")
    wait = WebDriverWait(browser, 30)
    browser.find_element(By.CSS_SELECTOR, 'button[data-act="login"]').click()
    wait.until(lambda b: text(b, "#state") == "就绪")
    with phone(stack, 45, tmp_path) as _, phone(stack, 46, tmp_path) as expert:
        # The expert has only the water skill: only a transfer to expert:water reaches it.
        stack.hotline("seat", "login", "seat-046", "--skills", "expert_water:1")
        # The first call: answered, its ticket filled in and saved.
        with citizen(stack, tmp_path, "13900000061", 6000, "first") as first:
            wait.until(lambda b: text(b, "#pop-caller") == "13900000061")
            wait.until(lambda b: js(b, "return !!document.querySelector("
                                       "'#pop [data-event=answered]')"))
            wait.until(lambda b: not disabled(b, "#save"))
            wait.until(lambda b: not disabled(b, "#transfer-go"))  # on the call
            first_ticket = text(browser, "#ticket-id")
            browser.find_element(By.ID, "summary").send_keys("第一通：咨询公积金提取")
            Select(browser.find_element(By.ID, "category")).select_by_value("050402")
            Select(browser.find_element(By.ID, "urgency")).select_by_value("紧急")
            browser.find_element(By.CSS_SELECTOR, 'input[value="转办"]').click()
            # The deadline shows before dispatch; the category list can be searched.
            wait.until(lambda b: text(b, "#deadline").startswith("若现在转办，办理期限："))
            browser.find_element(By.ID, "category-search").send_keys("公积金")
            assert js(browser, "return [...document.querySelectorAll('#category option')]"
                               ".filter(o => o.value && !o.hidden).every(o => "
                               "o.textContent.includes('公积金'))")
            Select(browser.find_element(By.ID, "district")).select_by_value("370102")
            wait.until(lambda b: len(Select(b.find_element(By.ID, "street")).options) > 1)
            Select(browser.find_element(By.ID, "street")).select_by_value("370102004")
            browser.find_element(By.ID, "address").send_keys("泉城路1号")
            # 协办: the district helps the primary unit the category names.
            Select(browser.find_element(By.ID, "co_units")).select_by_value("370102")
            browser.find_element(By.ID, "confidential").click()
            browser.find_element(By.ID, "save").click()
            wait.until(lambda b: text(b, "#saved") == "已保存")
            # Dispatched at once: the agent's own list shows it so.
            wait.until(lambda b: js(b, "return !!document.querySelector("
                                       f"'#my-tickets tr[data-ticket=\"{first_ticket}\"]"
                                       "[data-stage=dispatched]')"))
            assert first.wait(timeout=30) == 0
        wait.until(lambda b: text(b, "#state") == "就绪")
        wait.until(lambda b: disabled(b, "#transfer-go"))  # the call is over
        saved = stack.tickets.get(first_ticket)
        assert saved is not None

        # The second call: nothing of the first stays in the form.
        with citizen(stack, tmp_path, "13900000062", 20000, "second") as second:
            wait.until(lambda b: text(b, "#pop-caller") == "13900000062")
            wait.until(lambda b: js(b, "return !!document.querySelector("
                                       "'#pop [data-event=answered]')"))
            second_ticket = text(browser, "#ticket-id")
            assert second_ticket not in ("", "—", first_ticket)
            assert value(browser, "#summary") == ""
            assert value(browser, "#category") == ""
            assert value(browser, "#urgency") == "一般"
            assert value(browser, "#unit") == ""
            assert js(browser, "return document.querySelector("
                               "'input[name=disposition]:checked').value") == "直办"
            assert text(browser, "#saved") == ""
            wait.until(lambda b: not disabled(b, "#save") and not disabled(b, "#transfer-go"))
            browser.save_screenshot(str(ARTIFACTS / "desk-second-call.png"))

            # Transferred to the water company's experts from the desk.
            Select(browser.find_element(By.ID, "transfer-target")).select_by_value(
                "expert:water")
            browser.find_element(By.ID, "transfer-go").click()
            wait.until(lambda b: text(b, "#transfer-msg") == "已转接至 供水")
            invite = expert.wait_for_message(lambda m: m.method == "INVITE", timeout=20)
            assert invite.header("x-hotline-ticket") == second_ticket
            wait_for(lambda: stack.seat_state("seat-046").get("state") == "on_call", 20,
                     "the expert to answer")
            wait.until(lambda b: disabled(b, "#transfer-go"))  # seat-045 is off the call
            wait.until(lambda b: text(b, "#pop-ended") == "（通话已结束）")
            # The first agent writes the summary after the transfer (every seat that spoke
            # on a ticket may). A save the server refuses is told in plain words: here a
            # category the page was tampered with.
            browser.find_element(By.ID, "summary").send_keys("第二通：已转供水")
            Select(browser.find_element(By.ID, "category")).select_by_value("050402")
            browser.find_element(By.ID, "save").click()
            wait.until(lambda b: text(b, "#saved") == "已保存")
            js(browser, "const c = document.querySelector('#category');"
                        " c.add(new Option('999999', '999999')); c.value = '999999';")
            browser.find_element(By.ID, "save").click()
            wait.until(lambda b: text(b, "#saved") not in ("已保存", "正在保存…"))
            assert text(browser, "#saved") == "工单内容有误，请检查诉求类型、分类和摘要。"
            browser.save_screenshot(str(ARTIFACTS / "desk-transferred.png"))
            browser.find_element(By.ID, "lang").click()
            wait.until(lambda b: text(b, "#saved").startswith("The ticket has an invalid"))
            assert "422" not in text(browser, "#saved")
            assert text(browser, "#transfer-msg") == "Transferred to Water supply"
            assert second.wait(timeout=40) == 0  # the caller talked on with the expert
    record = stack.wait_closed(second_ticket)
    assert (record.outcome, record.seat) == ("answered", "seat-046")
    assert ("transfer", "blind to expert:water") in [(e.kind, e.detail)
                                                     for e in record.events]
    from tickets.form import TicketForms

    forms = TicketForms(stack.tickets)
    first_form, second_form = forms.brief(first_ticket), forms.brief(second_ticket)
    assert first_form is not None and second_form is not None
    assert (first_form.summary, first_form.urgency, first_form.disposition) == (
        "第一通：咨询公积金提取", "紧急", "转办")
    assert (first_form.district, first_form.street, first_form.address,
            first_form.confidential) == ("370102", "370102004", "泉城路1号", True)
    assert (second_form.summary, second_form.category) == ("第二通：已转供水", "050402")
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from casework.models import Assignment
    from tickets.models import Ticket

    with Session(stack.tickets.engine) as session:
        parts = session.execute(
            select(Assignment.unit_code, Assignment.role).join(
                Ticket, Ticket.id == Assignment.ticket_pk)
            .where(Ticket.ticket_id == first_ticket).order_by(Assignment.id)).all()
    assert [(u, r) for u, r in parts][1:] == [("370102", "co")]
    assert parts[0][1] == "primary" and parts[0][0] != "370102"


def test_desk_actions_follow_the_state_through_calls_and_the_history_is_in_words(
        sqlite_stack: Stack, browser: webdriver.Chrome, tmp_path: Path) -> None:
    # Once, on SQLite: the page does not depend on the database; the form's writes are
    # tested on both in tests/unit (test_casework_api.py, test_ticket_access.py).
    stack = sqlite_stack
    ARTIFACTS.mkdir(exist_ok=True)
    number = "13900000071"
    stack.configure_acd(wrapup_s=300)  # wrap-up lasts until the agent ends it
    open_desk(stack, browser, "desk047", "seat-047")
    wait = WebDriverWait(browser, 30)
    assert enabled(browser) == {"login"}
    assert disabled(browser, "#pause-reason")
    assert text(browser, "#registration") == "已注册"  # a static contact: always registered
    click(browser, "login")
    wait.until(lambda b: text(b, "#state") == "就绪")
    assert enabled(browser) == {"pause", "logout"}
    click(browser, "pause")
    wait.until(lambda b: text(b, "#state") == "小休")
    assert enabled(browser) == {"ready", "pause", "logout"}

    # While the seat is paused, the citizen gives up in the queue: an abandoned ticket.
    with citizen(stack, tmp_path, number, 8000, "gives-up") as gone:
        assert gone.wait(timeout=40) == 0
    click(browser, "ready")
    wait.until(lambda b: text(b, "#state") == "就绪")

    with phone(stack, 47, tmp_path, ring_ms=2500):
        # The citizen calls again: offered (ringing), then on the call; nothing to click.
        with citizen(stack, tmp_path, number, 12000, "answered") as call:
            wait.until(lambda b: text(b, "#state") == "振铃中")
            assert enabled(browser) == set()
            wait.until(lambda b: answered_pop(b) and text(b, "#state") == "通话中")
            assert text(browser, "#pop-state") == "通话中"
            assert enabled(browser) == set()
            assert "重复来电" in text(browser, "#pop")
            wait.until(lambda b: len(outcomes(b)) == 1)
            assert re.fullmatch(r"放弃（\S+时挂机）", outcomes(browser)[0]), outcomes(browser)
            assert "abandoned" not in text(browser, "#pop-history")
            ticket = text(browser, "#ticket-id")
            # A reload mid-call: the socket sends the call's pop again; the ticket can be saved.
            browser.refresh()
            wait.until(lambda b: text(b, "#state") == "通话中")
            wait.until(lambda b: text(b, "#ticket-id") == ticket and not disabled(b, "#save"))
            assert enabled(browser) == set()
            browser.save_screenshot(str(ARTIFACTS / "desk-on-call.png"))
            assert call.wait(timeout=40) == 0

        # Wrap-up: the panel says so, not "on the call"; ready, pause, end wrap-up, log out.
        wait.until(lambda b: text(b, "#state") == "话后处理")
        wait.until(lambda b: text(b, "#pop-state") == "话后处理")
        assert text(browser, "#pop-ended") == "（通话已结束）"
        assert enabled(browser) == {"ready", "pause", "wrapup-done", "logout"}
        # A reload in wrap-up keeps the call's ticket, and it can still be saved.
        browser.refresh()
        wait.until(lambda b: text(b, "#state") == "话后处理")
        wait.until(lambda b: text(b, "#ticket-id") == ticket and not disabled(b, "#save"))
        assert text(browser, "#pop-state") == "话后处理"
        browser.find_element(By.ID, "summary").send_keys("第二次来电：咨询社保")
        Select(browser.find_element(By.ID, "category")).select_by_value("050402")
        browser.find_element(By.ID, "save").click()
        wait.until(lambda b: text(b, "#saved") == "已保存")
        browser.save_screenshot(str(ARTIFACTS / "desk-wrap-up.png"))
        click(browser, "wrapup-done")
        wait.until(lambda b: text(b, "#state") == "就绪")
        assert text(browser, "#pop-state") == "就绪"
        assert enabled(browser) == {"pause", "logout"}

        # A third call: the history has the answered call and the abandoned one, in words.
        with citizen(stack, tmp_path, number, 6000, "third") as third:
            wait.until(lambda b: answered_pop(b) and text(b, "#ticket-id") != ticket)
            wait.until(lambda b: len(outcomes(b)) == 2)
            assert outcomes(browser)[0] == "已接听"
            assert outcomes(browser)[1].startswith("放弃（")
            assert "第二次来电：咨询社保" in text(browser, "#pop-history")
            browser.find_element(By.ID, "lang").click()
            wait.until(lambda b: outcomes(b)[0] == "answered")
            assert re.fullmatch(r"abandoned \(hung up [a-z ]+\)", outcomes(browser)[1]), \
                outcomes(browser)
            assert text(browser, "#pop-state") == "on the call"
            browser.save_screenshot(str(ARTIFACTS / "desk-history-en.png"))
            browser.find_element(By.ID, "lang").click()
            assert third.wait(timeout=30) == 0
        wait.until(lambda b: text(b, "#state") == "话后处理")
        click(browser, "wrapup-done")
        wait.until(lambda b: text(b, "#state") == "就绪")
