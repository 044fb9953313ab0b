"""Category suggestion: a transparent keyword -> taxonomy code table, applied to a transcript.

The table is a CSV an operator can read and replace (``keyword,code,major_class``); codes are
GB/T 39666's two-digit major classes, 01..12, in the standard's order. The result is only a
suggestion shown on the ticket, with the keywords that led to it: the agent decides.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_RULES = Path(__file__).resolve().parent / "category_rules.csv"


@dataclass(frozen=True)
class Rule:
    keyword: str
    code: str


@dataclass(frozen=True)
class Suggestion:
    code: str
    keywords: tuple[str, ...]  # the rules that matched, in table order

    @property
    def basis(self) -> str:
        return f"keywords: {', '.join(self.keywords)}"


def load_rules(path: Path | None = None) -> list[Rule]:
    source = path or DEFAULT_RULES
    with source.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rules = []
    for number, row in enumerate(rows, start=2):
        keyword, code = (row.get("keyword") or "").strip(), (row.get("code") or "").strip()
        if not keyword or not (len(code) == 2 and code.isdigit() and 1 <= int(code) <= 12):
            raise ValueError(f"{source}:{number}: need a keyword and a code 01..12, got {row}")
        rules.append(Rule(keyword=keyword, code=code))
    return rules


def suggest(rules: Iterable[Rule], texts: Iterable[str]) -> Suggestion | None:
    """The code with the most keyword hits in the texts (ties: the earlier rule), or None."""
    joined = "\n".join(texts)
    hits: Counter[str] = Counter()
    matched: dict[str, list[str]] = {}
    order: dict[str, int] = {}
    for index, rule in enumerate(rules):
        count = joined.count(rule.keyword)
        if count:
            hits[rule.code] += count
            matched.setdefault(rule.code, []).append(rule.keyword)
            order.setdefault(rule.code, index)
    if not hits:
        return None
    best = min(hits, key=lambda code: (-hits[code], order[code]))
    return Suggestion(code=best, keywords=tuple(matched[best]))
