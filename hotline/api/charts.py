"""The report page's charts (分析), drawn on the server as SVG with pygal: the monthly
ranking's scores by unit, and one casework rate by group, in percent.

Nothing in the SVG loads from the network (the hotline runs on isolated networks): no
pygal tooltip script from its CDN, no web fonts, no script at all. The labels are Chinese:
the font list starts with CJK fonts and ends with sans-serif.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pygal
from pygal.etree import etree  # lxml when installed, else xml.etree: the chart's own
from pygal.style import Style

# Each casework rate: its Chinese and English names (casework/reports.py says what each counts).
MEASURES: dict[str, tuple[str, str]] = {
    "on_time_rate": ("按期办结率", "On-time rate"),
    "response_rate": ("签收率", "Response rate"),
    "resolution_rate": ("解决率", "Resolution rate"),
    "satisfaction_rate": ("满意率", "Satisfaction rate"),
    "send_back_rate": ("退回率", "Send-back rate"),
    "direct_rate": ("直办率", "Direct rate"),
}
GROUPINGS: dict[str, tuple[str, str]] = {
    "unit": ("按单位", "by unit"),
    "category": ("按类别", "by category"),
    "district": ("按区县", "by district"),
    "month": ("按月", "by month"),
}
FONTS = ('"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", '
         '"PingFang SC", sans-serif')
STYLE = Style(font_family=FONTS, background="white", plot_background="white",
              foreground="#333", foreground_strong="#111", foreground_subtle="#ccc",
              colors=("#2f6fb0", "#d9822b"), title_font_size=18, label_font_size=13,
              major_label_font_size=13, value_font_size=12, legend_font_size=13)
WIDTH = 900
ROW_HEIGHT = 30  # a horizontal bar and its gap


def _config() -> dict[str, Any]:
    # js=[]: pygal's default is its tooltip script from kozea.github.io.
    return {"js": [], "style": STYLE, "width": WIDTH, "show_legend": False,
            "print_values": True, "disable_xml_declaration": True, "truncate_label": -1}


def _svg(chart: Any) -> bytes:
    """The chart as SVG, without pygal's inline <script> (its config for the tooltips)
    and its comments (links to its home page)."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if child.tag is etree.Comment or str(child.tag).rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return bytes(etree.tostring(tree, encoding="utf-8"))


def ranking_chart(rows: Sequence[Mapping[str, Any]], month: str) -> bytes:
    """The month's ranking: each unit's score (0-100) as a horizontal bar, best on top.

    ``rows`` are the ranking's (``label`` and ``score``), best first."""
    chart = pygal.HorizontalBar(
        **_config(), title=f"{month} 单位考核得分 Unit scores",
        height=max(240, 120 + ROW_HEIGHT * len(rows)), range=(0, 100), include_x_axis=True,
        value_formatter=lambda v: f"{v:g}", no_data_text="无数据 No data")
    ordered = list(reversed(rows))  # pygal draws the first label at the bottom
    chart.x_labels = [str(row["label"]) for row in ordered]
    chart.add("得分 Score", [float(row["score"]) for row in ordered])
    return _svg(chart)


def casework_chart(rows: Sequence[Mapping[str, Any]], measure: str, by: str,
                   period: str) -> bytes:
    """One rate of the casework report by group, in percent (a group with nothing to
    count has no bar). ``rows`` are the report's (``label`` and the rates, 0 to 1)."""
    if measure not in MEASURES:
        raise ValueError(f"no such measure {measure!r}: one of {', '.join(MEASURES)}")
    zh, en = MEASURES[measure]
    grouping = GROUPINGS.get(by, (by, by))
    chart = pygal.Bar(
        **_config(), title=f"{zh} {en} · {grouping[0]} {grouping[1]} · {period}", height=460,
        range=(0, 100), include_x_axis=True, x_label_rotation=30 if len(rows) > 8 else 0,
        value_formatter=lambda v: f"{v:g}%", no_data_text="无数据 No data")
    chart.x_labels = [str(row["label"]) for row in rows]
    chart.add(f"{zh} {en}", [None if row.get(measure) is None
                             else round(float(row[measure]) * 100, 1) for row in rows])
    return _svg(chart)
