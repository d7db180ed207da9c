"""Tests of the data simulator: determinism, the data contract, and the planted realism."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from churnkit.errors import UsageError
from churnkit.months import format_month, parse_month
from churnkit.simulate import simulate, spring_festival_month

START, MONTHS = "2024-11", 14  # covers the 2025 Spring Festival (February 2025)


def _month_index(text: pd.Series) -> pd.Series:
    return text.map(parse_month)


def _month_of_date(dates: pd.Series) -> pd.Series:
    d = pd.to_datetime(dates)
    return d.dt.year * 12 + d.dt.month - 1


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("sim")
    summary = simulate(out, groups=400, months=MONTHS, start=START, seed=11)
    tables = {
        name: pd.read_parquet(out / f"{name}.parquet")
        for name in ("groups", "addons", "complaints", "intel", "contracts", "churn")
    }
    tables["billing"] = pd.read_parquet(out / "billing")
    tables["usage"] = pd.read_parquet(out / "usage")
    tables["truth"] = pd.read_parquet(out / "_truth" / "causes.parquet")
    return {"out": out, "summary": summary, **tables}


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.parquet"))}


# -- determinism and arguments -------------------------------------------------------------


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    a = simulate(tmp_path / "a", groups=60, months=5, start="2025-12", seed=3)
    b = simulate(tmp_path / "b", groups=60, months=5, start="2025-12", seed=3)
    simulate(tmp_path / "c", groups=60, months=5, start="2025-12", seed=4)
    fa, fb, fc = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert a == {**b, "out": a["out"]}
    assert len(fa) == 2 * 5 + 6 + 1  # billing + usage per month, 6 tables, the truth
    assert fa == fb
    assert fa.keys() == fc.keys()
    assert all(fa[k] != fc[k] for k in ("groups.parquet", "billing/2025-12.parquet"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"groups": 0},
        {"months": 0},
        {"start": "2025-13"},
        {"start": "2025/01"},
        {"seed": -1},
        {"groups": 2.5},
        {"groups": 10**7},
    ],
)
def test_bad_arguments_raise_usage_error(tmp_path, kwargs):
    args = {"groups": 5, "months": 2, "start": "2025-01", "seed": 1, **kwargs}
    with pytest.raises(UsageError):
        simulate(tmp_path / "x", **args)
    assert not (tmp_path / "x").exists()


def test_rerun_into_same_folder_drops_month_files_of_the_earlier_run(tmp_path):
    simulate(tmp_path, groups=10, months=4, start="2025-01", seed=1)
    simulate(tmp_path, groups=10, months=2, start="2025-01", seed=1)
    assert sorted(p.name for p in (tmp_path / "billing").iterdir()) == [
        "2025-01.parquet",
        "2025-02.parquet",
    ]
    assert len(list((tmp_path / "usage").iterdir())) == 2


def test_summary_matches_the_files(data):
    s = data["summary"]
    assert (s["groups"], s["months"], s["start"], s["end"]) == (400, MONTHS, START, "2025-12")
    assert s["churned_groups"] == len(data["churn"]) == sum(s["causes"].values())
    assert s["rows"]["billing"] == len(data["billing"])
    assert s["rows"]["usage"] == len(data["usage"])
    assert 0.03 < s["yearly_churn_rate"] < 0.3
    assert 0.6 < s["warned_share"] < 0.95
    assert s["warned_share"] == pytest.approx(data["truth"].warned.mean(), abs=1e-4)


# -- the data contract ---------------------------------------------------------------------


def test_keys_are_unique_and_usage_has_billing(data):
    b, u = data["billing"], data["usage"]
    assert not b.duplicated(["month", "member_id"]).any()
    assert not u.duplicated(["month", "member_id"]).any()
    joined = u.merge(b, on=["month", "member_id"], how="left", indicator=True)
    assert (joined["_merge"] == "both").all()
    assert (joined.group_id_x == joined.group_id_y).all()
    assert u.shape[0] < b.shape[0]  # some active lines had no traffic
    assert b.groupby("member_id").group_id.nunique().max() == 1  # one group per member


def test_all_group_ids_exist_and_are_18_digit_text(data):
    g = data["groups"]
    schema = pq.read_schema(data["out"] / "groups.parquet")
    assert schema.field("group_id").type == pa.string()
    assert g.group_id.str.fullmatch(r"\d{18}").all()
    assert g.group_id.is_unique
    for name in ("billing", "usage", "addons", "complaints", "intel", "contracts", "churn"):
        assert set(data[name].group_id) <= set(g.group_id), name
    assert data["billing"].member_id.str.fullmatch(r"1\d{10}").all()


def test_values_respect_the_contract(data):
    b, u = data["billing"], data["usage"]
    assert b.month.str.fullmatch(r"\d{4}-\d{2}").all()
    assert (b.charge >= 0).all() and (b.charge == b.charge.round(2)).all()
    assert (b.plan_fee.dropna() >= 0).all() and b.plan_fee.isna().any()
    assert (b.arrears.dropna() >= 0).all() and b.arrears.isna().any()
    assert (b.arrears > 0).mean() < 0.1
    ints = ["call_count", "forwarded_calls", "forwarded_offnet_calls", "competitor_hotline_calls"]
    for col in ints:
        assert pd.api.types.is_integer_dtype(u[col]) and (u[col] >= 0).all(), col
    assert (u.call_minutes >= 0).all() and (u.data_mb >= 0).all()
    assert (u.forwarded_offnet_calls <= u.forwarded_calls).all()
    assert (b.charge < b.plan_fee).mean() > 0.02  # some lines billed below their plan


def test_event_tables_use_the_contract_vocabulary(data):
    first, last = parse_month(START), parse_month(START) + MONTHS - 1
    assert set(data["addons"].action) == {"subscribe", "cancel"}
    assert set(data["complaints"].category) == {"sp", "network", "billing", "service"}
    assert data["complaints"].member_id.isna().any()
    assert set(data["intel"].kind) <= {"exit_intent", "competitor_offer"}
    assert data["intel"].note.str.len().gt(0).all()
    for name in ("addons", "complaints", "intel"):
        months = _month_of_date(data[name].date)
        assert months.between(first, last).all(), name


def test_churned_groups_bill_before_and_never_from_churn_month(data):
    b, churn = data["billing"], data["churn"]
    last = parse_month(START) + MONTHS - 1
    assert churn.group_id.is_unique
    cm = dict(zip(churn.group_id, _month_index(churn.churn_month), strict=True))
    assert max(cm.values()) <= last
    billed = b.assign(m=_month_index(b.month), cm=b.group_id.map(cm))
    assert not (billed.m >= billed.cm).any()
    before = billed[billed.m == billed.cm - 1].group_id.unique()
    assert set(before) == set(churn.group_id)
    # groups that stay keep at least one line every month after opening
    stayers = billed[billed.cm.isna()]
    per_group = stayers.groupby("group_id").m.agg(["min", "max", "nunique"])
    assert (per_group["max"] == last).all()
    assert (per_group["nunique"] == per_group["max"] - per_group["min"] + 1).all()


def test_agreements_and_opening_dates(data):
    g, con = data["groups"], data["contracts"]
    first = parse_month(START)
    assert not con.duplicated(["group_id", "start"]).any()
    assert (pd.to_datetime(con.end) > pd.to_datetime(con.start)).all()
    latest = con.sort_values("start").groupby("group_id").end.last()
    assert (g.set_index("group_id").contract_end == latest.reindex(g.group_id)).all()
    assert con.groupby("group_id").size().max() > 1  # renewals
    opened = _month_of_date(g.opened)
    assert (opened < first).mean() > 0.7 and (opened > first).any()
    first_bill = data["billing"].groupby("group_id").month.min().map(parse_month)
    assert (first_bill >= opened.set_axis(g.group_id).reindex(first_bill.index)).all()


# -- realism -------------------------------------------------------------------------------


def test_groups_are_heterogeneous(data):
    g, b = data["groups"], data["billing"]
    assert set(g.value_tier) == {"A", "B", "C"}
    assert g.industry.nunique() >= 8 and g.region.nunique() >= 8
    assert g.group_name.str.endswith("公司").all()
    lines = b[b.month == START].groupby("group_id").size()
    assert lines.min() == 1 and lines.max() >= 100 and 8 < lines.mean() < 25
    spend = b[b.month == START].groupby("group_id").charge.sum()
    tier = g.set_index("group_id").value_tier.reindex(spend.index)
    assert spend[tier == "A"].median() > spend[tier == "C"].median()


def test_truth_covers_exactly_the_churners(data):
    truth, churn = data["truth"], data["churn"]
    assert set(truth.group_id) == set(churn.group_id) and truth.group_id.is_unique
    by_group = churn.set_index("group_id").churn_month
    assert (truth.set_index("group_id").churn_month == by_group).all()
    assert truth.cause.nunique() >= 4
    assert truth.warned.any() and (~truth.warned).any()
    assert (truth.cause == "silent").eq(~truth.warned).all()
    known = {
        "member_loss", "spend_decline", "idle_lines", "call_forwarding", "addon_cancellation",
        "competitor_contact", "contract_expiry", "complaints", "exit_intent", "arrears", "profile",
    }  # fmt: skip
    fams = truth.matching_families.str.split(";")
    assert fams.map(lambda f: set(f) <= known and len(f) > 0).all()


def test_spring_festival_month_has_fewer_minutes_per_line(data):
    b, u = data["billing"], data["usage"]
    festival = format_month(spring_festival_month(2025))
    assert festival == "2025-02"
    traffic = u[["month", "member_id", "call_minutes", "call_count"]]
    lines = b[b.month.str.startswith("2025")].merge(traffic, how="left", on=["month", "member_id"])
    lines = lines.fillna({"call_minutes": 0.0, "call_count": 0})
    per_month = lines.groupby("month").call_minutes.mean()
    assert per_month[festival] < 0.9 * per_month.mean()
    zero_share = lines.assign(z=lines.call_count == 0).groupby("month").z.mean()
    assert zero_share[festival] > zero_share.drop(["2025-01", festival]).max()


def _precursor_means(data, column: str) -> tuple[float, float]:
    """Mean per group-month of a usage column in the 3 months before churn vs other months."""
    u, churn = data["usage"], data["churn"]
    per = u.groupby(["group_id", "month"])[column].sum().reset_index()
    per["m"] = _month_index(per.month)
    per["cm"] = per.group_id.map(dict(zip(churn.group_id, _month_index(churn.churn_month))))
    before = per[(per.m >= per.cm - 3) & (per.m < per.cm)]
    stayers = per[per.cm.isna()]
    return before[column].mean(), stayers[column].mean()


def test_churners_show_precursors_more_than_stayers(data):
    churners, stayers = _precursor_means(data, "competitor_hotline_calls")
    assert churners > 2 * stayers
    churners, stayers = _precursor_means(data, "forwarded_offnet_calls")
    assert churners > stayers
    # the signals are partial: many churners' last months look quiet
    truth = data["truth"]
    assert truth.matching_families.str.contains("competitor_contact").mean() < 0.6


def test_some_lines_leave_and_join_every_month(data):
    b = data["billing"]
    members = b.groupby("month").member_id.apply(set)
    months = list(members.index)
    for prev, cur in zip(months[:-1], months[1:], strict=True):
        assert members[prev] - members[cur] and members[cur] - members[prev]
