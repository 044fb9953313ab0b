"""The API's pages render in Chromium with no network: /docs draws every operation of the
OpenAPI spec, its assets come from the hotline itself, and / links the pages."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.browser import ARTIFACTS
from tests.support.stack import Stack

pytestmark = pytest.mark.stack


def _requested_hosts(chrome: webdriver.Chrome) -> set[str]:
    hosts = set()
    for entry in chrome.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.startswith("http"):
                hosts.add(urlsplit(url).hostname or "")
    return hosts


def test_swagger_ui_draws_every_operation_offline(sqlite_stack: Stack,
                                                  browser: webdriver.Chrome) -> None:
    spec = httpx.get(f"{sqlite_stack.api_url}/openapi.json").json()
    operations = {(method.upper(), path) for path, item in spec["paths"].items()
                  for method in item if method in {"get", "put", "post", "delete", "patch"}}
    assert len(operations) > 20, operations  # the whole API, not an empty spec

    browser.get(f"{sqlite_stack.api_url}/docs")
    WebDriverWait(browser, 20).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, ".opblock")) >= len(operations))
    drawn = {(b.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text,
              b.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute(
                  "data-path"))
             for b in browser.find_elements(By.CSS_SELECTOR, ".opblock")}
    assert drawn == operations
    browser.save_screenshot(str(ARTIFACTS / "api-docs.png"))
    # Everything came from the hotline: no CDN was even asked.
    assert _requested_hosts(browser) == {"127.0.0.1"}
    assert httpx.get(f"{sqlite_stack.api_url}/redoc").status_code == 200


def test_the_root_page_links_the_desk_the_wallboard_and_the_docs(
        sqlite_stack: Stack, browser: webdriver.Chrome) -> None:
    browser.get(f"{sqlite_stack.api_url}/")
    links = {a.get_attribute("id"): urlsplit(a.get_attribute("href") or "").path
             for a in browser.find_elements(By.CSS_SELECTOR, "nav a")}
    assert links == {"link-desk": "/desk", "link-wallboard": "/wallboard",
                     "link-docs": "/docs"}
    assert "座席工作台" in browser.page_source and "Agent desk" in browser.page_source
    for path in links.values():
        assert httpx.get(f"{sqlite_stack.api_url}{path}").status_code == 200
