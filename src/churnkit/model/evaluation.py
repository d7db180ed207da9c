"""Evaluation of a model beside the operators' rule baseline, on months neither has seen."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.model.baseline import RuleBaseline
from churnkit.model.metrics import (
    _check,
    emp,
    evaluate,
    gini,
    lift_by_decile,
    pr_auc,
    ranking_stats,
    roc_auc,
    top_decile_lift,
)
from churnkit.model.resample import Resample, percentile_interval, resampled_values

RANKING = {
    "roc_auc": roc_auc,
    "pr_auc": pr_auc,
    "top_decile_lift": top_decile_lift,
    "gini": gini,
    "emp": lambda y, s: emp(y, s)[0],
}


def _ranking_with_gini(sample: Resample) -> dict[str, float]:
    stats = ranking_stats(sample)
    return {**stats, "gini": 2.0 * stats["roc_auc"] - 1.0}


def ranking_metrics(y, score, n_boot: int = 200, seed: int = 0) -> dict[str, float]:
    """Metrics that need only an order (the rule baseline gives counts, not probabilities).

    Each with the 95% interval of ``bootstrap_ci``, all from one set of resamples drawn once.
    """
    out: dict[str, float] = {"n": float(len(y)), "positives": float(np.sum(y))}
    y_checked, s = _check(y, score)
    values = resampled_values(_ranking_with_gini, y_checked, s, n_boot=n_boot, seed=seed)
    for name, fn in RANKING.items():
        lo, hi = percentile_interval(values.get(name, []))
        out.update({name: float(fn(y_checked, s)), f"{name}_lo": lo, f"{name}_hi": hi})
    return out


def compare(frame: pd.DataFrame, y, prob, n_boot: int = 200, seed: int = 0) -> dict:
    """Model metrics (with intervals), baseline metrics and both lift curves on the same rows."""
    y = np.asarray(y, dtype=int)
    base = RuleBaseline().score(frame)
    model = evaluate(y, prob, n_boot=n_boot, seed=seed)
    baseline = ranking_metrics(y, base, n_boot=n_boot, seed=seed)
    lift = lift_by_decile(y, prob)[["decile", "lift"]].rename(columns={"lift": "model"})
    lift["baseline"] = lift_by_decile(y, base)["lift"].to_numpy()
    return {"model": model, "baseline": baseline, "lift": lift}


def beats_baseline(result: dict) -> bool:
    """The model wins when its top-decile lift and PR AUC are both above the baseline's."""
    m, b = result["model"], result["baseline"]
    return bool(m["top_decile_lift"] > b["top_decile_lift"] and m["pr_auc"] > b["pr_auc"])
