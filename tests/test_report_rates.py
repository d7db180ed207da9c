"""Churn rates on a small inline data set, worked out by hand.

Groups (one line each; charge per month in yuan):

    G1  tier A  Jan-May, 100 a month, never leaves
    G2  tier B  Jan-Feb, 50 a month, churn_month 2026-03
    G3  tier B  Jan 30, no bill in Feb (a gap month), Mar-Apr 30, churn_month 2026-05
    G4  tier C  Jan-Mar, 0 yuan (zero spend), churn_month 2026-04
    G5  tier C  opened 2026-03-10, billed in Mar only (80), churn_month 2026-04: leaves after its first month
    G6  tier C  opened 2026-02-01, never billed, churn_month 2026-02: leaves in its first month, in no base

    month  base (active the month before)   spend  churned     absolute  relative
    Feb    G1 G2 G3 G4                       180    -           0         0
    Mar    G1 G2 G4 (G3 skipped Feb)         150    G2          1/3       50/150
    Apr    G1 G3 G4 G5                       210    G4 G5       2/4       80/210
    May    G1 G3                             130    G3          1/2       30/130
"""

from __future__ import annotations

import pandas as pd
import pytest

from churnkit.report.rates import churn_rates, churn_rates_by, rate_months, totals
from churnkit.months import parse_month
from churnkit.validate import load_dataset
from conftest import write_tables

BILLS = {
    "G1": {"2026-01": 100, "2026-02": 100, "2026-03": 100, "2026-04": 100, "2026-05": 100},
    "G2": {"2026-01": 50, "2026-02": 50},
    "G3": {"2026-01": 30, "2026-03": 30, "2026-04": 30},
    "G4": {"2026-01": 0, "2026-02": 0, "2026-03": 0},
    "G5": {"2026-03": 80},
}


def rate_tables() -> dict[str, pd.DataFrame]:
    groups = pd.DataFrame({
        "group_id": ["G1", "G2", "G3", "G4", "G5", "G6"],
        "value_tier": ["A", "B", "B", "C", "C", "C"],
        "region": ["成都", "成都", "绵阳", "绵阳", None, "成都"],
        "opened": ["2020-01-01", "2021-01-01", "2022-01-01", "2023-01-01", "2026-03-10", "2026-02-01"],
    })
    billing = pd.DataFrame([{"month": m, "group_id": g, "member_id": f"{g}-1", "charge": float(c)}
                            for g, bills in BILLS.items() for m, c in bills.items()])
    usage = billing[["month", "group_id", "member_id"]].assign(call_count=5, call_minutes=10.0, forwarded_calls=0,
                                                               forwarded_offnet_calls=0, competitor_hotline_calls=0)
    churn = pd.DataFrame({"group_id": ["G2", "G3", "G4", "G5", "G6"],
                          "churn_month": ["2026-03", "2026-05", "2026-04", "2026-04", "2026-02"]})
    return {"groups": groups, "billing": billing, "usage": usage, "churn": churn}


@pytest.fixture
def rates_data(tmp_path):
    return load_dataset(write_tables(tmp_path / "data", rate_tables()))


def test_months_need_the_month_before_in_the_data(rates_data):
    assert rate_months(rates_data, parse_month("2026-05")) == [parse_month(m) for m in ("2026-02", "2026-03", "2026-04", "2026-05")]
    assert rate_months(rates_data, parse_month("2026-05"), count=2) == [parse_month("2026-04"), parse_month("2026-05")]


def test_overall_rates_by_hand(rates_data):
    table = churn_rates(rates_data, parse_month("2026-05")).set_index("month")
    assert table["groups_at_start"].tolist() == [4, 3, 4, 2]
    assert table["groups_churned"].tolist() == [0, 1, 2, 1]
    assert table["spend_at_start"].tolist() == [180.0, 150.0, 210.0, 130.0]
    assert table["spend_churned"].tolist() == [0.0, 50.0, 80.0, 30.0]
    assert table["absolute_churn_rate"].tolist() == pytest.approx([0.0, 1 / 3, 0.5, 0.5])
    assert table["relative_churn_rate"].tolist() == pytest.approx([0.0, 50 / 150, 80 / 210, 30 / 130])


def test_report_month_limits_the_months(rates_data):
    table = churn_rates(rates_data, parse_month("2026-03"))
    assert table["month"].tolist() == ["2026-02", "2026-03"]


def test_rates_by_value_tier_with_a_zero_spend_base(rates_data):
    by = churn_rates_by(rates_data, parse_month("2026-05"))
    tier = by["value_tier"].set_index(["value_tier", "month"])
    # tier C in March: only G4, which spent nothing: absolute 0/1, relative undefined (null)
    assert tier.loc[("C", "2026-03"), "groups_at_start"] == 1
    assert tier.loc[("C", "2026-03"), "absolute_churn_rate"] == 0.0
    assert pd.isna(tier.loc[("C", "2026-03"), "relative_churn_rate"])
    # tier C in April: G4 (0 yuan) and G5 (80 yuan) both leave
    assert tier.loc[("C", "2026-04"), "absolute_churn_rate"] == 1.0
    assert tier.loc[("C", "2026-04"), "relative_churn_rate"] == 1.0
    assert tier.loc[("B", "2026-05"), ["groups_at_start", "groups_churned"]].tolist() == [1, 1]
    assert ("A", "2026-05") in tier.index and tier.loc[("A", "2026-05"), "groups_churned"] == 0


def test_every_base_group_is_counted_once_per_dimension(rates_data):
    overall = churn_rates(rates_data, parse_month("2026-05")).set_index("month")
    for dim, table in churn_rates_by(rates_data, parse_month("2026-05")).items():
        summed = table.groupby("month")[["groups_at_start", "groups_churned"]].sum()
        assert summed["groups_at_start"].tolist() == overall["groups_at_start"].tolist(), dim
        assert summed["groups_churned"].tolist() == overall["groups_churned"].tolist(), dim


def test_a_group_without_region_is_its_own_row(rates_data):
    region = churn_rates_by(rates_data, parse_month("2026-05"))["region"]
    blank = region[region["region"].isna()]
    assert blank["month"].tolist() == ["2026-04"] and blank["groups_churned"].tolist() == [1]  # G5


def test_twelve_month_totals(rates_data):
    tier = totals(churn_rates_by(rates_data, parse_month("2026-05"))["value_tier"], "value_tier").set_index("value_tier")
    # C: base Feb G4, Mar G4, Apr G4 G5 = 4 group-months, 2 churned; spend 0 + 0 + 80, churned 80
    assert tier.loc["C", ["groups_at_start", "groups_churned"]].tolist() == [4, 2]
    assert tier.loc["C", "absolute_churn_rate"] == 0.5 and tier.loc["C", "relative_churn_rate"] == 1.0


def test_groups_without_churn_table_never_churn(tmp_path):
    tables = rate_tables()
    del tables["churn"]
    data = load_dataset(write_tables(tmp_path / "d", tables))
    table = churn_rates(data, parse_month("2026-05"))
    assert table["groups_churned"].sum() == 0
    # without churn_month, G2 would be in May's base only with a bill in April; it has none
    assert table["groups_at_start"].tolist() == [4, 3, 4, 2]
