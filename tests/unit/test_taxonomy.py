"""The shipped taxonomy: 12 major classes in GB/T 39666's order, each item with a unit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tickets.taxonomy import TaxonomyError, load_taxonomy

MAJORS = ["社会保障与就业", "教育文化与体育", "医疗卫生与计划生育", "环境保护与资源利用",
          "城乡建设与管理", "交通运输与物流", "商贸服务与消费者权益保护", "金融服务与保险",
          "公共安全与治安", "司法服务与法律援助", "行政管理与公共服务", "其他"]


def test_shipped_taxonomy_has_the_twelve_majors_in_order() -> None:
    items = load_taxonomy()
    majors: dict[str, str] = {}
    for code, item in items.items():
        majors.setdefault(code[:2], item.major)
        assert majors[code[:2]] == item.major and item.unit
    assert list(majors) == [f"{n:02d}" for n in range(1, 13)]
    assert list(majors.values()) == MAJORS


def test_a_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "t.csv"
    bad.write_text("code,major,middle,minor,unit\n0101,a,b,c,d\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="6 digits"):
        load_taxonomy(bad)
