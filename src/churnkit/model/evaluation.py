"""Evaluation of a model beside the operators' rule baseline, on months neither has seen."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.model.baseline import RuleBaseline
from churnkit.model.metrics import bootstrap_ci, emp, evaluate, gini, lift_by_decile, pr_auc, roc_auc, top_decile_lift

RANKING = {
    "roc_auc": roc_auc,
    "pr_auc": pr_auc,
    "top_decile_lift": top_decile_lift,
    "gini": gini,
    "emp": lambda y, s: emp(y, s)[0],
}


def ranking_metrics(y, score, n_boot: int = 200, seed: int = 0) -> dict[str, float]:
    """Metrics that need only an order (the rule baseline gives counts, not probabilities)."""
    out: dict[str, float] = {"n": float(len(y)), "positives": float(np.sum(y))}
    for name, fn in RANKING.items():
        point, lo, hi = bootstrap_ci(fn, y, score, n_boot=n_boot, seed=seed)
        out.update({name: point, f"{name}_lo": lo, f"{name}_hi": hi})
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
