"""The page drawn from the figures: sections, languages, and a province's thousands of managers."""

from __future__ import annotations

import copy
import json

from churnkit.report import html
from churnkit.report.svg import bar_chart, line_chart


def test_a_province_of_managers_keeps_the_page_small(report_files):
    _, twin = report_files
    figures = json.loads(twin.read_text(encoding="utf-8"))
    one = figures["risk"]["managers"][0]
    figures["risk"]["managers"] = [dict(copy.deepcopy(one), account_manager=f"经理{i:04d}") for i in range(1500)]
    rows = figures["churn_rates_totals"]["account_manager"][0]
    figures["churn_rates_totals"]["account_manager"] = [dict(rows, account_manager=f"经理{i:04d}", groups_churned=i) for i in range(1500)]
    page = html.render(figures, "zh")
    assert page.count('<div class="manager">') == html.MANAGER_BLOCKS
    assert f"其余 {1500 - html.MANAGER_BLOCKS:,} 位客户经理" in page
    assert "经理1499" in page  # every manager has at least a summary row
    assert "共 1,500 个，此处列出流失集团最多的 40 个" in page
    assert len(page.encode("utf-8")) < 5 * 1024 * 1024


def test_sections_in_order_in_both_languages(report_files):
    _, twin = report_files
    figures = json.loads(twin.read_text(encoding="utf-8"))
    for lang, title in (("zh", "集团客户流失预警月报"), ("en", "Group customer churn report")):
        page = html.render(figures, lang)
        positions = [page.index(f'<section id="{s}">') for s in ("summary", "churn-rates", "risk", "managers", "backtest", "drift", "definitions")]
        assert positions == sorted(positions) and title in page


def test_charts_leave_gaps_for_missing_values():
    svg = line_chart(["a", "b", "c"], {"rate": [0.1, None, 0.2]}, "t", str)
    assert svg.count("<circle") == 2 and svg.count("<polyline") == 2  # two runs, no point drawn at zero
    bars = bar_chart(["a", "b"], {"x": [1.0, float("nan")]}, "t", str, faded=[True, False])
    assert bars.count("<rect") == 2  # one bar and one legend swatch
    assert 'fill-opacity="0.35"' in bars
