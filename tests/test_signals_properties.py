"""Property test: on random small data sets the DuckDB builder equals a plain-Python catalogue v1.

Hypothesis draws a few groups with a few member lines over 1-8 calendar months (gap months,
empty months, lines with zero charges or no usage row, heavy and off-net forwarding around the
thresholds, hotline calls, unknown plan fees and arrears, optional columns), with add-on,
complaint and intel events, an optional contracts table (several agreements, sometimes two in
the same month) and churn rows. The data set goes through the validator, then the builder; the
reference below computes every catalogue v1 column the way the data contract words it, one
group and month at a time.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from churnkit.months import format_month, parse_month
from churnkit.signals import SIGNALS
from churnkit.signals.build import build_signals, connect
from churnkit.validate import load_dataset

from conftest import write_tables

BASE = parse_month("2025-11")  # windows cross a year boundary
CATALOGUE = [n for n, s in SIGNALS.items() if s.catalogue]
SHARES = ("zero_call_share", "forwarding_share", "offnet_forwarding_share", "below_plan_share")
COUNTS = ("active_lines", "addon_cancels_3m", "competitor_hotline_calls_3m", "competitor_hotline_lines_3m",
          "complaints_3m", "sp_complaints_3m", "exit_intent_3m")
CON = connect("duckdb")


def first_day(mi: int) -> dt.date:
    return dt.date(mi // 12, mi % 12 + 1, 1)


def day_of(mi: int, day: int) -> dt.date:
    return first_day(mi) + dt.timedelta(days=day - 1)  # day 1..28


def mi_of(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


# --- the random data sets ------------------------------------------------------------------------
@st.composite
def datasets(draw):
    n_months = draw(st.integers(1, 8))
    n_groups = draw(st.integers(1, 4))
    with_plan = draw(st.booleans())
    with_arrears = draw(st.booleans())
    with_contracts = draw(st.booleans())
    month_idx = list(range(BASE, BASE + n_months))
    groups, billing, usage = [], [], []
    addons, complaints, intel, contracts, churn = [], [], [], [], []
    maybe_date = st.one_of(st.none(), st.tuples(st.integers(-30, n_months + 1), st.integers(1, 28)))
    for g in range(n_groups):
        gid = f"g{g}"
        opened, end = draw(maybe_date), draw(maybe_date)
        groups.append({"group_id": gid,
                       "opened": None if opened is None else day_of(BASE + opened[0], opened[1]).isoformat(),
                       "contract_end": None if end is None else day_of(BASE + end[0], end[1]).isoformat()})
        members = [f"{gid}m{k}" for k in range(draw(st.integers(1, 4)))]
        last_active = None
        for mi in month_idx:
            if draw(st.booleans()) and draw(st.integers(0, 4)) == 0:
                continue  # a whole month without lines (gap or empty month)
            for mem in members:
                if not draw(st.booleans()):
                    continue
                last_active = mi
                row = {"month": format_month(mi), "group_id": gid, "member_id": mem,
                       "charge": draw(st.sampled_from([0.0, 0.5, 12.0, 88.0, 130.25]))}
                if with_plan:
                    row["plan_fee"] = draw(st.sampled_from([None, 0.0, 12.0, 88.0]))
                if with_arrears:
                    row["arrears"] = draw(st.sampled_from([None, 0.0, 3.5, 20.0]))
                billing.append(row)
                if draw(st.integers(0, 3)) > 0:  # else: an active line without a usage row
                    fwd = draw(st.sampled_from([0, 1, 9, 10, 11, 30]))
                    usage.append({"month": format_month(mi), "group_id": gid, "member_id": mem,
                                  "call_count": draw(st.sampled_from([0, 0, 1, 7])),
                                  "call_minutes": draw(st.sampled_from([0.0, 1.5, 60.0])),
                                  "forwarded_calls": fwd,
                                  "forwarded_offnet_calls": draw(st.integers(0, min(fwd, 3))),
                                  "competitor_hotline_calls": draw(st.sampled_from([0, 0, 1, 2]))})
        # events: any day from three months before the data to the end of its last month.
        event_day = st.tuples(st.integers(-3, n_months - 1), st.integers(1, 28))
        for _ in range(draw(st.integers(0, 4))):
            m, d = draw(event_day)
            addons.append({"group_id": gid, "member_id": draw(st.sampled_from(members)), "product": "video",
                           "action": draw(st.sampled_from(["subscribe", "cancel"])),
                           "date": day_of(BASE + m, d).isoformat()})
        for _ in range(draw(st.integers(0, 3))):
            m, d = draw(event_day)
            complaints.append({"group_id": gid, "member_id": draw(st.sampled_from([None, *members])),
                               "date": day_of(BASE + m, d).isoformat(),
                               "category": draw(st.sampled_from(["sp", "network", "billing", None]))})
        for _ in range(draw(st.integers(0, 2))):
            m, d = draw(event_day)
            intel.append({"group_id": gid, "date": day_of(BASE + m, d).isoformat(), "note": "",
                          "kind": draw(st.sampled_from(["exit_intent", "competitor_offer"]))})
        if with_contracts:
            starts = set()
            for _ in range(draw(st.integers(0, 3))):
                m, d = draw(st.integers(-24, n_months + 1)), draw(st.integers(1, 28))
                start = day_of(BASE + m, d)
                if start in starts:
                    continue
                starts.add(start)
                term = draw(st.sampled_from([0, 5, 12, 24]))
                contracts.append({"group_id": gid, "start": start.isoformat(),
                                  "end": (day_of(BASE + m + term, 28) - dt.timedelta(days=1)).isoformat()})
        if draw(st.integers(0, 3)) == 0:  # churns after its last billing month
            after = BASE if last_active is None else last_active + 1
            churn.append({"group_id": gid, "churn_month": format_month(after + draw(st.integers(0, 2)))})
    if not billing:
        billing.append({"month": format_month(BASE), "group_id": "g0", "member_id": "g0m0", "charge": 1.0})
        churn = [c for c in churn if c["group_id"] != "g0"]
    last = max(parse_month(b["month"]) for b in billing)
    end_of_data = first_day(last + 1)
    tables = {"groups": pd.DataFrame(groups), "billing": pd.DataFrame(billing),
              "usage": pd.DataFrame(usage, columns=["month", "group_id", "member_id", "call_count", "call_minutes",
                                                    "forwarded_calls", "forwarded_offnet_calls",
                                                    "competitor_hotline_calls"])}
    for name, rows, cols in [("addons", addons, ["group_id", "member_id", "product", "action", "date"]),
                             ("complaints", complaints, ["group_id", "member_id", "date", "category"]),
                             ("intel", intel, ["group_id", "date", "note", "kind"])]:
        rows = [r for r in rows if dt.date.fromisoformat(r["date"]) < end_of_data]  # no event after the data
        if rows or draw(st.booleans()):  # an absent table or an empty one
            tables[name] = pd.DataFrame(rows, columns=cols)
    if with_contracts and contracts:
        tables["contracts"] = pd.DataFrame(contracts)
    if churn:
        tables["churn"] = pd.DataFrame(churn)
    for name in ("usage", "addons", "complaints", "intel"):
        frame = tables.get(name)
        if frame is not None:  # keep column types when a table or a column holds no values
            types = {c: ("int64" if c in ("call_count", "forwarded_calls", "forwarded_offnet_calls",
                                          "competitor_hotline_calls") else "float64" if c == "call_minutes"
                         else "string") for c in frame.columns}
            tables[name] = frame.astype({c: t for c, t in types.items() if frame.empty or frame[c].isna().all()})
    return tables, BASE, last


# --- the reference: catalogue v1 as the contract words it ----------------------------------------
def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Python values with None for every missing value (NaN, NaT, pd.NA)."""
    return frame.astype(object).where(frame.notna(), None)


def reference(frames: dict[str, pd.DataFrame], months: list[int]) -> pd.DataFrame:
    frames = {name: plain(frame) for name, frame in frames.items()}
    billing = frames["billing"].copy()
    billing["mi"] = billing["month"].map(parse_month)
    usage = frames["usage"].copy()
    usage["mi"] = usage["month"].map(parse_month)
    groups = frames["groups"].set_index("group_id")

    def events(name):
        frame = frames.get(name)
        if frame is None or frame.empty:
            return []
        return [(r.group_id, mi_of(r.date), r) for r in frame.itertuples()]

    addons, complaints, intel = events("addons"), events("complaints"), events("intel")
    churn = {} if "churn" not in frames else {r.group_id: parse_month(r.churn_month) for r in frames["churn"].itertuples()}
    contracts = frames.get("contracts")

    lines: dict[tuple[str, int], list] = {}
    for r in billing.itertuples():
        lines.setdefault((r.group_id, r.mi), []).append(r)
    use = {(r.member_id, r.mi): r for r in usage.itertuples()}
    first_active = billing.groupby("group_id")["mi"].min().to_dict()

    def active(g, mi):
        return len(lines.get((g, mi), []))

    def spend(g, mi):
        return sum(r.charge for r in lines.get((g, mi), []))

    def calls(r, field):
        u = use.get((r.member_id, r.mi))
        return 0 if u is None else int(getattr(u, field))

    def zero_share(g, mi):
        rows = lines[(g, mi)]
        return sum(calls(r, "call_count") == 0 for r in rows) / len(rows)

    def known(v):
        return v is not None

    out = []
    for mi in months:
        for g in sorted(groups.index):
            n = active(g, mi)
            opened = groups.loc[g, "opened"] if "opened" in groups.columns else None
            opened_mi = mi_of(opened) if known(opened) else None
            if n == 0 or (g in churn and churn[g] <= mi) or (opened_mi is not None and opened_mi > mi):
                continue
            rows = lines[(g, mi)]
            prev = [m for m in (mi - 3, mi - 2, mi - 1) if active(g, m) > 0]
            rec = {"group_id": g, "month": format_month(mi), "active_lines": n}
            rec["member_change_1m"] = n / active(g, mi - 1) - 1 if active(g, mi - 1) else None
            rec["member_change_3m"] = n / active(g, mi - 3) - 1 if active(g, mi - 3) else None
            rec["spend"] = spend(g, mi)
            prev_spend = sum(spend(g, m) for m in prev) / len(prev) if prev else None
            rec["spend_change_3m"] = rec["spend"] / prev_spend - 1 if prev_spend else None
            rec["zero_call_share"] = zero_share(g, mi)
            rec["zero_call_share_change_3m"] = (rec["zero_call_share"] - sum(zero_share(g, m) for m in prev) / len(prev)
                                                if prev else None)
            rec["forwarding_share"] = sum(calls(r, "forwarded_calls") >= 10 for r in rows) / n
            rec["offnet_forwarding_share"] = sum(calls(r, "forwarded_offnet_calls") >= 1 for r in rows) / n
            window = range(mi - 2, mi + 1)
            rec["addon_cancels_3m"] = sum(1 for gg, m, r in addons if gg == g and m in window and r.action == "cancel")
            rec["addon_cancel_rate_3m"] = rec["addon_cancels_3m"] / n
            urows = [u for u in usage.itertuples() if u.group_id == g and u.mi in window]
            rec["competitor_hotline_calls_3m"] = sum(int(u.competitor_hotline_calls) for u in urows)
            rec["competitor_hotline_lines_3m"] = len({u.member_id for u in urows if u.competitor_hotline_calls >= 1})
            rec["complaints_3m"] = sum(1 for gg, m, r in complaints if gg == g and m in window)
            rec["sp_complaints_3m"] = sum(1 for gg, m, r in complaints if gg == g and m in window and r.category == "sp")
            rec["below_plan_share"] = sum(
                1 for r in rows if known(getattr(r, "plan_fee", None)) and r.charge < r.plan_fee) / n
            arrears = [r.arrears for r in rows if known(getattr(r, "arrears", None))]
            rec["arrears_total"] = sum(arrears) if arrears else None
            if contracts is not None:
                mine = [c for c in contracts.itertuples() if c.group_id == g and mi_of(c.start) <= mi]
                rec["months_to_contract_end"] = mi_of(max(mine, key=lambda c: c.start).end) - mi if mine else None
            else:
                end = groups.loc[g, "contract_end"] if "contract_end" in groups.columns else None
                rec["months_to_contract_end"] = mi_of(end) - mi if known(end) else None
            rec["tenure_months"] = mi - (opened_mi if opened_mi is not None else first_active[g])
            rec["exit_intent_3m"] = int(any(gg == g and m in window and r.kind == "exit_intent" for gg, m, r in intel))
            out.append(rec)
    return pd.DataFrame(out, columns=["group_id", "month", *CATALOGUE])


def assert_same(built: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert built[["group_id", "month"]].to_numpy().tolist() == ref[["group_id", "month"]].to_numpy().tolist()
    for name in CATALOGUE:
        a = built[name].astype("float64").to_numpy(na_value=np.nan)
        b = ref[name].astype("float64").to_numpy(na_value=np.nan)
        same = np.isclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True)  # atol: sums that cancel to 0
        assert same.all(), (f"{name}: builder {a[~same][:5]} != reference {b[~same][:5]} for "
                            f"{built.loc[~same, ['group_id', 'month']].to_numpy().tolist()[:5]}")


def assert_properties(built: pd.DataFrame) -> None:
    for name in CATALOGUE:
        values = built[name].astype("float64").to_numpy(na_value=np.nan)
        assert not np.isinf(values).any(), name
    for name in SHARES:
        assert built[name].notna().all() and built[name].between(0, 1).all(), name
    for name in COUNTS:
        assert built[name].notna().all() and (built[name] >= 0).all(), name
    assert built["exit_intent_3m"].isin([0, 1]).all()
    assert (built["tenure_months"] >= 0).all()
    assert (built["active_lines"] >= 1).all()


# No shrinking: a failure prints its (unshrunk) data set at once instead of minutes later in CI.
@settings(max_examples=30, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(datasets())
def test_builder_matches_reference(data):
    tables, first, last = data
    with tempfile.TemporaryDirectory() as tmp:
        frames = load_dataset(write_tables(Path(tmp) / "data", tables)).to_frames()
    months = list(range(first, last + 1))
    built = build_signals(frames, months, con=CON)
    assert_properties(built)
    assert_same(built, reference(frames, months))
