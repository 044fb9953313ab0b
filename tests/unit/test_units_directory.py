"""The units directory (承办单位) and the dispatch directory: the shipped files, the tree's
lookups, and every way a replaced file can be wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tickets.taxonomy import DEFAULT_FILE as TAXONOMY_FILE
from tickets.taxonomy import load_taxonomy
from units.directory import (
    DEFAULT_FILE,
    LEVELS,
    Directory,
    DirectoryError,
    Unit,
    UnknownUnit,
    load_directory,
)
from units.dispatch import DispatchDirectory, build_dispatch, read_dispatch_items

HEADER = "code,name,name_en,parent,level\n"
DISTRICTS = ["历下区", "市中区", "槐荫区", "天桥区", "历城区", "长清区", "章丘区", "济阳区",
             "莱芜区", "钢城区", "平阴县", "商河县"]
DEPARTMENTS = ["市教育局", "市公安局", "市民政局", "市人力资源和社会保障局", "市自然资源和规划局",
               "市生态环境局", "市住房和城乡建设局", "市城乡交通运输局", "市水务局", "市农业农村局",
               "市商务局", "市文化和旅游局", "市卫生健康委员会", "市市场监督管理局", "市城市管理局",
               "市医疗保障局", "市应急管理局", "市退役军人事务局", "市司法局", "市财政局",
               "市税务局", "国网济南供电公司", "济南水务集团", "市住房公积金中心"]


@pytest.fixture(scope="module")
def shipped() -> Directory:
    return load_directory()


def by_name(directory: Directory, name: str) -> Unit:
    found = [unit for unit in directory.units() if unit.name == name]
    assert len(found) == 1, name
    return found[0]


# The shipped directory.

def test_the_shipped_directory_has_the_five_levels(shipped: Directory) -> None:
    assert [unit.name for unit in shipped.at_level(1)] == ["济南市人民政府"]
    assert [unit.name for unit in shipped.at_level(2)] == ["济南市12345市民服务热线办公室"]
    level3 = shipped.at_level(3)
    districts = [unit for unit in level3 if unit.name in DISTRICTS]
    assert sorted(unit.name for unit in districts) == sorted(DISTRICTS)
    assert len(level3) - len(districts) >= 35
    assert {unit.name for unit in level3} >= set(DEPARTMENTS)
    for district in districts:
        assert len(shipped.children(district.code)) >= 3, district.name
        assert all(child.level == 4 for child in shipped.children(district.code))
    assert len(shipped.at_level(5)) >= 5
    assert len(shipped) == sum(len(shipped.at_level(n)) for n in LEVELS)


def test_the_shipped_directory_follows_the_code_scheme(shipped: Directory) -> None:
    for unit in shipped.units():
        assert unit.name_en and unit.name_en.isascii(), unit.code
        if unit.level == 1:
            assert unit.code == "370100"
        elif unit.level == 2:
            assert unit.code == "370100-12345"
        elif unit.name in DISTRICTS:
            assert re.fullmatch(r"3701\d\d", unit.code), unit.code
        elif unit.level == 3:
            assert re.fullmatch(r"370100-[a-z]+", unit.code), unit.code
        else:  # streets and towns: the district + 3 digits; communities: the street + 3
            assert unit.parent is not None
            assert re.fullmatch(re.escape(unit.parent) + r"\d{3}", unit.code), unit.code
    assert shipped.unit("370102").name == "历下区"


def test_the_levels_have_chinese_and_english_labels() -> None:
    assert [(n, LEVELS[n].zh) for n in LEVELS] == [
        (1, "城市领导"), (2, "热线办"), (3, "部门和区县"), (4, "街道和镇"), (5, "村和社区")]
    assert all(level.en and level.en.isascii() for level in LEVELS.values())


def test_every_taxonomy_item_goes_to_a_unit_of_the_shipped_directory(shipped: Directory) -> None:
    items = read_dispatch_items(TAXONOMY_FILE)
    taxonomy = load_taxonomy()
    assert {code: unit for code, (unit, _) in items.items()} == {
        code: item.unit_code for code, item in taxonomy.items()}
    dispatch = build_dispatch(shipped, items, str(TAXONOMY_FILE))
    assert len(dispatch) == len(taxonomy)
    for code in taxonomy:
        unit = dispatch.unit_for(code)
        assert unit is not None and unit.level >= 2, code
    # the names the desk's stack tests expect for these two categories
    assert dispatch.unit_for("050402") == by_name(shipped, "市住房公积金中心")
    assert dispatch.unit_for("050101") == by_name(shipped, "市城市管理局")
    assert dispatch.unit_for("120101") == shipped.at_level(2)[0]
    assert dispatch.unit_for("999999") is None and "999999" not in dispatch
    assert "050402" in dispatch and dispatch.unit_code_for("050402") == "370100-gjjzx"
    assert "050402" in dispatch.categories_of("370100-gjjzx")


# The tree's lookups.

def test_children_ancestors_and_path_names(shipped: Directory) -> None:
    street = by_name(shipped, "泉城路街道")
    lixia = shipped.unit("370102")
    assert street.parent == lixia.code
    assert [u.name for u in shipped.ancestors(street.code)] == [
        "济南市人民政府", "济南市12345市民服务热线办公室", "历下区"]
    assert shipped.path_names(street.code) == [
        "济南市人民政府", "济南市12345市民服务热线办公室", "历下区", "泉城路街道"]
    assert shipped.ancestors("370100") == [] and shipped.path_names("370100") == ["济南市人民政府"]
    assert [u.name for u in shipped.children("370102")] == [
        "解放路街道", "千佛山街道", "趵突泉街道", "泉城路街道", "大明湖街道"]
    assert shipped.children("370100-jyj") == []
    assert [u.name for u in shipped.children(street.code)] == ["芙蓉街社区", "院前社区",
                                                               "省府前街社区"]


def test_subtree_and_is_within(shipped: Directory) -> None:
    lixia = shipped.subtree("370102")
    assert lixia == {"370102", *(u.code for u in shipped.units()
                                 if u.code.startswith("370102") and u.level > 3)}
    assert len(lixia) == 1 + 5 + 6
    assert shipped.subtree("370100") == {u.code for u in shipped.units()}
    assert shipped.subtree("370100-12345") == {u.code for u in shipped.units()} - {"370100"}
    assert shipped.subtree("370100-jyj") == {"370100-jyj"}
    assert shipped.subtree("370102") is shipped.subtree("370102")  # computed once, at load
    community = by_name(shipped, "芙蓉街社区").code
    assert shipped.is_within(community, "370102") and shipped.is_within(community, community)
    assert shipped.is_within(community, "370100-12345")
    assert not shipped.is_within("370102", community)
    assert not shipped.is_within(community, "370103")
    assert not shipped.is_within("370103", "370102")
    assert not shipped.is_within("nope", "370102") and not shipped.is_within("370102", "nope")


def test_an_unknown_code_is_a_plain_error(shipped: Directory) -> None:
    assert shipped.get("nope") is None and "nope" not in shipped and "370102" in shipped
    for lookup in (shipped.unit, shipped.children, shipped.subtree, shipped.ancestors,
                   shipped.path_names):
        with pytest.raises(UnknownUnit) as caught:
            lookup("nope")
        assert str(caught.value) == "unknown unit 'nope'"
    assert isinstance(UnknownUnit("x"), ValueError)
    with pytest.raises(ValueError, match="a level is 1 to 5"):
        shipped.at_level(6)


def test_the_lists_it_returns_are_copies(shipped: Directory) -> None:
    shipped.units().clear()
    shipped.children("370102").clear()
    shipped.ancestors("370102").clear()
    assert len(shipped.units()) == len(shipped) > 100
    assert len(shipped.children("370102")) == 5 and len(shipped.ancestors("370102")) == 2


# Replaced files: what loads, and every error.

def units_file(tmp_path: Path, body: str, *, name: str = "u.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_text(("\ufeff" if bom else "") + body, encoding="utf-8")
    return path


SMALL = HEADER + """\
c,City,,,1
h,Hotline,,c,2
d1,District one,,h,3
s1,Street,,d1,4
v1,Village,,s1,5
d2,District two,,h,3
"""


def test_a_small_file_loads_with_a_bom_and_parents_after_children(tmp_path: Path) -> None:
    body = HEADER + "v1,Village,Cun,s1,5\ns1,Street,,d1,4\n\nd1,District,,h,3\nh,Hotline,,c,2\n" \
        "c,City,,,1\n\n"
    directory = load_directory(units_file(tmp_path, body, bom=True))
    assert [u.code for u in directory.units()] == ["v1", "s1", "d1", "h", "c"]
    assert directory.unit("v1") == Unit(code="v1", name="Village", parent="s1", level=5,
                                        name_en="Cun")
    assert directory.unit("c").parent is None and directory.unit("s1").name_en == ""
    assert directory.subtree("d1") == {"d1", "s1", "v1"}
    assert directory.path_names("v1") == ["City", "Hotline", "District", "Street", "Village"]


def test_two_roots_are_allowed(tmp_path: Path) -> None:
    directory = load_directory(units_file(tmp_path, SMALL + "c2,Other city,,,1\n"))
    assert [u.code for u in directory.at_level(1)] == ["c", "c2"]
    assert directory.subtree("c2") == {"c2"}


BAD = [
    pytest.param("code,name,parent,level\nc,City,,1\n",
                 r"u\.csv:1: the header must be code,name,name_en,parent,level", id="header"),
    pytest.param("", r"u\.csv:1: the header must be .*an empty file", id="empty-file"),
    pytest.param(SMALL + ",Nameless,,h,3\n", r"u\.csv:8: the code is empty", id="empty-code"),
    pytest.param(SMALL + "d3,,,h,3\n", r"u\.csv:8: unit 'd3' has no name", id="empty-name"),
    pytest.param(SMALL + "d 3,District,,h,3\n", r"u\.csv:8: code 'd 3' is not 1 to 32 of",
                 id="code-space"),
    pytest.param(SMALL + "区3,District,,h,3\n", r"u\.csv:8: code '区3' is not", id="code-cjk"),
    pytest.param(SMALL + "\n \nd 3,District,,h,3\n", r"u\.csv:10: code 'd 3' is not",
                 id="line-after-blank-lines"),
    pytest.param(SMALL + "x" * 33 + ",District,,h,3\n", r"u\.csv:8: code 'x{33}' is not",
                 id="code-too-long"),
    pytest.param(SMALL + "d1,Again,,h,3\n",
                 r"u\.csv:8: code 'd1' is used twice \(first at .*u\.csv:4\)", id="duplicate"),
    pytest.param(SMALL + "s9,Street,,d9,4\n",
                 r"u\.csv:8: parent 'd9' of 's9' is not a unit in the file",
                 id="unknown-parent"),
    pytest.param(SMALL + "d3,District,,h,6\n", r"u\.csv:8: level must be 1 to 5, got '6'",
                 id="level-6"),
    pytest.param(SMALL + "d3,District,,h,0\n", r"u\.csv:8: level must be 1 to 5, got '0'",
                 id="level-0"),
    pytest.param(SMALL + "d3,District,,h,three\n",
                 r"u\.csv:8: level must be 1 to 5, got 'three'", id="level-text"),
    pytest.param(SMALL + "d3,District,,h,\n", r"u\.csv:8: level must be 1 to 5, got ''",
                 id="level-empty"),
    pytest.param(SMALL + "s3,Street,,h,4\n",
                 r"u\.csv:8: level 4 under parent 'h' of level 2: a unit's level is its "
                 r"parent's level \+ 1", id="level-skips"),
    pytest.param(SMALL + "d3,District,,d1,3\n", r"u\.csv:8: level 3 under parent 'd1' of level 3",
                 id="level-same-as-parent"),
    pytest.param(SMALL + "c2,City,,h,1\n", r"u\.csv:8: a level-1 unit has no parent, got 'h'",
                 id="root-with-parent"),
    pytest.param(SMALL + "d3,District,,,3\n", r"u\.csv:8: a level-3 unit needs a parent",
                 id="no-parent"),
    pytest.param(SMALL + "a,A,,b,3\nb,B,,a,3\n",
                 r"u\.csv:8: the parents go round in a cycle: a -> b -> a", id="cycle"),
    pytest.param(SMALL + "a,A,,a,3\n", r"u\.csv:8: the parents go round in a cycle: a -> a",
                 id="own-parent"),
    pytest.param(SMALL + "d3,District,,h\n", r"u\.csv:8: 5 fields expected .*got 4",
                 id="short-row"),
    pytest.param(SMALL + "d3,District,,h,3,extra\n", r"u\.csv:8: 5 fields expected .*got 6",
                 id="long-row"),
    pytest.param(HEADER + "c,City,,,1\nd1,District,,c,2\n".replace(",2", ",3"),
                 r"u\.csv:3: level 3 under parent 'c' of level 1", id="no-level-2-between"),
    pytest.param(HEADER + "c,City,,,1\n", r"u\.csv: no hotline office: no unit has level 2",
                 id="no-hotline-office"),
]


@pytest.mark.parametrize(("body", "message"), BAD)
def test_a_bad_file_names_the_line_and_the_problem(tmp_path: Path, body: str,
                                                   message: str) -> None:
    path = units_file(tmp_path, body)
    with pytest.raises(DirectoryError, match=message) as caught:
        load_directory(path)
    assert str(caught.value).startswith(str(path))


def test_nothing_half_built_is_returned(tmp_path: Path) -> None:
    # Every row but the last is good: the load raises, it does not return the good part.
    body = SMALL + "s2,Street,,d2,4\nv2,Village,,s2,5\nz,Broken,,gone,5\n"
    built: list[Directory] = []
    with pytest.raises(DirectoryError, match=r"u\.csv:10: parent 'gone'"):
        built.append(load_directory(units_file(tmp_path, body)))
    assert built == []
    good = [Unit("c", "City", None, 1), Unit("h", "Hotline", "c", 2)]
    with pytest.raises(DirectoryError, match=r"<units>: unit 'x': level 4 under parent 'h'"):
        Directory([*good, Unit("x", "X", "h", 4)])
    assert len(Directory(good)) == 2


def test_a_directory_built_in_memory_is_checked_too() -> None:
    good = [Unit("c", "City", None, 1), Unit("h", "Hotline", "c", 2)]
    with pytest.raises(DirectoryError, match=r"mem: unit 'c': code 'c' is used twice"):
        Directory([*good, Unit("c", "Again", None, 1)], source="mem")
    with pytest.raises(DirectoryError, match=r"<units>: unit 'x': level must be 1 to 5"):
        Directory([*good, Unit("x", "X", "h", 7)])
    with pytest.raises(DirectoryError, match=r"<units>: unit 'x y': code 'x y' is not 1 to 32"):
        Directory([*good, Unit("x y", "X", "h", 3)])
    with pytest.raises(DirectoryError, match=r"<units>: unit 'x': unit 'x' has no name"):
        Directory([*good, Unit("x", " ", "h", 3)])
    with pytest.raises(DirectoryError, match=r"mem: no hotline office"):
        Directory(good[:1], source="mem")


# The dispatch directory.

def taxonomy_file(tmp_path: Path, rows: str, header: str = "code,major,middle,minor,unit_code"
                  ) -> Path:
    path = tmp_path / "tax.csv"
    path.write_text(header + "\n" + rows, encoding="utf-8")
    return path


@pytest.fixture
def small(tmp_path: Path) -> Directory:
    return load_directory(units_file(tmp_path, SMALL))


def test_dispatch_reads_only_the_code_and_unit_code(tmp_path: Path, small: Directory) -> None:
    path = taxonomy_file(tmp_path, "010101,a,b,c,d1\n\n010102,a,b,\"x, y\",s1\n")
    items = read_dispatch_items(path)
    assert items == {"010101": ("d1", 2), "010102": ("s1", 4)}
    dispatch = build_dispatch(small, items, str(path))
    assert dispatch.unit_for("010102") == small.unit("s1")
    assert list(dispatch) == ["010101", "010102"] and dispatch.directory is small
    # a file with only these two columns, in another order, is read too
    other = taxonomy_file(tmp_path, "d2,020202\n", header="unit_code,code")
    assert read_dispatch_items(other) == {"020202": ("d2", 2)}


@pytest.mark.parametrize(("rows", "message"), [
    ("010101,a,b,c,d1\n010102,a,b,c,\n", r"tax\.csv:3: category 010102 has no unit_code"),
    ("010101,a,b,c,d1\n010102,a,b,c,d9\n",
     r"tax\.csv:3: category 010102: unit code 'd9' is not in the units directory \(.*u\.csv\)"),
])
def test_dispatch_to_a_missing_unit_names_the_line(tmp_path: Path, small: Directory, rows: str,
                                                   message: str) -> None:
    path = taxonomy_file(tmp_path, rows)
    with pytest.raises(DirectoryError, match=message):
        build_dispatch(small, read_dispatch_items(path), str(path))


def test_a_bad_taxonomy_file_for_dispatch(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError, match=r"tax\.csv:1: the header has no unit_code column"):
        read_dispatch_items(taxonomy_file(tmp_path, "010101,a,b,c,d1\n",
                                          header="code,major,middle,minor,unit"))
    with pytest.raises(DirectoryError,
                       match=r"tax\.csv:3: category 010101 is listed twice \(first at line 2\)"):
        read_dispatch_items(taxonomy_file(tmp_path, "010101,a,b,c,d1\n010101,a,b,d,d2\n"))
    with pytest.raises(DirectoryError, match=r"tax\.csv:2: the code is empty"):
        read_dispatch_items(taxonomy_file(tmp_path, ",a,b,c,d1\n"))


def test_a_dispatch_directory_built_in_memory_is_checked(small: Directory) -> None:
    with pytest.raises(DirectoryError, match=r"category 010101: unit code 'd9' is not in"):
        DispatchDirectory(small, {"010101": "d9"})
    assert DispatchDirectory(small, {"010101": "d2"}).unit_for("010101") == small.unit("d2")


def test_the_default_file_is_the_shipped_one() -> None:
    assert DEFAULT_FILE.parts[-3:] == ("units", "data", "units.csv") and DEFAULT_FILE.is_file()
