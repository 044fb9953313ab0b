"""The wallboard in headless Chromium (Debian's, through its chromedriver): it signs in,
shows live figures, and they change when a call arrives; pause reasons are in words, a
forced pause takes the reason the supervisor chose, and each agent's softphone
registration is shown (an unregistered ready agent is not counted as ready), on the desk
too. The screenshots are kept in test-artifacts/."""

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


def agent_row(chrome: webdriver.Chrome, seat: str, part: str = "") -> str:
    return " ".join(js_text(chrome, f'#agents tr[data-seat="{seat}"] {part}'.strip()).split())


def test_wallboard_reasons_in_words_chosen_forced_reason_and_registration(
        stack: Stack, browser: webdriver.Chrome, tmp_path: Path) -> None:
    import httpx
    from selenium.webdriver.support.ui import Select

    from tests.support.accounts import token
    from tests.support.browser import chromium

    ARTIFACTS.mkdir(exist_ok=True)
    softphone = "seat-097"  # registers like a softphone (no static contact)
    contact_port = seat_port(97)

    def register(expires: int) -> None:
        reg = Sipp("register.xml", remote=stack.sip_target, local_ip="127.0.0.1", calls=1,
                   variables={"user": softphone,
                              "password": stack.secrets.seat_passwords[softphone],
                              "domain": "127.0.0.1", "expires": str(expires),
                              "contact": f"sip:{softphone}@127.0.0.1:{contact_port}"},
                   workdir=tmp_path, label=f"register{expires}").start()
        with reg:
            assert reg.wait(timeout=20) == 0

    # The softphone answers Asterisk's qualify OPTIONS (SIPp's automatic 200): without
    # it the contact turns Unreachable 3 s after each registration.
    phone = Sipp("seat_answer.xml", local_ip="127.0.0.1", local_port=contact_port,
                 workdir=tmp_path, label="softphone").start()
    try:
        # seat-048 let an offer ring out (the system's no_answer); seat-049 is ready.
        stack.hotline("seat", "login", "seat-048")
        stack.hotline("seat", "pause", "seat-048", "--reason", "no_answer")
        stack.seat_ready("seat-049")
        register(0)  # nothing left from an earlier run
        register(300)
        wait_for(lambda: stack.seat_state(softphone).get("registered") == "1", 10,
                 "the presence watcher to see the registration")
        stack.seat_ready(softphone)
        password = add_user(stack, "wallboard4", "supervisor")
        browser.get(f"{stack.api_url}/wallboard")
        wait = WebDriverWait(browser, 20)
        wait.until(lambda b: b.find_element(By.ID, "login").is_displayed())
        browser.find_element(By.ID, "user").send_keys("wallboard4")
        browser.find_element(By.ID, "password").send_keys(password)
        browser.find_element(By.CSS_SELECTOR, "#login button").click()
        wait.until(lambda b: "未接听" in agent_row(b, "seat-048", "td.state"))
        assert "no_answer" not in agent_row(browser, "seat-048")
        wait.until(lambda b: agent_row(b, softphone, "td.registration") == "已注册")
        assert "不计入" not in agent_row(browser, softphone)
        # The queue's ready count (the live figures may hold agents of earlier tests).
        ready = 'tr[data-queue="general"] [data-state="ready"]'
        wait.until(lambda b: js_text(b, ready).startswith("就绪 "))
        ready_before = int(js_text(browser, ready).split()[1])
        assert ready_before >= 2  # seat-049 and the softphone
        unregistered = 'tr[data-queue="general"] [data-state="unregistered"]'
        assert js_text(browser, unregistered) == ""

        # The softphone goes away: still ready in the ACD, but offered nothing, and shown so.
        agent_password = add_user(stack, "desk097", "agent", softphone)
        register(0)
        wait_for(lambda: stack.seat_state(softphone).get("registered") == "0", 10,
                 "the presence watcher to see the unregistration")
        assert stack.seat_state(softphone)["state"] == "ready"
        wait.until(lambda b: agent_row(b, softphone, "td.registration") == "未注册")
        assert "未注册，不计入就绪" in agent_row(browser, softphone, "td.state")
        wait.until(lambda b: js_text(b, ready) == f"就绪 {ready_before - 1}")
        assert js_text(browser, unregistered) == "未注册 1"
        assert agent_row(browser, "seat-049", "td.registration") == "已注册"
        headers = {"Authorization": f"Bearer {token(stack, 'desk097', agent_password)}"}
        seat = httpx.get(f"{stack.api_url}/api/seats/{softphone}", headers=headers).json()
        assert seat["registered"] is False

        # The desk of that seat says so too, and sees the softphone come back.
        with chromium() as desk:
            desk.get(f"{stack.api_url}/desk")
            desk_wait = WebDriverWait(desk, 20)
            desk_wait.until(lambda b: b.find_element(By.ID, "login").is_displayed())
            desk.find_element(By.ID, "user").send_keys("desk097")
            desk.find_element(By.ID, "password").send_keys(agent_password)
            desk.find_element(By.CSS_SELECTOR, "#login button").click()
            desk_wait.until(lambda b: js_text(b, "#registration") == "未注册")
            assert "不会分配来电" in js_text(desk, "#registration-hint")
            desk.save_screenshot(str(ARTIFACTS / "desk-unregistered.png"))
            register(300)
            desk_wait.until(lambda b: js_text(b, "#registration") == "已注册")
            assert js_text(desk, "#registration-hint") == ""
        wait.until(lambda b: agent_row(b, softphone, "td.registration") == "已注册")
        register(0)
        wait.until(lambda b: agent_row(b, softphone, "td.registration") == "未注册")

        # A forced pause with the reason the supervisor picks (the settings' reasons).
        menu = Select(browser.find_element(By.ID, "force-reason"))
        assert [o.get_attribute("value") for o in menu.options] == [
            r for r in stack.settings.pause_reason_list() if r != "no_answer"]
        assert menu.first_selected_option.get_attribute("value") == "meeting"
        menu.select_by_value("training")
        # A real click: the row is not redrawn under the pointer while nothing changes.
        browser.find_element(By.CSS_SELECTOR,
                             'button[data-act="pause"][data-seat="seat-049"]').click()
        wait_for(lambda: stack.seat_state("seat-049").get("reason") == "training", 10,
                 "the forced pause")
        assert stack.seat_state("seat-049")["state"] == "paused"
        wait.until(lambda b: "培训" in agent_row(b, "seat-049", "td.state"))
        assert "training" not in agent_row(browser, "seat-049")
        browser.save_screenshot(str(ARTIFACTS / "wallboard-reasons.png"))
        browser.find_element(By.ID, "lang").click()
        wait.until(lambda b: "No answer" in agent_row(b, "seat-048", "td.state"))
        assert "Training" in agent_row(browser, "seat-049", "td.state")
        assert agent_row(browser, softphone, "td.registration") == "not registered"
        assert "not counted as ready" in agent_row(browser, softphone, "td.state")
        browser.save_screenshot(str(ARTIFACTS / "wallboard-reasons-en.png"))
    finally:
        register(0)
        phone.stop()
