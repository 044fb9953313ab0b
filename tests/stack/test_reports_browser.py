"""The supervisor's report page (/reports, 分析) in headless Chromium, on casework made
through the real API: five calls in 槐荫区 (four 转办 to the district, one 直办), the
district's unit accepts, replies and sends back, the dispatch desk calls back. The page's
ranking and casework tables show exactly the figures counted by hand below (and all the
other rows as the API gives them), the charts' SVG is in the page, the CSV download is the
API's CSV byte for byte, English is a click away, and a unit's account is told the page is
not for it. Screenshots are kept in test-artifacts/reports-*.png."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.accounts import add_user, login_as, token
from tests.support.browser import ARTIFACTS
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.stack

# 槐荫区 and its 振兴街街道 (units/data/units.csv): no other stack test dispatches there or
# names it as a district, so its rows hold this test's tickets only.
HUAIYIN, ZHENXING = "370104", "370104001"
SEAT = "seat-070"
RANKING_RATES = ("on_time_rate", "response_rate", "resolution_rate", "satisfaction_rate",
                 "send_back_rate")
CASEWORK_RATES = (*RANKING_RATES, "direct_rate")


def js(chrome: webdriver.Chrome, script: str, *args: object) -> object:
    return chrome.execute_script(script, *args)


def shown(chrome: webdriver.Chrome, selector: str) -> bool:
    found = chrome.find_elements(By.CSS_SELECTOR, selector)
    return bool(found) and found[0].is_displayed()


def table(chrome: webdriver.Chrome, selector: str) -> dict[str, dict[str, str]]:
    """The table's rows by their key, each cell by its class."""
    rows = js(chrome, "return [...document.querySelectorAll(arguments[0] + ' tbody tr')]"
                      ".map(tr => [tr.dataset.key, Object.fromEntries([...tr.children]"
                      ".map(td => [td.className, td.textContent.trim()]))]);", selector)
    return {str(key): cells for key, cells in cast(list[tuple[str, dict[str, str]]], rows)}


def chart(chrome: webdriver.Chrome, selector: str) -> dict[str, Any]:
    """The chart in the page: its bars (pygal's g.bar), title and texts."""
    return cast(dict[str, Any], js(chrome, """
        const svg = document.querySelector(arguments[0] + ' svg');
        if (!svg) return {bars: -1, title: '', texts: []};
        return {bars: svg.querySelectorAll('g.bar').length,
                title: [...svg.querySelectorAll('text.title')].map(t => t.textContent).join(' '),
                texts: [...svg.querySelectorAll('text')].map(t => t.textContent)};""",
                                   selector))


def pct(rate: float | None) -> str:
    """As the page shows a rate: a percent with at most one decimal (JS toFixed(1))."""
    if rate is None:
        return "—"
    shown = Decimal(rate * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return (f"{shown.normalize():f}" if shown != shown.to_integral() else f"{int(shown)}") + "%"


def number(value: float) -> str:
    """As JS writes a number: 80.0 is 80."""
    return f"{int(value)}" if value == int(value) else repr(value)


def answered_call(stack: Stack) -> str:
    """A citizen's call answered by SEAT and ended: a ticket waiting for its form."""
    caller = "135" + "".join(secrets.choice("0123456789") for _ in range(8))
    at = datetime.now(UTC)
    ticket_id = stack.tickets.open_ticket(caller=caller, dialled="12345",
                                          channel_id=f"reports-{secrets.token_hex(8)}", at=at)
    stack.tickets.mark_answered(ticket_id, seat=SEAT, at=at)
    stack.tickets.close(ticket_id, outcome="answered", at=datetime.now(UTC), seat=SEAT)
    return ticket_id


def post(api: str, ticket_id: str, action: str, who: dict[str, str], **body: Any) -> None:
    done = httpx.post(f"{api}/cases/{ticket_id}/{action}", json=body, headers=who)
    assert done.status_code == 200, (action, done.text)


def settle(chrome: webdriver.Chrome, wait: WebDriverWait, which: str, expected: str) -> None:
    """Waits until the page's `which` report (ranking or casework) shows `expected`."""
    wait.until(lambda b: js(b, f"return document.body.dataset.{which} || ''") == expected)


def test_the_report_page_shows_the_casework_as_it_was_done(
        sqlite_stack: Stack, browser: webdriver.Chrome, tmp_path: Path) -> None:
    stack = sqlite_stack
    api = f"{stack.api_url}/api"
    today = datetime.now(ZoneInfo(stack.settings.stats_timezone)).date()
    month, day = f"{today:%Y-%m}", today.isoformat()
    agent = login_as(stack, "reports-agent", "agent", SEAT)
    unit = login_as(stack, "reports-huaiyin", "unit", unit=HUAIYIN)
    desk = login_as(stack, "reports-dispatcher", "dispatcher")
    password = add_user(stack, "reports-boss", "supervisor")
    boss = {"Authorization": f"Bearer {token(stack, 'reports-boss', password)}"}
    before = httpx.get(f"{api}/reports/ranking", params={"month": month}, headers=boss)
    assert before.status_code == 200, before.text
    assert HUAIYIN not in {u["key"] for u in before.json()["units"]}, "槐荫区 is not ours"

    # The casework: a, b, c, d 转办 to 槐荫区; e 直办, in 槐荫区 too.
    tickets = {name: answered_call(stack) for name in "abcde"}
    for name, ticket_id in tickets.items():
        form = {"request_type": "投诉", "category": "050101", "urgency": "一般",
                "summary": f"振兴街道路破损 {name}", "district": HUAIYIN, "street": ZHENXING,
                "address": "振兴街1号",
                **({"disposition": "直办"} if name == "e" else
                   {"disposition": "转办", "unit": HUAIYIN})}
        saved = httpx.put(f"{api}/tickets/{ticket_id}/form", json=form, headers=agent)
        assert saved.status_code == 200, (name, saved.text)
    a, b, c, d = (tickets[n] for n in "abcd")
    for ticket_id in (a, b, d):
        post(api, ticket_id, "accept", unit)  # well within its limit (working days)
    post(api, c, "send-back", unit, reason="不属于本区职责")
    post(api, a, "reply", unit, result="已修复路面", solved=True)  # long before the deadline
    post(api, b, "reply", unit, result="已安排维修", solved=True)
    post(api, a, "callback", desk, solved=True, satisfied=True)
    post(api, b, "callback", desk, solved=True, satisfied=False)  # 重办: back to the unit

    # 槐荫区 by hand:
    #   dispatched 4 (a b c d); decided 4 (by unit: a 直办 has no unit); direct 0;
    #   on time 2 of 2 (a, b answered on time; c, d neither answered nor due) = 100 %;
    #   response 3 of 4 (a, b, d accepted in time; c sent back, never accepted) = 75 %;
    #   resolution 2 of 2 callbacks (a, b solved) = 100 %; satisfaction 1 of 2 = 50 %;
    #   send-back 1 of 4 (c) = 25 %; 直办率 0 of 4 = 0 %.
    #   Score: 30 × 1 + 20 × 0.75 + 25 × 1 + 25 × 0.5 − 10 × 0.25 = 80.
    # By district (the form's 槐荫区), e counts too: decided 5, direct 1, 直办率 1 of 5 = 20 %.
    huaiyin_ranked = {"unit": "槐荫区", "score": "80", "dispatched": "4",
                      "on_time_rate": "100%", "response_rate": "75%",
                      "resolution_rate": "100%", "satisfaction_rate": "50%",
                      "send_back_rate": "25%"}
    huaiyin_by_unit = {"group": "槐荫区", "decided": "4", "dispatched": "4", "direct": "0",
                       "on_time_rate": "100%", "response_rate": "75%",
                       "resolution_rate": "100%", "satisfaction_rate": "50%",
                       "send_back_rate": "25%", "direct_rate": "0%"}
    huaiyin_by_district = {**huaiyin_by_unit, "decided": "5", "direct": "1",
                           "direct_rate": "20%"}

    ranked = httpx.get(f"{api}/reports/ranking", params={"month": month}, headers=boss).json()
    units = {u["key"]: u for u in ranked["units"]}
    assert units[HUAIYIN]["score"] == 80.0 and units[HUAIYIN]["dispatched"] == 4

    # The supervisor signs in on /reports.
    ARTIFACTS.mkdir(exist_ok=True)
    browser.execute_cdp_cmd("Browser.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.get(f"{stack.api_url}/reports")
    wait = WebDriverWait(browser, 20)
    wait.until(lambda b: shown(b, "#login"))
    assert "分析报表" in browser.title
    browser.find_element(By.ID, "user").send_keys("reports-boss")
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "#login button").click()
    wait.until(lambda b: shown(b, "#reports"))
    # The first reports (this month, in the browser's zone) are drawn before we choose.
    wait.until(lambda b: js(b, "return document.body.dataset.ranking || 'loading'") != "loading"
               and js(b, "return document.body.dataset.casework || 'loading'") != "loading")

    # The ranking of the month: the table, the chart, the CSV.
    js(browser, "document.querySelector('#month').value = arguments[0];", month)
    browser.find_element(By.ID, "ranking-show").click()
    settle(browser, wait, "ranking", month)
    rows = table(browser, "#ranking")
    assert rows[HUAIYIN] == {"rank": str(units[HUAIYIN]["rank"]), **huaiyin_ranked}
    # Every other unit is as the API gives it (other tests' tickets), in the API's order.
    assert list(rows) == [u["key"] for u in ranked["units"]]
    for key, row in rows.items():
        u = units[key]
        assert row == {"rank": str(u["rank"]), "unit": u["label"], "score": number(u["score"]),
                       "dispatched": str(u["dispatched"]),
                       **{k: pct(u[k]) for k in RANKING_RATES}}, key
    drawn = chart(browser, "#ranking-chart")
    assert drawn["bars"] == len(ranked["units"])
    assert drawn["title"] == f"{month} 单位考核得分 Unit scores"
    assert {"槐荫区", "80"} <= set(drawn["texts"])
    browser.save_screenshot(str(ARTIFACTS / "reports-ranking.png"))
    browser.find_element(By.ID, "ranking-csv").click()
    downloaded = tmp_path / f"ranking-{month}.csv"
    wait_for(downloaded.exists, 15, "the ranking's CSV to download")
    exported = httpx.get(f"{api}/reports/ranking", params={"month": month, "format": "csv"},
                         headers=boss)
    assert exported.status_code == 200, exported.text
    wait_for(lambda: downloaded.read_bytes() == exported.content, 5, "the whole CSV")
    lines = downloaded.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("key,label,dispatched")
    assert any(line.startswith(f"{HUAIYIN},槐荫区,4,") for line in lines)

    # The casework of today by unit, then by district.
    js(browser, "document.querySelector('#from').value = arguments[0];"
                "document.querySelector('#to').value = arguments[0];"
                "document.querySelector('#by').value = 'unit';"
                "document.querySelector('#measure').value = 'on_time_rate';", day)
    browser.find_element(By.ID, "casework-show").click()
    settle(browser, wait, "casework", f"from={day}&to={day}&by=unit&measure=on_time_rate")
    report = httpx.get(f"{api}/reports/casework", headers=boss,
                       params={"from": day, "to": day, "by": "unit"}).json()
    rows = table(browser, "#casework")
    assert rows[HUAIYIN] == huaiyin_by_unit
    assert list(rows) == [r["key"] for r in report["rows"]]
    for r in report["rows"]:
        assert rows[r["key"]] == {
            "group": r["label"], "decided": str(r["decided"]),
            "dispatched": str(r["dispatched"]), "direct": str(r["direct"]),
            **{k: pct(r[k]) for k in CASEWORK_RATES}}, r["key"]
    assert browser.find_element(By.ID, "direct-rate").text == pct(report["direct_rate"])
    drawn = chart(browser, "#casework-chart")
    assert drawn["title"] == f"按期办结率 On-time rate · 按单位 by unit · {day} – {day}"
    assert drawn["bars"] == sum(r["on_time_rate"] is not None for r in report["rows"])
    assert {"槐荫区", "100%"} <= set(drawn["texts"])

    js(browser, "const m = document.querySelector('#measure'); m.value = 'direct_rate';"
                "const s = document.querySelector('#by'); s.value = 'district';"
                "s.dispatchEvent(new Event('change'));")
    settle(browser, wait, "casework", f"from={day}&to={day}&by=district&measure=direct_rate")
    rows = table(browser, "#casework")
    assert rows[HUAIYIN] == huaiyin_by_district
    drawn = chart(browser, "#casework-chart")
    assert drawn["title"] == f"直办率 Direct rate · 按区县 by district · {day} – {day}"
    assert {"槐荫区", "20%"} <= set(drawn["texts"])
    browser.save_screenshot(str(ARTIFACTS / "reports-casework.png"))

    # In English: the words and the district's English name; the figures are the same.
    browser.find_element(By.ID, "lang").click()
    wait.until(lambda b: "reports" in b.find_element(By.TAG_NAME, "h1").text)
    rows = table(browser, "#casework")
    assert rows[HUAIYIN] == {**huaiyin_by_district, "group": "Huaiyin District"}
    assert table(browser, "#ranking")[HUAIYIN]["unit"] == "Huaiyin District"
    assert browser.find_element(By.CSS_SELECTOR, '#ranking-section th[data-t="score"]').text \
        == "Score"
    browser.save_screenshot(str(ARTIFACTS / "reports-en.png"))
    browser.find_element(By.ID, "lang").click()  # back to Chinese for the next account

    # A unit's account is told, in words, that the reports are not for it.
    unit_password = add_user(stack, "reports-huaiyin2", "unit", unit=HUAIYIN)
    browser.find_element(By.ID, "out").click()
    wait.until(lambda b: shown(b, "#login"))
    browser.find_element(By.ID, "user").send_keys("reports-huaiyin2")
    browser.find_element(By.ID, "password").send_keys(unit_password)
    browser.find_element(By.CSS_SELECTOR, "#login button").click()
    wait.until(lambda b: shown(b, "#wrong-role"))
    assert not shown(browser, "#reports")
    assert browser.find_element(By.ID, "wrong-role-text").text == \
        "reports-huaiyin2 是承办单位账号：分析报表只供班长和派单员查看。"
    browser.save_screenshot(str(ARTIFACTS / "reports-wrong-role.png"))
