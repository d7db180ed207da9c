"""Resamples drawn once and shared by every metric, against counts worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from churnkit.model.metrics import (
    calibration_stats,
    emp,
    lift_by_decile,
    pr_auc,
    ranking_stats,
    roc_auc,
)
from churnkit.model.resample import (
    draws,
    percentile_interval,
    resample,
    resampled_values,
    tie_groups,
)

# Four rows; rows 1 and 2 tie at 0.5.
Y4 = np.array([1, 0, 1, 0], dtype=np.int8)
S4 = np.array([0.9, 0.5, 0.5, 0.2])
# 20 draws: row 0 once (j=3), row 2 at j=1 and j=16, row 1 five times, row 3 twelve times.
IDX = np.array([3, 2, 1, 0, 3, 1, 3, 1, 3, 3, 1, 3, 3, 1, 3, 3, 2, 3, 3, 3])


def test_tie_groups_number_distinct_scores_from_the_top():
    ties = tie_groups(S4)
    assert ties.group.tolist() == [0, 1, 1, 2]
    assert ties.size == 3


def test_resample_counts_by_hand():
    # score 0.9: 1 churner; 0.5: 2 churners and 5 stayers; 0.2: 12 stayers
    sample = resample(tie_groups(S4), Y4, S4, IDX)
    assert sample.tp.tolist() == [1, 3, 3]
    assert sample.fp.tolist() == [0, 5, 17]
    assert (sample.n, sample.positives) == (20, 3)
    assert sample.y.tolist() == Y4[IDX].tolist() and sample.score.tolist() == S4[IDX].tolist()


def test_resample_drops_scores_not_drawn():
    sample = resample(tie_groups(S4), Y4, S4, np.array([0, 3, 3]))
    assert sample.ids.tolist() == [0, 2]
    assert (sample.tp.tolist(), sample.fp.tolist()) == ([1, 1], [0, 2])


def test_top_positives_ranks_ties_in_resample_order():
    # Ranked: the 0.9 churner, then the 0.5 tie in resample order: row 2 (j=1, churner),
    # row 1 (j=2, stayer), ... A sort by row number would put row 1 first instead.
    sample = resample(tie_groups(S4), Y4, S4, IDX)
    assert [sample.top_positives(k) for k in (0, 1, 2, 3, 8, 20)] == [0, 1, 2, 2, 3, 3]
    first = resample(tie_groups(S4), Y4, S4, np.r_[IDX[:1], IDX[2], IDX[1], IDX[3:]])
    assert first.top_positives(2) == 1  # the stayer now comes first in the tie


def test_stats_of_one_resample_by_hand():
    sample = resample(tie_groups(S4), Y4, S4, IDX)
    stats = ranking_stats(sample)
    # AUC: the 0.9 churner beats 17 stayers, the two 0.5 churners beat 12 and tie 5 each
    assert stats["roc_auc"] == pytest.approx((17 + 2 * 12 + 2 * 5 * 0.5) / (3 * 17))
    # AP: recall 1/3 at precision 1/1, then 2/3 more at precision 3/8 (the whole tie)
    assert stats["pr_auc"] == pytest.approx(1 / 3 + 2 / 3 * 3 / 8)
    # top decile = first 2 rows, both churners, base rate 3/20
    assert stats["top_decile_lift"] == pytest.approx(1 / (3 / 20))
    y_b, s_b = Y4[IDX], S4[IDX]
    assert stats["roc_auc"] == roc_auc(y_b, s_b)
    assert stats["pr_auc"] == pr_auc(y_b, s_b)
    assert stats["top_decile_lift"] == lift_by_decile(y_b, s_b)["lift"].iloc[0]
    assert stats["emp"] == emp(y_b, s_b)[0]

    calibration = calibration_stats(sample)
    # Brier: (0.1^2 + 7 * 0.5^2 + 12 * 0.2^2) / 20
    assert calibration["brier"] == pytest.approx((0.01 + 1.75 + 0.48) / 20)
    # ECE: bin 10 off by 0.1 (1 row), bin 6 by 0.5 - 2/7 (7 rows), bin 3 by 0.2 (12 rows)
    assert calibration["ece"] == pytest.approx((0.1 + 7 * (0.5 - 2 / 7) + 12 * 0.2) / 20)


def test_draws_are_the_generator_stream():
    rng = np.random.default_rng(7)
    want = [rng.integers(0, 50, size=50) for _ in range(3)]
    assert [d.tolist() for d in draws(50, 3, 7)] == [w.tolist() for w in want]
    with pytest.raises(ValueError, match="n_boot"):
        draws(50, -1, 0)


def test_resampled_values_skip_one_class_for_all_and_nan_per_statistic():
    y = np.array([1] + [0] * 9, dtype=np.int8)  # about a third of resamples miss the churner
    s = np.linspace(1, 0, 10)
    usable = [idx for idx in draws(10, 30, 0) if y[idx].any()]

    def stats(sample):  # "first" is NaN whenever the resample starts with the churner
        return {"n": float(sample.n), "first": math.nan if sample.y[0] else 1.0, "never": math.nan}

    values = resampled_values(stats, y, s, n_boot=30, seed=0)
    assert len(values["n"]) == len(usable) < 30
    assert len(values["first"]) == sum(1 for idx in usable if idx[0] != 0) < len(usable)
    assert "never" not in values


def test_percentile_interval():
    assert percentile_interval([1.0, 2.0, 3.0, 4.0, 5.0], level=0.5) == (2.0, 4.0)
    lo, hi = percentile_interval([])
    assert math.isnan(lo) and math.isnan(hi)
    with pytest.raises(ValueError, match="level"):
        percentile_interval([1.0], level=1.0)
