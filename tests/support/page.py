"""Reading a page in Chromium: run a script, an element's text or attribute, whether it is
shown, and the casework pages' timeline of events. Shared by the browser tests."""

from __future__ import annotations

from typing import cast

from selenium import webdriver
from selenium.webdriver.common.by import By


def js(chrome: webdriver.Chrome, script: str, *args: object) -> object:
    return chrome.execute_script(script, *args)


def text(chrome: webdriver.Chrome, selector: str) -> str:
    return str(js(chrome, "const e = document.querySelector(arguments[0]);"
                          " return e ? e.textContent.trim() : '';", selector))


def attr(chrome: webdriver.Chrome, selector: str, name: str) -> str:
    return str(js(chrome, "const e = document.querySelector(arguments[0]);"
                          " return e ? (e.getAttribute(arguments[1]) || '') : '';",
                  selector, name))


def shown(chrome: webdriver.Chrome, selector: str) -> bool:
    found = chrome.find_elements(By.CSS_SELECTOR, selector)
    return bool(found) and found[0].is_displayed()


def timeline(chrome: webdriver.Chrome) -> list[tuple[str, str]]:
    """A casework page's events (``#events li``): (action, actor), in order."""
    items = js(chrome, "return [...document.querySelectorAll('#events li')]"
                       ".map(li => [li.dataset.action, li.dataset.actor]);")
    return [(str(a), str(b)) for a, b in cast(list[list[str]], items)]
