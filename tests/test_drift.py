"""Drift: PSI on known distributions, the training reference and the month's table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from churnkit.drift import FLOOR, bin_shares, drift_table, psi, reference, reference_for


def test_psi_of_a_known_shift():
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5) = 0.1733 + 0.1014
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.2747, abs=1e-4)


def test_psi_is_zero_for_the_same_distribution_and_symmetric():
    assert psi([0.1, 0.2, 0.7], [0.1, 0.2, 0.7]) == 0.0
    assert psi([0.2, 0.8], [0.6, 0.4]) == pytest.approx(psi([0.6, 0.4], [0.2, 0.8]))


def test_psi_floors_empty_bins():
    # an empty bin counts as 0.0001: (0.5 - 1e-4) ln(0.5 / 1e-4) + (0.5 - 1) ln(0.5 / 1)
    expected = (0.5 - FLOOR) * math.log(0.5 / FLOOR) + (0.5 - 1.0) * math.log(0.5)
    assert psi([0.0, 1.0], [0.5, 0.5]) == pytest.approx(expected)


def test_psi_refuses_bins_that_do_not_match():
    with pytest.raises(ValueError, match="2 reference bins but 3"):
        psi([0.5, 0.5], [0.2, 0.3, 0.5])


def test_reference_bins_are_deciles_of_the_training_values():
    # quartiles of 1..8 (linear interpolation): 2.75, 4.5, 6.25, so each bin holds two values
    ref = reference_for(pd.Series([1, 2, 3, 4, 5, 6, 7, 8, None, None]), bins=4)
    assert ref["edges"] == pytest.approx([2.75, 4.5, 6.25])
    assert ref["shares"] == pytest.approx([0.25, 0.25, 0.25, 0.25])
    assert ref["null_share"] == pytest.approx(0.2)


def test_bins_are_closed_on_the_right_and_repeated_edges_merge():
    assert bin_shares(np.array([1.0, 2.0, 3.0]), [2.0]) == pytest.approx([2 / 3, 1 / 3])
    ref = reference_for(pd.Series([0] * 90 + [1] * 10))  # nine deciles at 0 and one at 0.1: two edges
    assert ref["edges"] == pytest.approx([0.0, 0.1])
    assert ref["shares"] == pytest.approx([0.9, 0.0, 0.1])


def test_drift_table_counts_nulls_as_a_bin():
    train = pd.DataFrame({"x": [0, 0, 1, 1], "y": [5.0, 5.0, 5.0, 5.0]})
    ref = reference(train, ["x", "y"], ["2026-01"], bins=2)
    assert ref["signals"]["x"]["edges"] == [0.5]
    now = pd.DataFrame({"x": [0, 1, 1, None], "y": [5.0, 5.0, 5.0, 5.0]})
    table = drift_table(ref, now).set_index("signal")
    # x: train [0.5, 0.5, null 0], now [1/3 * 3/4, 2/3 * 3/4, null 1/4] = [0.25, 0.5, 0.25]
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + 0.0 + (0.25 - FLOOR) * math.log(0.25 / FLOOR)
    assert table.loc["x", "psi"] == pytest.approx(expected)
    assert table.loc["x", "null_share_train"] == 0.0 and table.loc["x", "null_share_now"] == 0.25
    assert bool(table.loc["x", "shifted"]) and not bool(table.loc["y", "shifted"])
    assert table.loc["y", "psi"] == pytest.approx(0.0)
    assert list(table.index) == ["x", "y"]  # largest PSI first


def test_a_signal_missing_this_month_is_all_null():
    ref = reference(pd.DataFrame({"x": [1.0, 2.0]}), ["x"], ["2026-01"])
    table = drift_table(ref, pd.DataFrame({"other": [1, 2, 3]}))
    assert table.loc[0, "null_share_now"] == 1.0
    assert table.loc[0, "psi"] > 0.2


def test_training_stores_the_reference_in_the_manifest(trained_bundle):
    from churnkit.model.bundle import load_bundle
    from churnkit.signals.registry import SIGNALS

    manifest = load_bundle(trained_bundle).manifest
    ref = manifest["drift_reference"]
    # the training months whose six months of signal history lie inside the data (sim_dir starts 2025-01)
    assert ref["months"] == [m for m in manifest["months"]["train"] if m >= "2025-07"]
    assert ref["months"]
    assert set(ref["signals"]) == set(SIGNALS)
    for name, entry in ref["signals"].items():
        assert len(entry["shares"]) == len(entry["edges"]) + 1, name
        assert sum(entry["shares"]) == pytest.approx(1.0) or entry["null_share"] == 1.0, name
        assert entry["edges"] == sorted(set(entry["edges"])), name
