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


def test_a_large_training_panel_keeps_every_churner_and_weights_a_sample_of_the_rest(sim_dir):
    from churnkit.features import month_indexes, training_panel, usable_months

    dataset = load_dataset(sim_dir)
    months = usable_months(month_indexes(dataset), 3)
    train_months, later = months[:-4], months[-4:]
    full = training_panel(dataset, 3)
    sampled = training_panel(dataset, 3, sample_months=train_months, max_rows=2_000, seed=3)
    rate = sampled.attrs["sample"]["rate"]
    in_train = full["month"].map(parse_month).isin(train_months)
    total = int(in_train.sum())
    assert rate == pytest.approx(2_000 / total)
    key = ["group_id", "month"]
    # every churner snapshot of the training months is kept, with weight 1
    churners = full[in_train & (full["label"] == 1)].set_index(key).index
    kept = sampled.set_index(key)
    assert churners.isin(kept.index).all() and (kept.loc[churners, "weight"] == 1.0).all()
    # the others: about rate x their number, each standing for 1 / rate of them
    stayers = kept[kept.index.get_level_values("month").map(parse_month).isin(train_months) & (kept["label"] == 0)]
    n_stayers = int((in_train & (full["label"] == 0)).sum())
    assert abs(len(stayers) - rate * n_stayers) < 4 * (rate * n_stayers) ** 0.5
    assert stayers["weight"].to_numpy() == pytest.approx([1 / rate] * len(stayers))
    # validation and test months are complete and unweighted: calibration and evaluation see every group
    late = sampled[sampled["month"].map(parse_month).isin(later)]
    pd.testing.assert_frame_equal(late.drop(columns="weight").reset_index(drop=True),
                                  full[full["month"].map(parse_month).isin(later)].reset_index(drop=True))
    assert (late["weight"] == 1.0).all()
    # the same seed draws the same rows; the features of kept rows are those of the full panel
    again = training_panel(dataset, 3, sample_months=train_months, max_rows=2_000, seed=3)
    pd.testing.assert_frame_equal(sampled, again)
    merged = sampled.merge(full, on=key, suffixes=("", "_full"))
    assert len(merged) == len(sampled) and (merged["spend"] == merged["spend_full"]).all()


def test_crowded_validation_and_test_months_are_sampled_alike_and_unweighted(sim_dir):
    from churnkit.features import month_indexes, training_panel, usable_months

    dataset = load_dataset(sim_dir)
    months = usable_months(month_indexes(dataset), 3)
    train_months, later = months[:-4], months[-4:]
    full = training_panel(dataset, 3)
    sampled = training_panel(dataset, 3, sample_months=train_months, max_rows=10**9, evaluation_rows=1_500, seed=3)
    record = sampled.attrs["sample"]
    late_full = full[full["month"].map(parse_month).isin(later)]
    assert record["rate"] == 1.0 and record["evaluation_rate"] == pytest.approx(1_500 / len(late_full))
    key = ["group_id", "month"]
    kept = sampled.set_index(key)
    # the training months are whole; the later months about 1,500 snapshots, weight 1, as in the full panel
    early = kept[kept.index.get_level_values("month").map(parse_month).isin(train_months)]
    assert len(early) == int(full["month"].map(parse_month).isin(train_months).sum())
    late = kept[kept.index.get_level_values("month").map(parse_month).isin(later)]
    assert abs(len(late) - 1_500) < 4 * 1_500 ** 0.5 and (late["weight"] == 1.0).all()
    pd.testing.assert_frame_equal(late.drop(columns="weight"), late_full.set_index(key).loc[late.index])
    # churners are not favoured there: their share stays the months' own churn rate
    share, true_share = late["label"].mean(), late_full["label"].mean()
    assert abs(share - true_share) < 4 * (true_share * (1 - true_share) / len(late)) ** 0.5


def test_a_sampled_training_panel_builds_under_a_tight_memory_limit(tmp_path):
    """The sampled panel reads the stored monthly aggregates: one query over the raw line tables for
    every month held more than 100 MB on these 5,000 groups and failed; at 80 MB it builds now,
    spilling, and keeps the very rows a roomy engine keeps."""
    from churnkit.engine import EngineSettings
    from churnkit.features import month_indexes, training_panel, usable_months
    from churnkit.simulate import simulate

    root = tmp_path / "data"
    simulate(root, groups=5000, months=8, start="2025-01", seed=5)
    panels = []
    for limit in ("80MB", "2GB"):
        dataset = load_dataset(root, engine=EngineSettings(limit, tmp_path / "spill", 2, None))
        months = usable_months(month_indexes(dataset), 1)
        panels.append(training_panel(dataset, 1, sample_months=months[:3], max_rows=5_000, evaluation_rows=3_000, seed=3))
    tight, roomy = panels
    assert tight.attrs["sample"]["rate"] < 1 and tight.attrs["sample"]["evaluation_rate"] < 1
    pd.testing.assert_frame_equal(tight, roomy)
