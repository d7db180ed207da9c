"""The feature table: profile columns, labels, and the scoring window that loads only recent months."""

from __future__ import annotations

import pandas as pd
import pytest

from churnkit.errors import UsageError
from churnkit.features import build_features, scoring_window
from churnkit.months import parse_month
from churnkit.validate import load_dataset

from conftest import tiny_tables, write_tables


def _old_history(tmp_path):
    tables = tiny_tables()
    tables["groups"]["opened"] = None  # tenure must come from the first active month
    old = tables["billing"].iloc[[0]].assign(month="2025-06")
    tables["billing"] = pd.concat([old, tables["billing"]], ignore_index=True)
    return write_tables(tmp_path / "d", tables)


def test_window_keeps_tenure_from_the_first_month_in_all_the_data(tmp_path):
    root = _old_history(tmp_path)
    month = parse_month("2026-03")
    windowed = load_dataset(root, window=scoring_window(month))
    assert "2025-06" not in windowed.months and windowed.coverage[0] == "2025-06"
    got = build_features(windowed, [month]).set_index("group_id")
    full = build_features(load_dataset(root), [month]).set_index("group_id")
    # group 1 first billed in 2025-06: 2026-03 is 9 months later, not 2 (its first month in the window)
    assert got.loc["510100000000000001", "tenure_months"] == 9
    pd.testing.assert_frame_equal(got, full)


def test_window_too_short_for_the_signals_is_refused(tmp_path):
    root = _old_history(tmp_path)
    month = parse_month("2026-03")
    dataset = load_dataset(root, window=(month - 2, month))
    with pytest.raises(UsageError, match="need 6 months of history"):
        build_features(dataset, [month])


def test_profile_columns_join_the_signals(tiny_dir):
    frame = build_features(load_dataset(tiny_dir), [parse_month("2026-01")]).set_index("group_id")
    assert frame.loc["510100000000000001", "value_tier"] == "A"
    assert frame["industry"].isna().all()  # absent from groups: present, empty


def test_window_over_monthly_files_with_date_months(tmp_path):
    """Monthly parquet files whose month is a first-of-month date: the window reads them the same."""
    tables = tiny_tables()
    tables["groups"]["opened"] = None
    old = tables["billing"].iloc[[0]].assign(month="2025-06")
    billing = pd.concat([old, tables["billing"]], ignore_index=True)
    root = write_tables(tmp_path / "d", {k: v for k, v in tables.items() if k not in ("billing", "usage")})
    for name, frame in (("billing", billing), ("usage", tables["usage"])):
        (root / name).mkdir()
        for month, part in frame.groupby("month"):
            part.assign(month=pd.to_datetime(part["month"] + "-01").dt.date).to_parquet(root / name / f"{month}.parquet", index=False)
    month = parse_month("2026-03")
    windowed = load_dataset(root, window=scoring_window(month))
    assert windowed.coverage == ["2025-06", "2026-01", "2026-02", "2026-03"]
    got = build_features(windowed, [month]).set_index("group_id")
    assert got.loc["510100000000000001", "tenure_months"] == 9
    pd.testing.assert_frame_equal(got, build_features(load_dataset(root), [month]).set_index("group_id"))
