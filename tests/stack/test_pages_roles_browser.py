"""A wrong-role sign-in on each page, in headless Chromium: an agent on the wallboard and a
supervisor on the desk are told so in plain words, with a link to their own page, and the
page opens no WebSocket (no reconnect loop). The link leads to a page that works. The
screenshots are kept in test-artifacts/."""

from __future__ import annotations

import json
import time

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.accounts import add_user
from tests.support.browser import ARTIFACTS
from tests.support.stack import Stack

pytestmark = pytest.mark.stack

QUIET_S = 5.0  # long enough for two of the old 2 s reconnects


def text(chrome: webdriver.Chrome, selector: str) -> str:
    return str(chrome.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
        selector))


def shown(chrome: webdriver.Chrome, element_id: str) -> bool:
    return chrome.find_element(By.ID, element_id).is_displayed()


def sockets_opened(chrome: webdriver.Chrome) -> list[str]:
    """The WebSockets the page opened since the last call (Chrome's performance log)."""
    messages = [json.loads(entry["message"])["message"]
                for entry in chrome.get_log("performance")]
    return [m["params"]["url"] for m in messages if m["method"] == "Network.webSocketCreated"]


def sign_in(stack: Stack, chrome: webdriver.Chrome, page: str, user: str,
            password: str) -> WebDriverWait:
    chrome.get(f"{stack.api_url}{page}")
    wait = WebDriverWait(chrome, 20)
    wait.until(lambda b: shown(b, "login"))
    chrome.find_element(By.ID, "user").send_keys(user)
    chrome.find_element(By.ID, "password").send_keys(password)
    chrome.find_element(By.CSS_SELECTOR, "#login button").click()
    return wait


def test_an_agent_on_the_wallboard_is_sent_to_the_desk(
        stack: Stack, browser: webdriver.Chrome) -> None:
    password = add_user(stack, "roles061", "agent", "seat-061")
    sockets_opened(browser)  # drop what came before
    wait = sign_in(stack, browser, "/wallboard", "roles061", password)
    wait.until(lambda b: shown(b, "wrong-role"))
    assert text(browser, "#wrong-role-text") == "roles061 是座席账号：监控大屏只供班长查看。"
    link = browser.find_element(By.ID, "right-page")
    assert link.text == "前往座席工作台"
    assert link.get_attribute("href") == f"{stack.api_url}/desk"
    assert not shown(browser, "board")
    time.sleep(QUIET_S)
    assert sockets_opened(browser) == []  # none, so no reconnect loop either
    browser.save_screenshot(str(ARTIFACTS / "wallboard-wrong-role.png"))
    browser.find_element(By.ID, "lang").click()
    wait.until(lambda b: text(b, "#wrong-role-text").startswith("roles061 is an agent account"))
    assert "the wallboard is for supervisors only" in text(browser, "#wrong-role-text")
    assert text(browser, "#right-page") == "Go to the agent desk"
    browser.find_element(By.ID, "lang").click()

    # The link: the desk, signed in already, with its one socket.
    link = browser.find_element(By.ID, "right-page")
    link.click()
    wait.until(lambda b: b.current_url.endswith("/desk") and shown(b, "desk"))
    wait.until(lambda b: text(b, "#state") == "未签入")
    time.sleep(QUIET_S)
    opened = sockets_opened(browser)
    assert len(opened) == 1 and "/ws/desk?" in opened[0], opened


def test_a_supervisor_on_the_desk_is_sent_to_the_wallboard(
        stack: Stack, browser: webdriver.Chrome) -> None:
    password = add_user(stack, "roles062", "supervisor")
    sockets_opened(browser)
    wait = sign_in(stack, browser, "/desk", "roles062", password)
    wait.until(lambda b: shown(b, "wrong-role"))
    assert text(browser, "#wrong-role-text") == (
        "roles062 是班长账号：座席工作台只供座席使用，不能用此账号签入、接听或保存工单。")
    link = browser.find_element(By.ID, "right-page")
    assert link.text == "前往监控大屏"
    assert link.get_attribute("href") == f"{stack.api_url}/wallboard"
    # No desk: no buttons that would do nothing.
    assert not shown(browser, "desk")
    assert not [b for b in browser.find_elements(By.CSS_SELECTOR, "button[data-act]")
                if b.is_displayed()]
    time.sleep(QUIET_S)
    assert sockets_opened(browser) == []
    browser.save_screenshot(str(ARTIFACTS / "desk-wrong-role.png"))

    link.click()
    wait.until(lambda b: b.current_url.endswith("/wallboard") and shown(b, "board"))
    wait.until(lambda b: "实时" in text(b, "#status"))
    time.sleep(QUIET_S)
    opened = sockets_opened(browser)
    assert len(opened) == 1 and "/ws/wallboard?" in opened[0], opened

    # Signing in with another account from the message: back to the sign-in form.
    browser.get(f"{stack.api_url}/desk")
    wait.until(lambda b: shown(b, "wrong-role"))
    browser.find_element(By.ID, "other-account").click()
    wait.until(lambda b: shown(b, "login"))
