"""Backtest: did earlier warnings come true?

For every earlier month M' whose horizon has passed by the report month M (M' + H <= M), the
current model scores M' from the signals as they were known at M' (the point-in-time builders
read nothing after M'), and the realised label (churn in (M', M' + H]) shows how the top decile
did: lift, precision and recall, beside the operators' rule baseline on the same groups. Months
the model was trained or calibrated on are marked in-sample: they flatter the model and are no
evidence of how it does on new months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.features import labels
from churnkit.model.baseline import RuleBaseline
from churnkit.model.bundle import Bundle
from churnkit.model.metrics import N_DECILES
from churnkit.months import format_month, parse_month
from churnkit.score import probability
from churnkit.validate import Dataset

FIELDS = ["month", "in_sample", "split", "groups", "churners", "churn_rate", "top_decile_lift", "rule_top_decile_lift",
          "precision_top_decile", "recall_top_decile", "rule_precision_top_decile", "rule_recall_top_decile"]


def backtest_months(dataset: Dataset, month: int, horizon: int, count: int = 12) -> list[int]:
    """The last ``count`` billing months M' with M' + horizon <= ``month``."""
    have = sorted(parse_month(m) for m in dataset.months)
    return [m for m in have if m + horizon <= month][-count:]


def split_of(bundle: Bundle, month: str) -> str:
    """Which part of training a month played: refit, train, valid, test, or none (not used)."""
    months = bundle.manifest.get("months", {})
    if month in months.get("refit", []):  # the scoring model was refitted on it: in-sample
        return "refit"
    for part in ("train", "valid", "test"):
        if month in months.get(part, []):
            return part
    return "none"


def deciles(score: np.ndarray) -> np.ndarray:
    """Decile 1..10 by score descending, ties in input order: the scored file's risk_decile rule."""
    n = len(score)
    order = np.argsort(-score, kind="stable")
    out = np.empty(n, dtype=int)
    out[order] = (N_DECILES * np.arange(1, n + 1) + n - 1) // n
    return out


def top_decile(y: np.ndarray, score: np.ndarray) -> tuple[float, float, float]:
    """(lift, precision, recall) of decile 1 of ``score``; NaN where undefined."""
    if len(y) == 0:
        return (np.nan, np.nan, np.nan)
    top = deciles(score) == 1
    hits, churners = float(y[top].sum()), float(y.sum())
    precision = hits / top.sum()
    rate = churners / len(y)
    return (precision / rate if rate > 0 else np.nan, precision, hits / churners if churners > 0 else np.nan)


def scores(dataset: Dataset, bundle: Bundle, features: pd.DataFrame, month: int) -> pd.DataFrame:
    """The groups scored at month M' (rows of ``features`` for M'), with the model's probability,
    the rule baseline's score and decile, and the realised label; churn after the report month
    ``month`` is never read."""
    churn = dataset.get("churn")
    if churn is not None:
        churn = churn[churn["churn_month"].map(parse_month) <= month]
    frame = features.reset_index(drop=True)
    # one row per group and month, without the group's id (the backtest counts, it does not list):
    # at 200,000 groups x 12 months the ids alone would be a few hundred MB of text
    out = pd.DataFrame({"month": pd.Categorical(frame["month"])})
    out["probability"] = probability(bundle, frame)
    out["rule_score"] = np.asarray(RuleBaseline().score(frame), dtype=float)
    out["label"] = labels(frame, churn, bundle.horizon).to_numpy()
    out["decile"] = deciles(out["probability"].to_numpy())
    return out


def backtest(scored: pd.DataFrame, bundle: Bundle) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-month top-decile results, and predicted against realised churn by decile (out-of-sample
    months pooled, or all months when none is out of sample)."""
    rows = []
    for label, part in scored.groupby("month", sort=True):
        y = part["label"].to_numpy()
        lift, precision, recall = top_decile(y, part["probability"].to_numpy())
        rlift, rprecision, rrecall = top_decile(y, part["rule_score"].to_numpy())
        split = split_of(bundle, label)
        rows.append({"month": label, "in_sample": split in ("train", "valid", "refit"), "split": split, "groups": len(part),
                     "churners": int(y.sum()), "churn_rate": float(y.mean()) if len(y) else np.nan,
                     "top_decile_lift": lift, "rule_top_decile_lift": rlift, "precision_top_decile": precision,
                     "recall_top_decile": recall, "rule_precision_top_decile": rprecision, "rule_recall_top_decile": rrecall})
    table = pd.DataFrame(rows, columns=FIELDS)
    held_out = set(table.loc[~table["in_sample"], "month"])
    pool = scored[scored["month"].isin(held_out)] if held_out else scored
    calibration = pool.groupby("decile", sort=True).agg(groups=("label", "size"), predicted=("probability", "mean"),
                                                        realised=("label", "mean")).reset_index()
    calibration.attrs["pooled"] = sorted(held_out) if held_out else sorted(table["month"])
    calibration.attrs["out_of_sample"] = bool(held_out)
    return table, calibration


def backtest_frame(dataset: Dataset, bundle: Bundle, features: pd.DataFrame, months: list[int], month: int) -> pd.DataFrame:
    """:func:`scores` for every month of ``months``, stacked."""
    labels_ = {format_month(m) for m in months}
    part = features[features["month"].isin(labels_)]
    if part.empty:
        return pd.DataFrame(columns=["month", "probability", "rule_score", "label", "decile"])
    return pd.concat([scores(dataset, bundle, p, month) for _, p in part.groupby("month", sort=True)], ignore_index=True)
