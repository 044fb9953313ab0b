"""Headless Chromium (Debian's, through its chromedriver) for the pages' tests.

Every request to anything but loopback fails at once: the pages must work on an isolated
network, and a test would otherwise pass on a machine that reaches a CDN.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from infra.settings import PROJECT_DIR

ARTIFACTS = PROJECT_DIR / "test-artifacts"
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"


@contextmanager
def chromium(*, lang: str = "zh-CN") -> Iterator[webdriver.Chrome]:
    chromium_bin, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium_bin or not driver:
        raise RuntimeError("chromium and chromium-driver are missing: run `bin/hotline test`")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium_bin
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1400,1000", f"--lang={lang}", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", OFFLINE):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()
