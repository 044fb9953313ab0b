"""The wallboard in headless Chromium (Debian's, through its chromedriver): it signs in,
shows live figures, and they change when a call arrives. The screenshots are kept in
test-artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from support.accounts import add_user
from support.sipp import Sipp
from support.stack import Stack, wait_for

from hotline.settings import PROJECT_DIR

pytestmark = pytest.mark.stack

ARTIFACTS = PROJECT_DIR / "test-artifacts"
QUEUE = "water"  # calls to the water company's old number 96166: a queue of its own


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail("chromium and chromium-driver are missing: run `bin/hotline test`")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--lang=zh-CN"):
        options.add_argument(arg)
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    yield chrome
    chrome.quit()


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
