"""make eval-model's figures and the tuning search's draws, on tiny hand-made inputs (the benchmark
itself runs on a 20,000-group simulation and is never run by the tests)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str):
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def em():
    return _load("eval_model")


@pytest.fixture(scope="module")
def tm():
    return _load("tune_model")


def test_top_decile_calibration(em):
    y = np.array([1, 0] + [0] * 18)
    p = np.array([0.9, 0.5] + [0.01] * 18)
    cal = em.top_decile_calibration(y, p)  # the top 2 of 20 rows: one churner, predicted 0.7
    assert cal["n"] == 2 and cal["churners"] == 1
    assert cal["predicted"] == pytest.approx(0.7) and cal["realised"] == 0.5
    assert cal["gap"] == pytest.approx(0.2)
    assert cal["lo"] < 0.5 < cal["hi"] and cal["inside"]


def test_summary_pairs_models_and_checks_the_marks(em):
    rng = np.random.default_rng(0)
    months = []
    for m in range(2):
        y = (rng.random(400) < 0.1).astype(int)
        noise = rng.random(400)
        default = 0.5 * y + noise  # the candidate ranks the churners better
        candidate = 2.0 * y + noise
        months.append({"month": f"2025-0{m + 1}", "y": y, "models": {
            "default": {"p": default / default.max(), "reason_1_matches": 8, "caught_warned": 10, "trees": 100,
                        "shap_cost": 2100, "shap_s": 0.1},
            "candidate": {"p": candidate / candidate.max(), "reason_1_matches": 19, "caught_warned": 20, "trees": 100,
                          "shap_cost": 2100, "shap_s": 0.1}}})
    summary = em.summarise(months, em.bootstrap(months, n_boot=20, seed=1))
    assert [r["month"] for r in summary["by_month"]] == ["2025-01", "2025-02"]
    d = summary["difference"]["candidate"]
    assert d["roc_auc"]["value"] > 0.02 and d["roc_auc"]["lo"] <= d["roc_auc"]["value"] <= d["roc_auc"]["hi"]
    assert d["top_decile_lift_relative"] > 0.10
    assert summary["mean"]["candidate"]["reason_1_match"]["share"] == pytest.approx(38 / 40)
    marks = em.acceptance(summary)
    assert marks["lift_gain_10pct"] and marks["auc_gain_0.02"] and marks["reason_1_match_90pct"]


def test_tuning_draws_are_seeded_distinct_and_growable(tm):
    a, b = tm.draws(12, seed=3), tm.draws(12, seed=3)
    assert a == b and a != tm.draws(12, seed=4)
    assert len({tuple(sorted(d.items())) for d in a}) == 12
    assert all(d["num_leaves"] <= 2 ** d["max_depth"] for d in a)
    assert all(set(d) == set(tm.SPACE) for d in a)
