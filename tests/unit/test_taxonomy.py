"""The shipped taxonomy: 12 major classes in GB/T 39666's order, each item with a unit code."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tickets.taxonomy import COLUMNS, TaxonomyError, load_taxonomy

MAJORS = ["社会保障与就业", "教育文化与体育", "医疗卫生与计划生育", "环境保护与资源利用",
          "城乡建设与管理", "交通运输与物流", "商贸服务与消费者权益保护", "金融服务与保险",
          "公共安全与治安", "司法服务与法律援助", "行政管理与公共服务", "其他"]

# Codes other code and tests rely on, with their meaning: they never move.
KEPT = {
    "010101": ("社会保障与就业", "社会保险", "养老保险"),
    "040101": ("环境保护与资源利用", "环境污染", "噪声污染"),
    "050101": ("城乡建设与管理", "市容环卫", "垃圾清运"),
    "050102": ("城乡建设与管理", "市容环卫", "占道经营"),
    "050402": ("城乡建设与管理", "房屋与物业", "住房公积金"),
    "070301": ("商贸服务与消费者权益保护", "价格", "价格违法"),
    "120101": ("其他", "其他", "其他事项"),
}


def test_shipped_taxonomy_has_the_twelve_majors_in_order() -> None:
    items = load_taxonomy()
    majors: dict[str, str] = {}
    for code, item in items.items():
        majors.setdefault(code[:2], item.major)
        assert majors[code[:2]] == item.major and item.unit_code
    assert list(majors) == [f"{n:02d}" for n in range(1, 13)]
    assert list(majors.values()) == MAJORS


def test_shipped_taxonomy_is_a_few_hundred_items_in_code_order() -> None:
    items = load_taxonomy()
    assert 250 <= len(items) <= 350
    assert list(items) == sorted(items)
    middles: dict[str, str] = {}
    for code, item in items.items():
        middles.setdefault(code[:4], item.middle)
        assert middles[code[:4]] == item.middle, code
    names = [(item.major, item.middle, item.minor) for item in items.values()]
    assert len(set(names)) == len(names)


def test_the_codes_in_use_keep_their_meaning() -> None:
    items = load_taxonomy()
    assert {code: (items[code].major, items[code].middle, items[code].minor)
            for code in KEPT} == KEPT


def test_a_category_is_its_row() -> None:
    item = load_taxonomy()["050402"]
    assert COLUMNS == ("code", "major", "middle", "minor", "unit_code")
    assert item.as_dict() == {"code": "050402", "major": "城乡建设与管理",
                              "middle": "房屋与物业", "minor": "住房公积金",
                              "unit_code": "370100-gjjzx"}


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


def test_a_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    header = list(COLUMNS)
    with pytest.raises(TaxonomyError, match=r"t1.csv:2: a code is 6 digits"):
        load_taxonomy(write(tmp_path / "t1.csv", [header, ["0101", "a", "b", "c", "u"]]))
    with pytest.raises(TaxonomyError, match="the columns must be"):
        load_taxonomy(write(tmp_path / "t2.csv", [["code", "major", "middle", "minor", "unit"],
                                                  ["010101", "a", "b", "c", "u"]]))
    with pytest.raises(TaxonomyError, match=r"t3.csv:3: code 010101 twice"):
        load_taxonomy(write(tmp_path / "t3.csv", [header, ["010101", "a", "b", "c", "u"],
                                                  ["010101", "a", "b", "d", "u"]]))
    with pytest.raises(TaxonomyError, match=r"t4.csv:2: every column needs a value"):
        load_taxonomy(write(tmp_path / "t4.csv", [header, ["010101", "a", "b", "c", ""]]))
