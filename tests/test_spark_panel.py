"""Training on Spark: the panel built by Spark equals DuckDB's, and a sampled panel keeps every
churner and the validation and test months whole (churnkit.spark.panel)."""

from __future__ import annotations

import json

import numpy as np

import pytest
from pandas.testing import assert_frame_equal

from churnkit.features import WEIGHT, month_indexes, training_panel, usable_months
from churnkit.model.split import out_of_time_split
from churnkit.months import format_month
from churnkit.spark.validate import load_dataset as on_spark
from churnkit.validate import load_dataset


def test_train_on_spark_learns_from_the_same_snapshots(spark_cluster, sim_dir, trained_bundle, tmp_path):
    """`churnkit train --engine spark` builds the same panel (its fingerprint hashes every group,
    month and label) and fits a model as good on the test months as training on DuckDB. (Not the
    very same trees: a mean can differ in its last bit between the engines, which moves a bin edge.)"""
    from typer.testing import CliRunner

    from churnkit.cli import app
    from churnkit.model.bundle import MANIFEST

    out = tmp_path / "model"
    result = CliRunner().invoke(app, ["train", "--data", str(sim_dir), "--out", str(out), "--no-track", "--engine", "spark"])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    spark, duck = (json.loads((d / MANIFEST).read_text(encoding="utf-8")) for d in (out, trained_bundle))
    assert spark["data"] == duck["data"] and spark["data"]["rows"] > 5000
    assert spark["months"] == duck["months"]
    for metric in ("roc_auc", "top_decile_lift"):
        assert abs(spark["metrics"]["model"][metric] - duck["metrics"]["model"][metric]) < 0.05 * duck["metrics"]["model"][metric]


def test_a_sampled_spark_panel_keeps_churners_and_whole_months(spark_cluster, sim_dir):
    duck_ds, spark_ds = load_dataset(sim_dir), on_spark(sim_dir)
    months = usable_months(month_indexes(spark_ds), 3)
    split = out_of_time_split(months, 3, valid_months=2, test_months=2)
    full = training_panel(duck_ds, 3)
    panel = training_panel(spark_ds, 3, sample_months=split.train, max_rows=2000, seed=7)
    rate = panel.attrs["sample"]["rate"]
    assert 0 < rate < 0.5
    train = {format_month(m) for m in split.train}
    in_train = panel["month"].isin(train)
    full_train = full["month"].isin(train)
    # every churner snapshot kept, non-churners sampled at about the rate, weighted 1 / rate
    assert panel.loc[in_train, "label"].sum() == full.loc[full_train, "label"].sum()
    kept = (in_train & (panel["label"] == 0)).sum()
    assert abs(kept - rate * (full_train & (full["label"] == 0)).sum()) < 0.2 * kept
    assert np.allclose(panel.loc[in_train & (panel["label"] == 0), WEIGHT], 1 / rate)
    assert (panel.loc[~in_train | (panel["label"] == 1), WEIGHT] == 1.0).all()
    # validation and test months whole: the same rows as the full panel
    rest = lambda f: f[~f["month"].isin(train)].reset_index(drop=True)  # noqa: E731
    assert_frame_equal(rest(panel).drop(columns=[WEIGHT]), rest(full), check_exact=False, rtol=1e-9, atol=1e-12)
