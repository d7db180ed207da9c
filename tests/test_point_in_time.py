"""Point in time: the signals of month M read nothing dated after M.

Two ways: (1) the hand-made data sets of test_signals, cut at M, then given rows dated after M of
every kind (billing and usage of existing and new lines, a new group, late add-on cancellations,
complaints, intel, contract renewals starting after M, churn rows with a churn_month after M);
(2) a real-looking data set (the committed sample, else a simulated one) against itself cut at
M. Every feature of M (and of the months before it) must be exactly the same.
"""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from churnkit.months import format_month, parse_month
from churnkit.signals.build import build_signals, connect
from churnkit.validate import load_dataset

from conftest import write_tables
from test_signals import contract_tables, merge, no_usage, tables_a

M = "2026-06"


@pytest.fixture(scope="module")
def con():
    con = connect("duckdb")
    con.raw_sql("SET threads = 1")  # one summation order, so that exact equality is meaningful
    return con


def cut_at(tables: dict[str, pd.DataFrame], mi: int) -> dict[str, pd.DataFrame]:
    """The data set as it stood at the end of month ``mi`` (validated frames in, frames out)."""
    end = pd.Timestamp(format_month(mi + 1) + "-01")
    out = {}
    for name, frame in tables.items():
        if name in ("billing", "usage"):
            frame = frame[frame["month"].map(parse_month) <= mi]
        elif name in ("addons", "complaints", "intel"):
            frame = frame[frame["date"] < end]
        elif name == "contracts":
            frame = frame[frame["start"] < end]
        elif name == "churn":
            frame = frame[frame["churn_month"].map(parse_month) <= mi]
        out[name] = frame.reset_index(drop=True)
    return out


def load(root, tables) -> dict[str, pd.DataFrame]:
    return load_dataset(write_tables(root, {"usage": no_usage(), **tables})).to_frames()


def later_rows() -> dict[str, pd.DataFrame]:
    """Rows dated after M = 2026-06, for groups of test_signals' sets and one new group."""
    billing = pd.DataFrame([
        ("2026-07", "reg", "r1", 500.0), ("2026-08", "reg", "r1", 500.0),  # existing line
        ("2026-07", "reg", "r9", 80.0),  # a new line of an existing group
        ("2026-08", "gap", "a1", 0.0),
        ("2026-07", "no3", "c1", 1.0),  # no3 then churns in 2026-08
        ("2026-07", "u", "u1", 10.0), ("2026-07", "h", "h1", 10.0), ("2026-08", "h", "h2", 10.0),
        ("2026-08", "c1", "c1m", 1.0), ("2026-08", "p", "p1", 1.0), ("2026-07", "c3", "c3m", 1.0),
        ("2026-07", "e4", "e4x", 10.0),
        ("2026-07", "late", "L1", 99.0), ("2026-08", "late", "L1", 99.0),  # a new group
    ], columns=["month", "group_id", "member_id", "charge"])
    usage = pd.DataFrame([
        ("2026-07", "reg", "r1", 0, 0.0, 40, 40, 9), ("2026-07", "u", "u1", 0, 0.0, 99, 50, 3),
        ("2026-07", "h", "h1", 5, 9.0, 0, 0, 7), ("2026-08", "h", "h2", 1, 1.0, 0, 0, 1),
        ("2026-07", "late", "L1", 0, 0.0, 0, 0, 4),
    ], columns=["month", "group_id", "member_id", "call_count", "call_minutes", "forwarded_calls",
                "forwarded_offnet_calls", "competitor_hotline_calls"])
    addons = pd.DataFrame([
        ("e1", "e1a", "video", "cancel", "2026-07-01"), ("reg", "r2", "music", "cancel", "2026-07-02"),
        ("e4", "e4x", "video", "cancel", "2026-08-31"), ("late", "L1", "video", "cancel", "2026-07-15"),
    ], columns=["group_id", "member_id", "product", "action", "date"])
    complaints = pd.DataFrame([
        ("e1", "e1a", "2026-07-01", "sp"), ("e4", None, "2026-08-01", "network"), ("reg", "r1", "2026-07-31", "sp"),
    ], columns=["group_id", "member_id", "date", "category"])
    intel = pd.DataFrame([
        ("e4", "2026-07-01", "exit_intent", ""), ("reg", "2026-08-10", "exit_intent", ""),
        ("e2", "2026-07-05", "competitor_offer", ""),
    ], columns=["group_id", "date", "kind", "note"])
    contracts = pd.DataFrame([
        ("c3", "2026-07-01", "2028-06-30"),  # the lapsed group renews after M
        ("c6", "2026-08-01", "2029-07-31"),
        ("k1", "2026-07-01", "2027-06-30"),
    ], columns=["group_id", "start", "end"])
    churn = pd.DataFrame({"group_id": ["no3", "x1"], "churn_month": ["2026-08", "2026-07"]})
    groups = pd.DataFrame({"group_id": ["late"], "opened": ["2026-07-10"]})
    return {"groups": groups, "billing": billing, "usage": usage, "addons": addons, "complaints": complaints,
            "intel": intel, "contracts": contracts, "churn": churn}


def test_rows_after_m_change_nothing(tmp_path, con):
    mi = parse_month(M)
    before_raw = cut_raw(merge(tables_a(), contract_tables()), mi)
    before = load(tmp_path / "before", before_raw)
    after = load(tmp_path / "after", merge(before_raw, later_rows()))
    # the later rows are really there, and later than M.
    assert after["billing"]["month"].max() == "2026-08" and before["billing"]["month"].max() == M
    assert len(after["churn"]) > len(before["churn"]) and len(after["contracts"]) > len(before["contracts"])
    months = [mi - 2, mi - 1, mi]
    want = build_signals(before, months, con=con)
    got = build_signals(after, months, con=con)
    assert_frame_equal(got, want, check_exact=True)
    assert set(got["month"]) == {format_month(m) for m in months}
    # ... while month 2026-07 does see them (the test would pass vacuously otherwise).
    july = build_signals(after, [mi + 1], con=con).set_index("group_id")
    assert july.loc["reg", "exit_intent_3m"] == 0 and july.loc["e4", "exit_intent_3m"] == 1
    assert july.loc["c3", "months_to_contract_end"] == 23  # 2028-06 - 2026-07
    assert "x1" not in july.index and "late" in july.index


def cut_raw(tables: dict[str, pd.DataFrame], mi: int) -> dict[str, pd.DataFrame]:
    """cut_at for the raw (unvalidated, text-dated) hand-made tables."""
    out = {}
    for name, frame in tables.items():
        if name in ("billing", "usage"):
            frame = frame[frame["month"].map(parse_month) <= mi]
        elif name in ("addons", "complaints", "intel"):
            frame = frame[frame["date"].str[:7].map(parse_month) <= mi]
        elif name == "contracts":
            frame = frame[frame["start"].str[:7].map(parse_month) <= mi]
        elif name == "churn":
            frame = frame[frame["churn_month"].map(parse_month) <= mi]
        out[name] = frame.reset_index(drop=True)
    return out



@pytest.fixture(scope="module")
def realistic(sample_subset) -> dict[str, pd.DataFrame]:
    return sample_subset



def test_realistic_data_cut_at_m_gives_the_same_signals(con, realistic):
    last = max(parse_month(m) for m in realistic["billing"]["month"].unique())
    mi = last - 4
    cut = cut_at(realistic, mi)
    # there is something after M to ignore: billing months, events, renewals, churn.
    assert len(cut["billing"]) < len(realistic["billing"])
    for name in ("addons", "contracts", "churn"):
        assert len(cut[name]) < len(realistic[name]), name
    months = [mi - 1, mi]
    want = build_signals(cut, months, con=con)
    got = build_signals(realistic, months, con=con)
    assert len(want) > 100
    assert_frame_equal(got, want, check_exact=True)
