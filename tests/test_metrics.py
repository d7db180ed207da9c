"""Metrics against values worked out by hand on tiny inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scipy.stats import rankdata

from churnkit.model.evaluation import RANKING, ranking_metrics
from churnkit.model.metrics import (
    bootstrap_ci,
    brier,
    calibration_curve,
    emp,
    evaluate,
    expected_calibration_error,
    gini,
    lift_by_decile,
    pr_auc,
    roc_auc,
    top_decile_lift,
)

# --------------------------------------------------------------------------- AUC
# churners score 0.9, 0.6, 0.3; stayers 0.8, 0.5, 0.3, 0.2, 0.1, 0.05, 0.0.
# Of the 3 x 7 = 21 pairs the churner ranks higher in 7 + 6 + 4 = 17 and ties in 1:
# AUC = (17 + 0.5) / 21 = 5/6.
Y10 = np.array([1, 0, 1, 0, 1, 0, 0, 0, 0, 0])
S10 = np.array([0.9, 0.8, 0.6, 0.5, 0.3, 0.3, 0.2, 0.1, 0.05, 0.0])


def test_roc_auc_by_hand():
    assert roc_auc(Y10, S10) == pytest.approx(5 / 6)
    assert gini(Y10, S10) == pytest.approx(2 * 5 / 6 - 1)


def test_roc_auc_single_class_is_nan():
    assert math.isnan(roc_auc([0, 0, 0], [0.1, 0.2, 0.3]))
    assert math.isnan(gini([1, 1], [0.1, 0.2]))


def test_pr_auc_by_hand():
    # sorted: 1 0 1 0 {1,0 tied} 0 0 0 0; recall steps 1/3 at precision 1/1, 2/3,
    # and 3/6 at the tie (both tied rows enter together)
    assert pr_auc(Y10, S10) == pytest.approx((1 + 2 / 3 + 3 / 6) / 3)
    assert math.isnan(pr_auc([0, 0], [0.1, 0.2]))


# --------------------------------------------------------------------------- calibration
def test_brier_by_hand():
    # (0.1^2 + 0.2^2 + 0.4^2 + 0^2) / 4
    assert brier([1, 0, 1, 0], [0.9, 0.2, 0.6, 0.0]) == pytest.approx(0.0525)


P_ECE = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
Y_ECE = [0, 1, 1, 0, 1, 1, 0, 1, 1, 1]


def test_ece_two_bins_by_hand():
    # bin [0, 0.5): mean p 0.25, churn rate 2/4 -> gap 0.25, weight 4/10
    # bin [0.5, 1]: mean p 0.75, churn rate 5/6 -> gap 1/12, weight 6/10 (0.5 and 1.0 fall here)
    assert expected_calibration_error(Y_ECE, P_ECE, bins=2) == pytest.approx(0.4 * 0.25 + 0.6 / 12)


def test_calibration_curve_two_bins():
    table = calibration_curve(Y_ECE, P_ECE, bins=2)
    assert list(table.columns) == ["bin", "mean_predicted", "observed_rate", "n"]
    assert table["bin"].tolist() == [1, 2]
    assert table["n"].tolist() == [4, 6]
    assert table["mean_predicted"].tolist() == pytest.approx([0.25, 0.75])
    assert table["observed_rate"].tolist() == pytest.approx([0.5, 5 / 6])


def test_calibration_curve_lists_only_filled_bins():
    table = calibration_curve([0, 1], [0.05, 0.95], bins=10)
    assert table["bin"].tolist() == [1, 10]
    assert not table.isna().any().any()


def test_perfect_calibration_has_zero_ece():
    assert expected_calibration_error([0, 0, 1, 1], [0.0, 0.0, 1.0, 1.0]) == 0.0


# --------------------------------------------------------------------------- lift
def test_lift_table_on_20_rows_by_hand():
    # ranked by score the churn flags are, two rows per decile:
    # 11 10 01 00 10 00 00 00 00 01 -> 6 churners of 20, base rate 0.3
    ranked = [1, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    score = np.arange(20, 0, -1, dtype=float)
    shuffle = np.random.default_rng(3).permutation(20)  # input order must not matter
    table = lift_by_decile(np.array(ranked)[shuffle], score[shuffle])

    assert list(table.columns) == ["decile", "n", "positives", "rate", "lift", "cumulative_lift"]
    assert table["decile"].tolist() == list(range(1, 11))
    assert table["n"].tolist() == [2] * 10
    assert table["positives"].tolist() == [2, 1, 1, 0, 1, 0, 0, 0, 0, 1]
    assert table["rate"].tolist() == pytest.approx([1, 0.5, 0.5, 0, 0.5, 0, 0, 0, 0, 0.5])
    assert table["lift"].tolist() == pytest.approx(
        [1 / 0.3, 0.5 / 0.3, 0.5 / 0.3, 0, 0.5 / 0.3, 0, 0, 0, 0, 0.5 / 0.3]
    )
    cumulative = [2 / 2, 3 / 4, 4 / 6, 4 / 8, 5 / 10, 5 / 12, 5 / 14, 5 / 16, 5 / 18, 6 / 20]
    assert table["cumulative_lift"].tolist() == pytest.approx([c / 0.3 for c in cumulative])
    assert top_decile_lift(np.array(ranked)[shuffle], score[shuffle]) == pytest.approx(1 / 0.3)


def test_lift_ties_across_a_decile_edge_follow_input_order():
    # 10 rows, one per decile; rows 0 and 1 tie for the top: the first one listed wins decile 1
    score = [0.9, 0.9, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01]
    assert lift_by_decile([1, 0] + [0] * 8, score)["positives"].tolist()[:2] == [1, 0]
    assert lift_by_decile([0, 1] + [0] * 8, score)["positives"].tolist()[:2] == [0, 1]


def test_lift_deciles_match_risk_decile_rule_for_uneven_n():
    # n = 25: decile = ceil(10 * rank / 25) -> sizes 2, 3, 2, 3, ...
    table = lift_by_decile(np.r_[1, np.zeros(24)], np.arange(25, 0, -1))
    assert table["n"].tolist() == [2, 3] * 5


def test_top_decile_lift_needs_ten_rows():
    assert math.isnan(top_decile_lift([1, 0, 0], [0.9, 0.1, 0.2]))


def test_lift_without_churners_is_nan_not_error():
    table = lift_by_decile([0] * 10, np.arange(10))
    assert table["lift"].isna().all()


# --------------------------------------------------------------------------- EMP
CLV, OFFER, CONTACT, ALPHA, BETA = 200.0, 10.0, 1.0, 6, 14


def _beta_pdf(g, a, b):
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    return np.exp(log_norm + (a - 1) * np.log(g) + (b - 1) * np.log1p(-g))


def _emp_brute_force(y, s, grid=200_000):
    """Integrate, over a fine midpoint grid of gamma, the best profit over every cutoff."""
    y, s = np.asarray(y), np.asarray(s, dtype=float)
    pi0 = y.mean()
    pi1 = 1 - pi0
    delta, phi = OFFER / CLV, CONTACT / CLV
    gamma = (np.arange(grid) + 0.5) / grid
    weight = _beta_pdf(gamma, ALPHA, BETA) / grid
    # every cutoff: target rows with score >= t, plus targeting nobody
    cutoffs = np.r_[np.inf, np.unique(s)]
    f0 = np.array([np.sum((s >= t) & (y == 1)) for t in cutoffs]) / y.sum()
    f1 = np.array([np.sum((s >= t) & (y == 0)) for t in cutoffs]) / (1 - y).sum()
    profit = CLV * (
        (gamma[:, None] * (1 - delta) - phi) * pi0 * f0 - (delta + phi) * pi1 * f1
    )  # grid x cutoffs
    best = profit.argmax(axis=1)
    value = np.sum(profit.max(axis=1) * weight)
    fraction = np.sum((pi0 * f0[best] + pi1 * f1[best]) * weight)
    return value, fraction


def test_emp_perfect_ranking_closed_form():
    # Target exactly the churners: profit (gamma*(1-delta) - phi) * clv * pi0 whenever
    # gamma > phi/(1-delta) = 0.00526, where Beta(6, 14) has no visible mass, so
    # EMP = pi0 * (clv*(1-delta)*E[gamma] - f) = 0.4 * (190 * 0.3 - 1) = 22.4.
    y = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]
    value, fraction = emp(y, s)
    assert value == pytest.approx(22.4, abs=1e-6)
    assert fraction == pytest.approx(0.4, abs=1e-6)


def test_emp_worst_ranking_is_the_random_model():
    # Churners ranked last: the ROC hull is the diagonal, i.e. target everybody or nobody.
    # Everybody pays when gamma > g = (pi1*(delta+phi)/pi0 + phi)/(1-delta), so
    # EMP = clv*((1-delta)*pi0*E[gamma; gamma > g] - (phi*pi0 + (delta+phi)*pi1)*P(gamma > g)),
    # the two Beta tail integrals taken numerically here.
    y = np.array([0] * 6 + [1] * 4)
    s = np.linspace(1, 0, 10)
    pi0, pi1, delta, phi = 0.4, 0.6, OFFER / CLV, CONTACT / CLV
    g = (pi1 * (delta + phi) / pi0 + phi) / (1 - delta)
    grid = (np.arange(400_000) + 0.5) / 400_000 * (1 - g) + g
    dens = _beta_pdf(grid, ALPHA, BETA) * (1 - g) / 400_000
    tail_mean, tail_prob = np.sum(grid * dens), np.sum(dens)
    expected = CLV * ((1 - delta) * pi0 * tail_mean - (phi * pi0 + (delta + phi) * pi1) * tail_prob)
    value, fraction = emp(y, s)
    assert value == pytest.approx(expected, abs=1e-6)
    assert fraction == pytest.approx(tail_prob, abs=1e-6)


@pytest.mark.parametrize(
    ("y", "s"),
    [
        ([1, 0, 1, 0, 0, 1, 0, 0, 0, 0], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]),
        (Y10, S10),  # with a tie between a churner and a stayer
        ([0, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 0], [5, 5, 4, 4, 3, 3, 3, 2, 1, 1, 0, 0]),
    ],
)
def test_emp_matches_brute_force_integration(y, s):
    value, fraction = emp(y, s)
    bf_value, bf_fraction = _emp_brute_force(y, s)
    assert value == pytest.approx(bf_value, abs=1e-4)
    assert fraction == pytest.approx(bf_fraction, abs=1e-4)


def test_emp_degenerate_classes():
    assert emp([0, 0, 0], [0.1, 0.2, 0.3]) == (0.0, 0.0)  # nobody to retain
    value, fraction = emp([1, 1], [0.1, 0.2])  # everybody churns: target all of them
    assert value == pytest.approx(190 * 0.3 - 1, abs=1e-6)
    assert fraction == pytest.approx(1.0, abs=1e-6)


def test_emp_rejects_bad_costs():
    with pytest.raises(ValueError, match="offer_cost"):
        emp([0, 1], [0.1, 0.9], offer_cost=250)
    with pytest.raises(ValueError, match="clv"):
        emp([0, 1], [0.1, 0.9], clv=0)
    with pytest.raises(ValueError, match="alpha"):
        emp([0, 1], [0.1, 0.9], alpha=0)


# --------------------------------------------------------------------------- bootstrap
def _sample(n=300, seed=7):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    p = np.clip(0.3 + 0.3 * (y - 0.3) + rng.normal(0, 0.15, n), 0, 1)
    return y, p


def test_bootstrap_interval_contains_point_and_is_deterministic():
    y, p = _sample()
    point, lo, hi = bootstrap_ci(roc_auc, y, p, n_boot=100, seed=1)
    assert point == roc_auc(y, p)
    assert lo < point < hi
    assert bootstrap_ci(roc_auc, y, p, n_boot=100, seed=1) == (point, lo, hi)
    assert bootstrap_ci(roc_auc, y, p, n_boot=100, seed=2) != (point, lo, hi)


def test_bootstrap_skips_single_class_resamples():
    y = np.array([1] + [0] * 9)  # about a third of resamples miss the churner
    calls = []

    def metric(yb, sb):
        assert 0 < yb.sum() < len(yb)
        calls.append(1)
        return roc_auc(yb, sb)

    bootstrap_ci(metric, y, np.linspace(1, 0, 10), n_boot=50, seed=0)
    assert 1 + 20 < len(calls) < 1 + 50  # the point estimate plus the usable resamples


def test_bootstrap_without_usable_resamples_gives_nan_interval():
    point, lo, hi = bootstrap_ci(brier, [0, 0, 0], [0.1, 0.2, 0.3], n_boot=20)
    assert point == pytest.approx((0.01 + 0.04 + 0.09) / 3)
    assert math.isnan(lo) and math.isnan(hi)


def test_evaluate_returns_every_metric_with_intervals():
    y, p = _sample()
    result = evaluate(y, p, n_boot=50, seed=0)
    assert result["n"] == 300 and result["positives"] == int(y.sum())
    for name in ("roc_auc", "pr_auc", "top_decile_lift", "brier", "ece", "emp", "gini"):
        assert result[f"{name}_lo"] <= result[name] <= result[f"{name}_hi"], name
    assert result["roc_auc"] == roc_auc(y, p)
    assert result["gini"] == pytest.approx(2 * result["roc_auc"] - 1)
    assert (result["emp"], result["emp_fraction"]) == emp(y, p)
    assert evaluate(y, p, n_boot=50, seed=0) == result


# --------------------------------------------------------------------------- joint resamples
def _rank_auc(y, s):
    """AUC from average ranks, the Mann-Whitney formula (independent of the tie-count code)."""
    y, s = np.asarray(y), np.asarray(s, dtype=float)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    return float((rankdata(s)[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


EVALUATED = {
    "roc_auc": _rank_auc,
    "pr_auc": pr_auc,
    "top_decile_lift": top_decile_lift,
    "brier": brier,
    "ece": expected_calibration_error,
    "emp": lambda y, s: emp(y, s)[0],
}


def _per_metric(metrics, y, s, n_boot, seed):
    """Intervals as before the joint resampling: one ``bootstrap_ci`` per metric."""
    out = {}
    for name, fn in metrics.items():
        point, lo, hi = bootstrap_ci(fn, y, s, n_boot=n_boot, seed=seed)
        out.update({name: point, f"{name}_lo": lo, f"{name}_hi": hi})
    return out


def _assert_same(got, want, keys):
    for key in keys:
        if math.isnan(want[key]):
            assert math.isnan(got[key]), key
        else:
            close = math.isclose(got[key], want[key], rel_tol=1e-12, abs_tol=0.0)
            assert close, (key, got[key], want[key])


def _tied_sample(n, rate, decimals, seed):
    """Probabilities rounded to a few decimals (many ties) and rule-like integer scores."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rate).astype(int)
    p = np.round(np.clip(0.1 + 0.3 * y + rng.normal(0, 0.2, n), 0, 1), decimals)
    counts = rng.poisson(1 + 2 * y).astype(float)
    return y, p, counts


@pytest.mark.parametrize(
    ("n", "rate", "decimals", "churners"),
    [
        (2000, 0.1, 2, None),
        (2000, 0.1, 2, [3, 1000]),  # 2 churners: e^-2 of the resamples have one class, skipped
        (15, 0.3, 1, None),  # top decile of 1 row, inside a tie on many resamples
    ],
)
def test_joint_bootstrap_equals_per_metric_bootstrap(n, rate, decimals, churners):
    y, p, counts = _tied_sample(n, rate, decimals, seed=n)
    if churners is not None:
        y = np.zeros(n, dtype=int)
        y[churners] = 1
    assert len(np.unique(p)) < n / 2 and len(np.unique(counts)) < n / 2  # ties everywhere

    result = evaluate(y, p, n_boot=40, seed=5)
    want = _per_metric(EVALUATED, y, p, n_boot=40, seed=5)
    _assert_same(result, want, want.keys())
    for key in ("", "_lo", "_hi"):
        assert math.isclose(result[f"gini{key}"], 2 * want[f"roc_auc{key}"] - 1, rel_tol=1e-12)

    for score in (counts, p):
        ranked = ranking_metrics(y, score, n_boot=40, seed=5)
        reference = {**RANKING, "roc_auc": _rank_auc, "gini": lambda a, b: 2 * _rank_auc(a, b) - 1}
        want = _per_metric(reference, y, score, n_boot=40, seed=5)
        assert list(ranked) == ["n", "positives", *want]
        _assert_same(ranked, want, want.keys())


def test_joint_bootstrap_skips_single_class_resamples():
    # 2 churners in 2000 rows: a resample misses both with chance (1 - 1/1000)^2000 = e^-2
    y = np.zeros(2000, dtype=int)
    y[[3, 1000]] = 1
    p = np.linspace(0.9, 0.1, 2000).round(2)
    usable = [idx for idx in _draws(2000, 40, 5) if y[idx].any()]
    assert 0 < 40 - len(usable) < 15
    ranked = ranking_metrics(y, p, n_boot=40, seed=5)
    auc = [_rank_auc(y[idx], p[idx]) for idx in usable]
    assert (ranked["roc_auc_lo"], ranked["roc_auc_hi"]) == tuple(np.quantile(auc, [0.025, 0.975]))


def _draws(n, n_boot, seed):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, n, size=n) for _ in range(n_boot)]


def test_evaluate_on_two_rows_by_hand():
    # Each resample is {0, 1} in some order (usable) or one row twice (skipped). A usable
    # resample ranks the churner first: AUC = PR AUC = 1, Brier = (0.2^2 + 0.2^2) / 2 = 0.04,
    # ECE = 0.2 (bins 3 and 8, each off by 0.2). With 2 rows the top decile is empty, so the
    # lift is NaN on every resample and its interval too, without losing the other metrics.
    result = evaluate([0, 1], [0.2, 0.8], n_boot=40, seed=0)
    for name, value in [("roc_auc", 1.0), ("pr_auc", 1.0), ("brier", 0.04), ("ece", 0.2)]:
        assert result[name] == pytest.approx(value)
        assert result[f"{name}_lo"] == pytest.approx(value)
        assert result[f"{name}_hi"] == pytest.approx(value)
    assert (result["gini_lo"], result["gini_hi"]) == (1.0, 1.0)
    assert math.isnan(result["top_decile_lift"])
    assert math.isnan(result["top_decile_lift_lo"]) and math.isnan(result["top_decile_lift_hi"])
    assert result["emp_lo"] == result["emp_hi"] == pytest.approx(emp([0, 1], [0.2, 0.8])[0])


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("y", "s", "message"),
    [
        ([0, 1, 1], [0.1, 0.2], "3 rows but score has 2"),
        ([0, 2], [0.1, 0.2], "only 0 and 1"),
        ([0, None], [0.1, 0.2], "missing"),
        ([0, 1], [0.1, np.nan], "missing or infinite"),
        ([], [], "empty"),
        ([[0, 1]], [[0.1, 0.2]], "one-dimensional"),
        ([0, 1], ["a", "b"], "numeric"),
    ],
)
def test_inputs_are_checked(y, s, message):
    with pytest.raises(ValueError, match=message):
        roc_auc(y, s)


def test_probabilities_must_lie_in_unit_interval():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        brier([0, 1], [0.5, 1.5])
    with pytest.raises(ValueError, match="bins"):
        expected_calibration_error([0, 1], [0.5, 0.5], bins=0)


def test_accepts_pandas_and_bool_inputs():
    y = pd.Series([True, False, True, False], dtype="boolean")
    s = pd.Series([0.9, 0.1, 0.8, 0.2], dtype="Float64")
    assert roc_auc(y, s) == 1.0
