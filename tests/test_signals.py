"""Signal catalogue v1, hand-computed: every signal of the data contract on small inline data sets.

The small sets below are written to a data directory, loaded with the validator (so the frames
are exactly what the CLI hands the builder) and built both from the validated frames
(``build_signals``) and in the engine over the validated data directory (``signals_of``);
the two must agree. The expected values are worked out by hand in the comments.

Most sets live side by side (different group ids) in one data directory built once per module
(set A); the contracts table, the thresholds and the missing optional columns need their own.

Scoring month in most tests: M = 2026-06, so M-1 = 2026-05, M-2 = 2026-04, M-3 = 2026-03, and the
event window M-2..M is 2026-04-01 .. 2026-06-30.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from churnkit.errors import UsageError
from churnkit.months import parse_month
from churnkit.signals import SIGNALS, Settings
from churnkit.signals.build import build_signals, connect, signals_of
from churnkit.validate import load_dataset

from conftest import write_tables

M = "2026-06"
MONTHS = ["2026-03", "2026-04", "2026-05", M, "2026-07"]
CATALOGUE = [n for n, s in SIGNALS.items() if s.catalogue]
INT_SIGNALS = [n for n, s in SIGNALS.items() if s.kind == "int"]
FLOAT_SIGNALS = [n for n, s in SIGNALS.items() if s.kind == "float"]
USAGE_COLS = ["month", "group_id", "member_id", "call_count", "call_minutes", "forwarded_calls",
              "forwarded_offnet_calls", "competitor_hotline_calls"]


# --- helpers ----------------------------------------------------------------------------------
def groups_of(*ids, **cols) -> pd.DataFrame:
    return pd.DataFrame({"group_id": list(ids), **{k: list(v) for k, v in cols.items()}})


def billing_of(rows) -> pd.DataFrame:
    """rows: (month, group, member, charge[, plan_fee[, arrears]]); fewer fields -> fewer columns."""
    cols = ["month", "group_id", "member_id", "charge", "plan_fee", "arrears"]
    width = max(len(r) for r in rows)
    return pd.DataFrame([tuple(r) + (None,) * (width - len(r)) for r in rows], columns=cols[:width])


def usage_of(rows) -> pd.DataFrame:
    """rows: (month, group, member, call_count, forwarded, offnet, hotline); minutes = 2 * calls."""
    out = [(m, g, mem, c, 2.0 * c, f, o, h) for m, g, mem, c, f, o, h in rows]
    return pd.DataFrame(out, columns=USAGE_COLS)


def no_usage() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="string" if c in ("month", "group_id", "member_id") else "int64")
                         for c in USAGE_COLS})


def assert_sane(out: pd.DataFrame) -> None:
    """Invariants of every signal table: integer dtypes, no inf, exit_intent 0/1, shares in [0, 1]."""
    assert list(out.columns) == ["group_id", "month", *SIGNALS]
    assert not out.duplicated(["group_id", "month"]).any()
    for name in INT_SIGNALS:
        assert str(out[name].dtype) == "Int64", name
    for name in FLOAT_SIGNALS:
        assert out[name].dtype == "float64", name
        assert not np.isinf(out[name].to_numpy(dtype="float64", na_value=np.nan)).any(), name
    assert out["exit_intent_3m"].notna().all() and out["exit_intent_3m"].isin([0, 1]).all()
    for name in ("zero_call_share", "forwarding_share", "offnet_forwarding_share", "below_plan_share"):
        assert out[name].notna().all() and out[name].between(0, 1).all(), name
    for name in ("active_lines", "addon_cancels_3m", "competitor_hotline_calls_3m", "competitor_hotline_lines_3m",
                 "complaints_3m", "sp_complaints_3m", "addon_cancel_rate_3m", "spend", "tenure_months"):
        assert out[name].notna().all() and (out[name] >= 0).all(), name
    assert (out["active_lines"] >= 1).all()


def build(root, con, tables: dict, months: list[str], settings: Settings | None = None,
          parquet: bool = True) -> pd.DataFrame:
    """Validate, then build from frames (and from parquet); both must agree and be sane."""
    root = write_tables(root, {"usage": no_usage(), **tables})
    ds = load_dataset(root)
    idx = [parse_month(m) for m in months]
    out = build_signals(ds.to_frames(), idx, settings, con=con)
    if parquet:
        scanned = signals_of(ds, idx, settings)
        assert_frame_equal(out, scanned, check_exact=False, rtol=1e-12)
    assert_sane(out)
    return out


def row(out: pd.DataFrame, group: str, month: str = M) -> pd.Series:
    hit = out[(out["group_id"] == group) & (out["month"] == month)]
    assert len(hit) == 1, f"group {group} is not scored in {month}"
    return hit.iloc[0]


def check(out: pd.DataFrame, group: str, month: str = M, **expected) -> None:
    r = row(out, group, month)
    for col, want in expected.items():
        got = r[col]
        if want is None:
            assert pd.isna(got), f"{group} {month} {col}: expected null, got {got!r}"
        else:
            assert not pd.isna(got), f"{group} {month} {col}: expected {want!r}, got null"
            assert math.isclose(float(got), want, rel_tol=1e-12, abs_tol=1e-12), \
                f"{group} {month} {col}: {got!r} != {want!r}"


def scored(out: pd.DataFrame, month: str = M) -> set[str]:
    return set(out.loc[out["month"] == month, "group_id"])


def merge(*parts: dict) -> dict:
    """Data sets side by side in one directory (their group ids and lines are distinct)."""
    tables: dict[str, pd.DataFrame] = {}
    for part in parts:
        for name, frame in part.items():
            if name == "usage" and frame.empty:
                continue
            tables[name] = frame if name not in tables else pd.concat([tables[name], frame], ignore_index=True)
    return tables


# --- the small data sets ------------------------------------------------------------------------
def membership_tables() -> dict:
    rows = []
    # reg: 5 lines in M-3 (20 each = 100), 4 in M-2 (50 each = 200), 4 in M-1 (75 each = 300),
    #      3 in M (50 each = 150).
    rows += [("2026-03", "reg", f"r{i}", 20.0) for i in range(1, 6)]
    rows += [("2026-04", "reg", f"r{i}", 50.0) for i in range(1, 5)]
    rows += [("2026-05", "reg", f"r{i}", 75.0) for i in range(1, 5)]
    rows += [("2026-06", "reg", f"r{i}", 50.0) for i in range(1, 4)]
    # gap: lines in M-3 (4 lines, 200) and in M (3 lines, 150; a new line a5 billed 0), none in M-1/M-2.
    rows += [("2026-03", "gap", "a1", 100.0), ("2026-03", "gap", "a2", 50.0),
             ("2026-03", "gap", "a3", 30.0), ("2026-03", "gap", "a4", 20.0)]
    rows += [("2026-06", "gap", "a1", 90.0), ("2026-06", "gap", "a2", 60.0), ("2026-06", "gap", "a5", 0.0)]
    # gap2: M-3 (1 line, 100), M-2 none, M-1 (2 lines, 300), M (1 line, 100).
    rows += [("2026-03", "gap2", "b1", 100.0), ("2026-05", "gap2", "b1", 200.0), ("2026-05", "gap2", "b2", 100.0),
             ("2026-06", "gap2", "b1", 100.0)]
    # no3: nothing three months back; 2 lines in M-2, M-1 (10 each) and M (15 each).
    rows += [(m, "no3", f"c{i}", 10.0) for m in ("2026-04", "2026-05") for i in (1, 2)]
    rows += [("2026-06", "no3", f"c{i}", 15.0) for i in (1, 2)]
    # zero: active lines billed 0 in M-2 and M-1, 50 in M.
    rows += [("2026-04", "zero", "z1", 0.0), ("2026-05", "zero", "z1", 0.0), ("2026-05", "zero", "z2", 0.0),
             ("2026-06", "zero", "z1", 50.0)]
    # new: active in M only.
    rows += [("2026-06", "new", "n1", 10.0)]
    # drop: 100 in M-1, 0 in M.
    rows += [("2026-05", "drop", "d1", 100.0), ("2026-06", "drop", "d1", 0.0)]
    # an 18-digit id with a leading zero, to see it come out unchanged.
    rows += [("2026-06", "051010000000000001", "x01", 1.0)]
    groups = groups_of("reg", "gap", "gap2", "no3", "zero", "new", "drop", "051010000000000001")
    return {"groups": groups, "billing": billing_of(rows), "usage": no_usage()}


def usage_tables() -> dict:
    b, u = [], []
    # u: M-3: 4 lines all calling (zero share 0); M-2: no lines; M-1: 2 lines, u1 silent (0.5).
    for i in range(1, 5):
        b.append(("2026-03", "u", f"u{i}", 10.0))
        u.append(("2026-03", "u", f"u{i}", 5, 0, 0, 0))
    b += [("2026-05", "u", "u1", 10.0), ("2026-05", "u", "u2", 10.0)]
    u += [("2026-05", "u", "u1", 0, 0, 0, 0), ("2026-05", "u", "u2", 3, 0, 0, 0)]
    # M: u1 usage row with 0 calls and 10 forwards (none off-net); u2 active with no usage row;
    #    u3 5 calls, 9 forwards, 1 off-net; u4 1 call, 25 forwards, 3 off-net.
    b += [("2026-06", "u", f"u{i}", 10.0) for i in range(1, 5)]
    u += [("2026-06", "u", "u1", 0, 10, 0, 0), ("2026-06", "u", "u3", 5, 9, 1, 0), ("2026-06", "u", "u4", 1, 25, 3, 0)]
    # h (competitor hotline): M-3 h1 5 calls (outside M-2..M); M-2 h1 0, h2 2 (h2 then leaves);
    #    M-1 h1 1; M h1 3, h3 0, h4 1 (exactly the threshold). Every h line calls once a month.
    for m, mem, hot in [("2026-03", "h1", 5), ("2026-04", "h1", 0), ("2026-04", "h2", 2), ("2026-05", "h1", 1),
                        ("2026-06", "h1", 3), ("2026-06", "h3", 0), ("2026-06", "h4", 1)]:
        b.append((m, "h", mem, 10.0))
        u.append((m, "h", mem, 1, 0, 0, hot))
    return {"groups": groups_of("u", "h"), "billing": billing_of(b), "usage": usage_of(u)}


def plan_tables() -> dict:
    b = [
        # p: below = p1 only (p2 equal, p3 above, p4 plan unknown, p5 0 < 0 is false): 1/5 = 0.2.
        #    arrears: 10 + 5.5 = 15.5 (nulls skipped).
        (M, "p", "p1", 50.0, 88.0, 10.0), (M, "p", "p2", 88.0, 88.0, None), (M, "p", "p3", 100.0, 88.0, 5.5),
        (M, "p", "p4", 10.0, None, None), (M, "p", "p5", 0.0, 0.0, None),
        # q: q1 below, q2 not: 0.5; every arrears value null -> null (unknown is not zero).
        (M, "q", "q1", 20.0, 30.0, None), (M, "q", "q2", 20.0, 10.0, None),
        # r: plan unknown -> 0; arrears known to be 0 -> 0, not null.
        (M, "r", "rr1", 5.0, None, 0.0),
        # s: arrears 7 in M-1, unknown in M -> 7 then null.
        ("2026-05", "s", "s1", 5.0, None, 7.0), (M, "s", "s1", 5.0, None, None),
    ]
    return {"groups": groups_of("p", "q", "r", "s"), "billing": billing_of(b)}


def event_tables() -> dict:
    b = []
    for m in ("2026-03", "2026-04", "2026-05", "2026-06", "2026-07"):
        b += [(m, "e1", "e1a", 10.0), (m, "e1", "e1c", 10.0)]
        b += [(m, g, f"{g}x", 10.0) for g in ("e2", "e3", "e4")]
    b += [("2026-03", "e1", "e1b", 10.0), ("2026-04", "e1", "e1b", 10.0)]  # e1b leaves after 2026-04
    addons = pd.DataFrame([
        ("e1", "e1a", "video", "cancel", "2026-03-31"),  # one day before M-2: out
        ("e1", "e1a", "video", "cancel", "2026-04-01"),  # first day of M-2: in
        ("e1", "e1a", "music", "subscribe", "2026-05-10"),  # a subscription: never counted
        ("e1", "e1b", "music", "cancel", "2026-05-15"),  # a line that has since left: counted
        ("e1", "e1c", "video", "cancel", "2026-06-30"),  # last day of M: in
        ("e1", "e1c", "music", "cancel", "2026-07-01"),  # one day after M: out
        ("e1", "e1a", "music", "cancel", "2026-07-31"),  # in for 2026-07 only
        ("e3", "e3x", "music", "subscribe", "2026-06-01"),
    ], columns=["group_id", "member_id", "product", "action", "date"])
    complaints = pd.DataFrame([
        ("e1", "e1a", "2026-02-28", "service"),
        ("e1", "e1a", "2026-03-31", "sp"),  # out
        ("e1", "e1a", "2026-04-01", "sp"),  # in
        ("e1", None, "2026-05-20", "network"),  # in, no member
        ("e1", "e1c", "2026-06-30", "billing"),  # in
        ("e1", "e1c", "2026-07-01", "sp"),  # out for M, in for 2026-07
        ("e1", "e1c", "2026-07-31", "sp"),  # in for 2026-07
        ("e2", "e2x", "2026-06-15", None),  # in, no category
    ], columns=["group_id", "member_id", "date", "category"])
    intel = pd.DataFrame([
        ("e1", "2026-04-01", "exit_intent", "联系人称可能整体转网"),  # in for M, out for 2026-07
        ("e1", "2026-07-15", "competitor_offer", "友商上门"),
        ("e2", "2026-03-31", "exit_intent", ""),  # out for M
        ("e2", "2026-05-01", "competitor_offer", ""),  # not exit intent
        ("e2", "2026-07-01", "exit_intent", ""),  # out for M, in for 2026-07
        ("e3", "2026-06-30", "exit_intent", None),  # in
    ], columns=["group_id", "date", "kind", "note"])
    return {"groups": groups_of("e1", "e2", "e3", "e4"), "billing": billing_of(b),
            "addons": addons, "complaints": complaints, "intel": intel}


def contract_end_tables() -> dict:
    ids = ["k1", "k2", "k3", "k4", "k5", "k6"]
    groups = groups_of(*ids, contract_end=["2026-12-31", "2026-06-01", "2025-11-30", None, "2026-07-01", "2026-07-31"])
    return {"groups": groups, "billing": billing_of([(M, g, f"{g}m", 1.0) for g in ids])}


def tenure_tables() -> dict:
    groups = groups_of("t1", "t2", "t3", "t4", opened=["2020-01-15", None, "2026-06-30", "2026-07-05"])
    b = billing_of([
        (M, "t1", "t1a", 1.0),
        ("2026-03", "t2", "t2a", 1.0), (M, "t2", "t2a", 1.0),  # t2: first active month 2026-03
        (M, "t3", "t3a", 1.0),
        (M, "t4", "t4a", 1.0), ("2026-07", "t4", "t4a", 1.0),  # billed before it opened
    ])
    return {"groups": groups, "billing": b}


def churn_tables() -> dict:
    b = billing_of([
        ("2026-05", "x1", "x1a", 1.0), (M, "x1", "x1a", 1.0),  # churns 2026-07: scored in M
        ("2026-04", "x2", "x2a", 1.0), ("2026-05", "x2", "x2a", 1.0),  # churns in M: not scored in M
        ("2026-05", "x3", "x3a", 1.0), (M, "x3", "x3a", 1.0),  # never churns
    ])
    churn = pd.DataFrame({"group_id": ["x1", "x2"], "churn_month": ["2026-07", M]})
    return {"groups": groups_of("x1", "x2", "x3"), "billing": b, "churn": churn}


def contract_tables() -> dict:
    ids = ["c1", "c2", "c3", "c4", "c5", "c6", "c7"]
    # The groups snapshot was exported after every renewal: its contract_end must not be used.
    groups = groups_of(*ids, contract_end=["2030-12-31"] * len(ids))
    b = billing_of([(m, g, f"{g}m", 1.0) for g in ids for m in (M, "2026-07")])
    contracts = pd.DataFrame([
        ("c1", "2023-07-01", "2026-06-30"), ("c1", "2026-07-01", "2028-06-30"),  # renewal after M
        ("c2", "2024-01-01", "2025-12-31"), ("c2", "2026-06-30", "2027-06-29"),  # renewal on M's last day
        ("c3", "2022-01-01", "2025-12-31"),  # lapsed
        # c4: no agreement rows at all
        ("c5", "2026-08-01", "2027-07-31"),  # its only agreement starts after M
        # two agreements starting in the same month: the later start (06-20) is in force.
        ("c6", "2025-06-01", "2026-05-31"), ("c6", "2025-06-20", "2027-06-19"),
        ("c7", "2025-06-20", "2027-06-19"), ("c7", "2025-06-01", "2026-05-31"),
    ], columns=["group_id", "start", "end"])
    return {"groups": groups, "billing": b, "usage": no_usage(), "contracts": contracts}


def tables_a() -> dict:
    return merge(membership_tables(), usage_tables(), plan_tables(), event_tables(), contract_end_tables(),
                 tenure_tables(), churn_tables())


# --- fixtures: one DuckDB connection, set A built once for all its months ------------------------
@pytest.fixture(scope="module")
def con():
    return connect("duckdb")


@pytest.fixture(scope="module")
def a(tmp_path_factory, con) -> pd.DataFrame:
    return build(tmp_path_factory.mktemp("a") / "data", con, tables_a(), MONTHS)


# --- member_loss and spend_decline ------------------------------------------------------------
def test_active_lines_and_member_change(a):
    # reg: 3/4 - 1 = -0.25 over one month, 3/5 - 1 = -0.4 over three.
    check(a, "reg", active_lines=3, member_change_1m=-0.25, member_change_3m=-0.4)
    # gap: no lines in M-1 -> null; M-3 had 4 lines: 3/4 - 1 = -0.25.
    check(a, "gap", active_lines=3, member_change_1m=None, member_change_3m=-0.25)
    # gap2: 1/2 - 1 = -0.5; 1/1 - 1 = 0.
    check(a, "gap2", active_lines=1, member_change_1m=-0.5, member_change_3m=0.0)
    # no3: no active lines three months back -> null; 2/2 - 1 = 0 over one month.
    check(a, "no3", active_lines=2, member_change_1m=0.0, member_change_3m=None)
    check(a, "new", active_lines=1, member_change_1m=None, member_change_3m=None)
    check(a, "051010000000000001", active_lines=1)
    # reg in 2026-05: 4/4 - 1 = 0, nothing in 2026-02; in 2026-04: 4/5 - 1 = -0.2.
    check(a, "reg", "2026-05", active_lines=4, member_change_1m=0.0, member_change_3m=None)
    check(a, "reg", "2026-04", member_change_1m=-0.2)


def test_spend_and_spend_change_3m(a):
    # reg: 150 / mean(100, 200, 300) - 1 = 150/200 - 1 = -0.25.
    check(a, "reg", spend=150.0, spend_change_3m=-0.25)
    # gap: only M-3 was active: 150/200 - 1 = -0.25 (M-1 and M-2 are not zeros in the mean).
    check(a, "gap", spend=150.0, spend_change_3m=-0.25)
    # gap2: mean over M-3 and M-1 only = (100 + 300)/2 = 200: 100/200 - 1 = -0.5
    #       (zero-filling M-2 would give 100/(400/3) - 1 = -0.25).
    check(a, "gap2", spend=100.0, spend_change_3m=-0.5)
    # no3: 30 / mean(20, 20) - 1 = 0.5.
    check(a, "no3", spend=30.0, spend_change_3m=0.5)
    # zero: previous active months billed 0 -> mean 0 -> null, never inf.
    check(a, "zero", spend=50.0, spend_change_3m=None, member_change_1m=-0.5)
    # new: no active month in M-3..M-1 -> null.
    check(a, "new", spend=10.0, spend_change_3m=None)
    # drop: 0/100 - 1 = -1.
    check(a, "drop", spend=0.0, spend_change_3m=-1.0)
    # reg in 2026-05: 300 / mean(100, 200) - 1 = 1; in 2026-04: 200/100 - 1 = 1.
    check(a, "reg", "2026-05", spend_change_3m=1.0)
    check(a, "reg", "2026-04", spend_change_3m=1.0)


def test_groups_without_active_lines_in_m_are_not_scored(a):
    assert scored(a, M) >= {"reg", "gap", "gap2", "no3", "zero", "new", "drop", "051010000000000001"}
    assert {m for g, m in zip(a.group_id, a.month) if g == "gap"} == {"2026-03", M}
    assert {m for g, m in zip(a.group_id, a.month) if g == "gap2"} == {"2026-03", "2026-05", M}
    assert "new" not in scored(a, "2026-07") and "new" not in scored(a, "2026-05")


def test_a_month_does_not_depend_on_other_months_or_groups(tmp_path, con, a):
    alone = build(tmp_path / "data", con, membership_tables(), [M], parquet=False)
    together = a[a.group_id.isin(set(alone.group_id)) & (a.month == M)].reset_index(drop=True)
    # the same rows whether built alone for M or among other groups and months.
    assert_frame_equal(together, alone)


# --- idle_lines and call_forwarding -----------------------------------------------------------
def test_zero_call_share_counts_lines_without_usage_rows(a):
    # u in M: u1 (0 calls) and u2 (no usage row) of 4 lines: 2/4 = 0.5.
    # M-3..M-1 with active lines: M-3 0.0, M-1 0.5 (M-2 skipped): mean 0.25 -> change 0.5 - 0.25 = 0.25.
    check(a, "u", zero_call_share=0.5, zero_call_share_change_3m=0.25)
    # h: every line calls: 0, and 0 before -> change 0.
    check(a, "h", zero_call_share=0.0, zero_call_share_change_3m=0.0)
    # membership groups have no usage rows at all: every line is zero-call.
    check(a, "reg", zero_call_share=1.0, zero_call_share_change_3m=0.0)
    check(a, "new", zero_call_share=1.0, zero_call_share_change_3m=None)


def test_forwarding_shares_default_thresholds(a):
    # >= 10 forwards: u1 (10), u4 (25) of 4 -> 0.5; >= 1 off-net: u3 (1), u4 (3) of 4 -> 0.5.
    check(a, "u", forwarding_share=0.5, offnet_forwarding_share=0.5)
    check(a, "h", forwarding_share=0.0, offnet_forwarding_share=0.0)


@pytest.mark.parametrize(("settings", "fwd", "offnet"), [
    (Settings(forwarding_calls=9), 0.75, 0.5),  # u1, u3, u4
    (Settings(forwarding_calls=26), 0.0, 0.5),  # nobody
    (Settings(offnet_forwarding_calls=2), 0.5, 0.25),  # off-net: u4 only
])
def test_forwarding_thresholds_are_settings(tmp_path, con, settings, fwd, offnet):
    out = build(tmp_path / "data", con, usage_tables(), [M], settings, parquet=False)
    check(out, "u", forwarding_share=fwd, offnet_forwarding_share=offnet)


def test_competitor_hotline_window_includes_lines_that_left(a):
    # M window 2026-04..06: 0 + 2 + 1 + 3 + 0 + 1 = 7 calls; lines with >= 1: h2 (left after 04), h1, h4 -> 3.
    check(a, "h", M, competitor_hotline_calls_3m=7, competitor_hotline_lines_3m=3)
    # 2026-05 window 03..05: 5 + 0 + 2 + 1 = 8 calls; lines h1, h2 -> 2 (h1 counted once).
    check(a, "h", "2026-05", competitor_hotline_calls_3m=8, competitor_hotline_lines_3m=2)
    check(a, "u", M, competitor_hotline_calls_3m=0, competitor_hotline_lines_3m=0)


# --- spend_decline (plan) and arrears ----------------------------------------------------------
def test_below_plan_share_and_arrears_total(a):
    check(a, "p", below_plan_share=0.2, arrears_total=15.5)
    check(a, "q", below_plan_share=0.5, arrears_total=None)
    check(a, "r", below_plan_share=0.0, arrears_total=0.0)
    check(a, "s", "2026-05", below_plan_share=0.0, arrears_total=7.0)
    check(a, "s", M, arrears_total=None)
    # groups whose rows all have null arrears (they come from sets without the column): null.
    check(a, "reg", arrears_total=None)


def test_without_optional_columns_and_tables(tmp_path, con):
    """Only the required columns, no event tables: below-plan 0, arrears and contract end null,
    tenure from the first active month, event counts 0."""
    b = billing_of([("2025-12", "g", "g1", 50.0), (M, "g", "g1", 50.0), (M, "g", "g2", 0.0)])
    assert list(b.columns) == ["month", "group_id", "member_id", "charge"]
    out = build(tmp_path / "data", con, {"groups": groups_of("g"), "billing": b, "usage": no_usage()}, [M])
    check(out, "g", active_lines=2, spend=50.0, below_plan_share=0.0, arrears_total=None,
          months_to_contract_end=None, tenure_months=6,  # 2026-06 - 2025-12
          addon_cancels_3m=0, addon_cancel_rate_3m=0.0, complaints_3m=0, sp_complaints_3m=0, exit_intent_3m=0)


def test_arrears_column_all_null(tmp_path, con):
    b = billing_of([(M, "p", "p1", 50.0, 60.0, None), (M, "p", "p2", 0.0, None, None)])
    out = build(tmp_path / "data", con, {"groups": groups_of("p"), "billing": b, "usage": no_usage()}, [M])
    check(out, "p", below_plan_share=0.5, arrears_total=None)


# --- events: addons, complaints, intel ----------------------------------------------------------
def test_event_window_edges(a):
    # M: cancels dated 04-01, 05-15 (line left), 06-30 -> 3; 2 active lines -> rate 1.5.
    #    complaints 04-01 sp, 05-20 network, 06-30 billing -> 3, of which sp 1. exit intent 04-01 -> 1.
    check(a, "e1", M, addon_cancels_3m=3, addon_cancel_rate_3m=1.5, complaints_3m=3, sp_complaints_3m=1,
          exit_intent_3m=1)
    # 2026-07 (window 05-01..07-31): cancels 05-15, 06-30, 07-01, 07-31 -> 4, rate 2.0;
    #    complaints 05-20, 06-30, 07-01 sp, 07-31 sp -> 4, sp 2; exit intent 04-01 is out -> 0.
    check(a, "e1", "2026-07", addon_cancels_3m=4, addon_cancel_rate_3m=2.0, complaints_3m=4, sp_complaints_3m=2,
          exit_intent_3m=0)
    # 2026-05 (window 03-01..05-31): cancels 03-31, 04-01, 05-15 -> 3 over 2 lines (e1b left) -> 1.5;
    #    complaints 03-31 sp, 04-01 sp, 05-20 -> 3, sp 2 (02-28 is out).
    check(a, "e1", "2026-05", addon_cancels_3m=3, addon_cancel_rate_3m=1.5, complaints_3m=3, sp_complaints_3m=2,
          exit_intent_3m=1)
    # e2: exit intents on 03-31 and 07-01 only, a competitor offer in between -> 0 in M, 1 in 2026-07.
    #     one complaint without category on 06-15 -> 1 complaint, 0 sp.
    check(a, "e2", M, addon_cancels_3m=0, addon_cancel_rate_3m=0.0, complaints_3m=1, sp_complaints_3m=0,
          exit_intent_3m=0)
    check(a, "e2", "2026-07", exit_intent_3m=1, complaints_3m=1)
    check(a, "e2", "2026-05", exit_intent_3m=1)  # 03-31 is inside 03..05
    # e3: exit intent on the last day of M -> 1 in M and 2026-07, 0 in 2026-05; a subscription is no cancel.
    check(a, "e3", M, exit_intent_3m=1, addon_cancels_3m=0)
    check(a, "e3", "2026-07", exit_intent_3m=1)
    check(a, "e3", "2026-05", exit_intent_3m=0)
    # e4: no events at all: zeros, never null.
    check(a, "e4", M, addon_cancels_3m=0, addon_cancel_rate_3m=0.0, complaints_3m=0, sp_complaints_3m=0,
          exit_intent_3m=0)


# --- contract_expiry ---------------------------------------------------------------------------
def test_months_to_contract_end_from_groups(a):
    check(a, "k1", months_to_contract_end=6)  # 2026-12 - 2026-06
    check(a, "k2", months_to_contract_end=0)  # ends in M
    check(a, "k3", months_to_contract_end=-7)  # past: 2025-11 - 2026-06
    check(a, "k4", months_to_contract_end=None)  # unknown
    check(a, "k5", months_to_contract_end=1)  # the day of the month is ignored:
    check(a, "k6", months_to_contract_end=1)  # 07-01 and 07-31 are both one month away


def test_months_to_contract_end_from_contracts(tmp_path, con):
    out = build(tmp_path / "data", con, contract_tables(), [M, "2026-07"])
    # c1: the renewal signed after M is not used in M: 2026-06 - 2026-06 = 0; in 2026-07 it is:
    #     2028-06 - 2026-07 = 23.
    check(out, "c1", M, months_to_contract_end=0)
    check(out, "c1", "2026-07", months_to_contract_end=23)
    # c2: renewal starting on the last day of M is in force in M: 2027-06 - 2026-06 = 12.
    check(out, "c2", M, months_to_contract_end=12)
    # c3: past: 2025-12 - 2026-06 = -6, then -7.
    check(out, "c3", M, months_to_contract_end=-6)
    check(out, "c3", "2026-07", months_to_contract_end=-7)
    # c4: contracts is the only source; no rows -> null (the snapshot's 2030-12 is ignored).
    check(out, "c4", M, months_to_contract_end=None)
    # c5: nothing in force yet -> null.
    check(out, "c5", M, months_to_contract_end=None)
    check(out, "c5", "2026-07", months_to_contract_end=None)
    # c6, c7: latest start (2025-06-20, ending 2027-06) whatever the row order: 12.
    check(out, "c6", M, months_to_contract_end=12)
    check(out, "c7", M, months_to_contract_end=12)


# --- profile -----------------------------------------------------------------------------------
def test_tenure_from_opened_or_first_active_month(a):
    check(a, "t1", M, tenure_months=77)  # (2026*12 + 5) - (2020*12 + 0)
    check(a, "t2", "2026-03", tenure_months=0)  # no opened: first active month
    check(a, "t2", M, tenure_months=3)
    check(a, "t3", M, tenure_months=0)  # opened during M: the day is ignored
    # t4 opened after M: not scored in M; scored in 2026-07 with tenure 0.
    assert "t4" not in scored(a, M)
    check(a, "t4", "2026-07", tenure_months=0)


# --- who is scored -----------------------------------------------------------------------------
def test_churned_groups_are_not_scored(a):
    assert {"x1", "x2", "x3"} <= scored(a, "2026-05")
    assert {"x1", "x3"} <= scored(a, M) and "x2" not in scored(a, M)
    assert "x1" not in scored(a, "2026-07")


def test_churn_filter_on_unvalidated_frames(tmp_path, con):
    """Billing rows at or after churn_month (which the validator rejects) still do not get scored."""
    root = write_tables(tmp_path / "data", {"usage": no_usage(), **churn_tables()})
    frames = load_dataset(root).to_frames()
    frames["churn"] = pd.DataFrame({"group_id": ["x1", "x3"], "churn_month": [M, "2026-05"]})
    out = build_signals(frames, [parse_month("2026-05"), parse_month(M)], con=con)
    # x1 churns in M: scored in 2026-05 only; x3 churned in 2026-05: never; x2 has no churn row now.
    assert scored(out, "2026-05") == {"x1", "x2"}
    assert scored(out, M) == set()


# --- the table as a whole ------------------------------------------------------------------------
def test_whole_table_shape_types_and_order(a):
    assert set(CATALOGUE) <= set(a.columns)
    assert a["group_id"].map(type).eq(str).all()
    assert set(a["month"]) == set(MONTHS)
    keys = a[["month", "group_id"]].to_numpy().tolist()
    assert keys == sorted(keys)
    for name in INT_SIGNALS:
        assert a[name].dtype == "Int64"


def test_unknown_engine_is_a_usage_error():
    with pytest.raises(UsageError):
        connect("oracle")


def test_parts_over_one_monthly_aggregate_equal_separate_builds():
    """The report builds its month and its backtest months in parts over one monthly aggregate:
    each part is what a build of those months alone gives, windowed data included (tenure from
    the first billing month before the window)."""
    from churnkit.signals.build import signals_in_parts
    from conftest import SAMPLE

    window = (parse_month("2025-06"), parse_month("2026-10"))
    ds = load_dataset(SAMPLE, window=window)
    parts = [[parse_month("2026-10")], [parse_month("2026-01"), parse_month("2026-02")], [parse_month("2026-05")]]
    together = list(signals_in_parts(ds, parts))
    assert [sorted(f["month"].unique()) for f in together] == [["2026-10"], ["2026-01", "2026-02"], ["2026-05"]]
    for part, frame in zip(parts, together):
        assert len(frame) > 1000
        assert_frame_equal(frame, signals_of(ds, part))
    assert not ds.db.execute("SELECT * FROM duckdb_tables() WHERE table_name LIKE '__signals%'").fetchall()
