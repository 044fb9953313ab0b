"""Fixtures only the stack tests use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium import webdriver

from tests.support.browser import ARTIFACTS, chromium


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium() as chrome:
        yield chrome
