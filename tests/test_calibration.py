"""Calibration maps (Platt, beta, isotonic) and the decile table, on tiny hand-made sets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from churnkit.model.calibration import METHODS, Calibrator, binomial_interval, decile_calibration, fit_calibrator


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def grouped(scores_and_rates: list[tuple[float, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Raw scores and labels: for each (uncalibrated probability s, churners k, rows n), n rows at
    raw = logit(s), k of them churners."""
    raw, y = [], []
    for s, k, n in scores_and_rates:
        raw += [logit(s)] * n
        y += [1] * k + [0] * (n - k)
    return np.array(raw), np.array(y)


def test_beta_calibration_fits_three_groups_exactly_by_hand():
    # s = 0.2, 0.5, 0.8 realise 1/4, 2/4, 3/4. Three parameters fit three groups exactly:
    # logit(p) = a ln s - b ln(1 - s) + c. By symmetry a = b and c = 0, and at s = 0.2:
    # a (ln 0.2 - ln 0.8) = logit(1/4) = -ln 3, so a = b = ln 3 / ln 4.
    raw, y = grouped([(0.2, 1, 4), (0.5, 2, 4), (0.8, 3, 4)])
    cal = fit_calibrator(raw, y, "beta")
    assert cal.method == "beta"
    assert cal.params["a"] == pytest.approx(math.log(3) / math.log(4), abs=1e-4)
    assert cal.params["b"] == pytest.approx(math.log(3) / math.log(4), abs=1e-4)
    assert cal.params["c"] == pytest.approx(0.0, abs=1e-4)
    assert cal([logit(0.2), logit(0.5), logit(0.8)]) == pytest.approx([0.25, 0.5, 0.75], abs=1e-4)


def test_beta_calibration_with_a_b_1_c_0_is_the_identity_on_s():
    cal = Calibrator("beta", {"a": 1.0, "b": 1.0, "c": 0.0})
    raw = np.array([-800.0, -3.0, 0.0, 2.5, 800.0])  # no overflow at the ends
    assert cal(raw) == pytest.approx([0.0, 1 / (1 + math.exp(3)), 0.5, 1 / (1 + math.exp(-2.5)), 1.0])


def test_beta_calibration_stays_increasing_when_a_coefficient_would_be_negative():
    # rates fall from the middle to the top: the free fit would need a decreasing piece
    raw, y = grouped([(0.1, 1, 20), (0.5, 12, 20), (0.9, 11, 20)])
    cal = fit_calibrator(raw, y, "beta")
    assert cal.params["a"] >= 0 and cal.params["b"] >= 0
    grid = np.linspace(-6, 6, 200)
    assert np.all(np.diff(cal(grid)) >= 0)


def test_every_method_round_trips_through_the_manifest():
    raw, y = grouped([(0.2, 1, 4), (0.5, 2, 4), (0.8, 3, 4)])
    for method in METHODS:
        cal = fit_calibrator(raw, y, method)
        again = Calibrator.from_dict(cal.to_dict())
        assert again(raw) == pytest.approx(cal(raw))


def test_weights_count_as_repeated_rows():
    raw, y = grouped([(0.2, 1, 4), (0.5, 2, 4), (0.8, 3, 4)])
    once = fit_calibrator(np.r_[raw, raw[:1]], np.r_[y, y[:1]], "beta")
    weighted = fit_calibrator(raw, y, "beta", weight=np.r_[2.0, np.ones(len(raw) - 1)])
    for key in ("a", "b", "c"):
        assert weighted.params[key] == pytest.approx(once.params[key], abs=1e-4)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="choose one of platt, beta, isotonic"):
        fit_calibrator([0.0, 1.0], [0, 1], "venn")


def test_binomial_interval_by_hand():
    lo, hi = binomial_interval([0, 10, 2], [10, 10, 2])
    assert lo[0] == 0.0 and hi[0] == pytest.approx(1 - 0.025 ** 0.1)
    assert lo[1] == pytest.approx(0.025 ** 0.1) and hi[1] == 1.0
    assert lo[2] == pytest.approx(0.025 ** 0.5) and hi[2] == 1.0


def test_decile_table_by_hand():
    # 20 rows, probabilities 1.00, 0.95, ..., 0.05 in shuffled order; decile 1 is the top two
    p = np.arange(20, 0, -1) / 20
    y = np.zeros(20, dtype=int)
    y[:2] = 1  # the two top rows churn, the next two do not
    order = np.random.default_rng(0).permutation(20)
    table = decile_calibration(y[order], p[order])
    assert list(table["decile"]) == list(range(1, 11)) and list(table["n"]) == [2] * 10
    top, second = table.iloc[0], table.iloc[1]
    assert top["predicted"] == pytest.approx(0.975) and top["realised"] == 1.0
    assert top["lo"] == pytest.approx(0.025 ** 0.5) and top["hi"] == 1.0 and bool(top["within"])
    assert second["predicted"] == pytest.approx(0.875) and second["realised"] == 0.0
    assert second["hi"] == pytest.approx(1 - 0.025 ** 0.5) and not bool(second["within"])


def test_decile_table_becomes_mlflow_metrics():
    from churnkit.model.tracking import _decile_metrics

    p = np.arange(20, 0, -1) / 20
    y = np.zeros(20, dtype=int)
    y[:2] = 1
    metrics = _decile_metrics(decile_calibration(y, p))
    assert metrics["test_decile1_predicted"] == pytest.approx(0.975) and metrics["test_decile1_realised"] == 1.0
    assert metrics["test_decile2_hi"] == pytest.approx(1 - 0.025 ** 0.5)
    # none of deciles 2..10 churned (interval 0..0.84): only decile 2, predicted 0.875, lies outside
    assert metrics["test_deciles_outside_interval"] == 1.0
    assert len(metrics) == 10 * 4 + 1
