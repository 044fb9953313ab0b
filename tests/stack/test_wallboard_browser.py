"""The wallboard in headless Chromium (Debian's, through its chromedriver): it signs in,
shows live figures, and they change when a call arrives. The screenshots are kept in
test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.accounts import add_user
from tests.support.browser import ARTIFACTS
from tests.support.ports import seat_port
from tests.support.sipp import Sipp
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.stack

QUEUE = "water"  # calls to the water company's old number 96166: a queue of its own


def cell(chrome: webdriver.Chrome, column: str) -> str:
    """The queue's cell, read in one go (the table is redrawn every second)."""
    return str(chrome.execute_script(
        f"const c = document.querySelector('tr[data-queue=\"{QUEUE}\"] td.{column}');"
        " return c ? c.textContent : '';"))


def waiting_cell(chrome: webdriver.Chrome) -> str:
    return cell(chrome, "waiting")


def test_wallboard_shows_live_figures_that_change_with_a_call(
        stack: Stack, browser: webdriver.Chrome, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    password = add_user(stack, "wallboard1", "supervisor")
    browser.get(f"{stack.api_url}/wallboard")
    wait = WebDriverWait(browser, 15)
    wait.until(lambda b: b.find_element(By.ID, "login").is_displayed())
    assert "监控大屏" in browser.title
    browser.find_element(By.ID, "user").send_keys("wallboard1")
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "#login button").click()
    wait.until(lambda b: b.find_element(By.ID, "board").is_displayed())
    wait.until(lambda b: "实时" in b.find_element(By.ID, "status").text)
    assert waiting_cell(browser) in ("", "0")
    with Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
              calls=1, service="96166", variables={"talk_ms": "8000"}, workdir=tmp_path,
              label="caller") as caller:
        wait_for(lambda: stack.redis.zcard(f"acd:waiting:{QUEUE}") == 1, 20, "queued")
        # Pushed over the WebSocket: no reload.
        wait.until(lambda b: waiting_cell(b) == "1")
        browser.save_screenshot(str(ARTIFACTS / "wallboard.png"))
        assert int(cell(browser, "offered")) >= 1
        browser.find_element(By.ID, "lang").click()
        wait.until(lambda b: "wallboard" in b.find_element(By.TAG_NAME, "h1").text)
        browser.save_screenshot(str(ARTIFACTS / "wallboard-en.png"))
        assert caller.wait(timeout=30) == 0  # nobody answered; the caller gave up
    wait.until(lambda b: waiting_cell(b) == "0")
    assert (ARTIFACTS / "wallboard.png").stat().st_size > 10_000


def js_text(chrome: webdriver.Chrome, selector: str) -> str:
    return str(chrome.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
        selector))


def test_desk_gets_the_screen_pop_and_saves_the_ticket(
        stack: Stack, browser: webdriver.Chrome, tmp_path: Path) -> None:
    from tickets.form import TicketForms

    ARTIFACTS.mkdir(exist_ok=True)
    password = add_user(stack, "desk031", "agent", "seat-031")
    browser.get(f"{stack.api_url}/desk")
    wait = WebDriverWait(browser, 20)
    wait.until(lambda b: b.find_element(By.ID, "login").is_displayed())
    browser.find_element(By.ID, "user").send_keys("desk031")
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "#login button").click()
    wait.until(lambda b: b.find_element(By.ID, "desk").is_displayed())
    wait.until(lambda b: js_text(b, "#state") == "未签入")  # from the desk socket
    browser.find_element(By.CSS_SELECTOR, 'button[data-act="login"]').click()
    wait.until(lambda b: js_text(b, "#state") == "就绪")
    assert stack.seat_state("seat-031")["state"] == "ready"
    with Sipp("seat_answer.xml", remote=stack.sip_target, local_ip="127.0.0.1",
              local_port=seat_port(31), variables={"ring_ms": "100"}, workdir=tmp_path,
              label="seat"), \
            Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                 calls=1, service="12345", caller="13912345678",
                 variables={"talk_ms": "15000"}, workdir=tmp_path, label="caller") as caller:
        wait.until(lambda b: js_text(b, "#pop-caller") == "13912345678")
        wait.until(lambda b: b.execute_script(
            "return !!document.querySelector('#pop [data-event=answered]')"))
        ticket = js_text(browser, "#ticket-id")
        assert ticket
        browser.find_element(By.ID, "summary").send_keys("咨询公积金提取流程")
        browser.execute_script(
            "const c = document.querySelector('#category'); c.value = '050402';"
            " c.dispatchEvent(new Event('change'));")
        browser.find_element(By.CSS_SELECTOR, 'input[value="转办"]').click()
        browser.find_element(By.CSS_SELECTOR, "#form button").click()
        wait.until(lambda b: js_text(b, "#saved") == "已保存")
        browser.save_screenshot(str(ARTIFACTS / "desk.png"))
        assert caller.wait(timeout=30) == 0
    saved = TicketForms(stack.tickets).brief(ticket)
    assert saved is not None
    assert (saved.summary, saved.category, saved.disposition, saved.unit, saved.seat) == (
        "咨询公积金提取流程", "050402", "转办", "市住房公积金中心", "seat-031")


def test_wallboard_lists_blocked_numbers_and_unblocks_one(
        stack: Stack, browser: webdriver.Chrome) -> None:
    import httpx

    from tests.support.accounts import token

    ARTIFACTS.mkdir(exist_ok=True)
    password = add_user(stack, "wallboard3", "supervisor")
    headers = {"Authorization": f"Bearer {token(stack, 'wallboard3', password)}"}
    api = f"{stack.api_url}/api/supervisor/blocklist"
    reason = "<b>辱骂座席</b>"  # shown as text, never as markup
    for number in ("13800000055", "+8613800000056"):
        made = httpx.post(f"{api}/blocks", json={"number": number, "reason": reason},
                          headers=headers)
        assert made.status_code == 201, made.text
    browser.get(f"{stack.api_url}/wallboard")
    wait = WebDriverWait(browser, 15)
    wait.until(lambda b: b.find_element(By.ID, "login").is_displayed())
    browser.find_element(By.ID, "user").send_keys("wallboard3")
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "#login button").click()
    row = '#blocks tr[data-number="+8613800000056"]'
    wait.until(lambda b: js_text(b, row) != "")
    assert reason in js_text(browser, row) and "人工" in js_text(browser, row)
    assert "今日拒接: 0" in js_text(browser, "#refused-today")
    browser.save_screenshot(str(ARTIFACTS / "wallboard-blocklist.png"))
    browser.find_element(By.CSS_SELECTOR, f"{row} button[data-act=unblock]").click()
    wait.until(lambda b: js_text(b, row) == "")
    assert [b["number"] for b in httpx.get(api, headers=headers).json()["blocks"]] == [
        "13800000055"]
    assert js_text(browser, '#blocks tr[data-number="13800000055"]') != ""
