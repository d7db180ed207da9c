"""Backtest: top-decile figures by hand, in-sample marking, and point in time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnkit.features import build_features
from churnkit.model.bundle import load_bundle
from churnkit.months import format_month, parse_month
from churnkit.report.backtest import backtest, backtest_frame, backtest_months, deciles, scores, split_of, top_decile
from churnkit.validate import Dataset, load_dataset

from conftest import write_tables


def test_top_decile_by_hand():
    # 20 groups, the top two scores form decile 1; 4 churners, one of them in decile 1
    score = np.arange(20, 0, -1, dtype=float)
    y = np.zeros(20, dtype=int)
    y[[0, 5, 9, 15]] = 1
    lift, precision, recall = top_decile(y, score)
    assert precision == 0.5 and recall == 0.25
    assert lift == pytest.approx(0.5 / 0.2)


def test_top_decile_without_churners_is_undefined():
    lift, precision, recall = top_decile(np.zeros(10, dtype=int), np.arange(10.0))
    assert np.isnan(lift) and precision == 0.0 and np.isnan(recall)


def test_deciles_follow_the_scored_files_rule():
    # ceil(10 * rank / n) with n = 15: ranks 1 -> 1, 2 -> 2, 3 -> 2, 15 -> 10; ties keep input order
    d = deciles(np.array([0.9, 0.5, 0.5] + [0.1] * 12))
    assert d[:3].tolist() == [1, 2, 2] and d[-1] == 10


@pytest.fixture(scope="module")
def sim(sim_dir):
    return load_dataset(sim_dir)


def test_months_are_those_whose_horizon_has_passed(sim, trained_bundle):
    bundle = load_bundle(trained_bundle)
    last = parse_month(sim.months[-1])
    months = backtest_months(sim, last, bundle.horizon)
    assert months[-1] == last - bundle.horizon and len(months) == 12
    assert backtest_months(sim, last, bundle.horizon, count=3) == months[-3:]


def test_training_and_calibration_months_are_in_sample(sim, trained_bundle):
    bundle = load_bundle(trained_bundle)
    last = parse_month(sim.months[-1])
    months = backtest_months(sim, last, bundle.horizon)
    features = build_features(sim, months)
    table, calibration = backtest(backtest_frame(sim, bundle, features, months, last), bundle)
    parts = bundle.manifest["months"]
    for row in table.itertuples():
        assert row.in_sample == (row.month in parts["train"] or row.month in parts["valid"]), row.month
        assert row.split == split_of(bundle, row.month)
    assert set(table.loc[~table["in_sample"], "month"]) >= set(parts["test"])
    assert calibration.attrs["out_of_sample"] and set(calibration.attrs["pooled"]) >= set(parts["test"])
    assert calibration["groups"].sum() == table.loc[~table["in_sample"], "groups"].sum()
    assert ((table["churners"] >= 0) & (table["precision_top_decile"].between(0, 1))).all()


def _cut(dataset: Dataset, month: int, root, churn_until: str | None = None) -> Dataset:
    """The data as known at ``month``: every dated row after it removed (the churn table kept),
    written as a data directory of its own and opened."""
    label = format_month(month)
    tables = {}
    for name, frame in dataset.to_frames().items():
        if name == "churn" and churn_until is not None:
            frame = frame[frame["churn_month"] <= churn_until]
        if "month" in frame and name != "churn":
            frame = frame[frame["month"] <= label]
        for col in ("date", "start"):
            if col in frame:
                frame = frame[frame[col] < pd.Timestamp(year=(month + 1) // 12, month=(month + 1) % 12 + 1, day=1)]
        tables[name] = frame.reset_index(drop=True)
    return load_dataset(write_tables(root, tables))


def test_rows_after_a_backtest_month_change_nothing_for_it(sim, trained_bundle, tmp_path):
    bundle = load_bundle(trained_bundle)
    last = parse_month(sim.months[-1])
    month = backtest_months(sim, last, bundle.horizon)[-1]
    full = scores(sim, bundle, build_features(sim, [month]), last)
    known = _cut(sim, month, tmp_path / "known")
    assert len(known["billing"]) < len(sim["billing"])
    then = scores(known, bundle, build_features(known, [month]), last)
    pd.testing.assert_frame_equal(full, then)
    assert full["label"].sum() > 0
