"""Explanations: exact TreeSHAP per feature, summed per reason family, in probability points.

LightGBM's ``pred_contrib`` gives, for each group, one contribution per feature in log-odds
plus the expected raw score s0; they add up to the group's raw score s. The calibrated
probability is a strictly increasing function p(s) of the raw score alone. A family's impact
is its share of the raw contributions carried along the secant of p between s0 and s:

    impact_f = (sum of the family's contributions) x (p(s) - p(s0)) / (s - s0)

(the derivative p'(s0) when s = s0). The impacts of all families add up exactly to
``churn_probability - base_probability`` where ``base_probability = p(s0)``, and each impact has
the sign of the family's raw contribution, so a family that raises the raw score raises the
probability. This is the integrated-gradients attribution of the calibration map along the
straight path from s0 to s, applied to the SHAP decomposition.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.errors import ModelError
from churnkit.families import FAMILIES


def check_additivity(contrib: np.ndarray, raw: np.ndarray, tol: float = 1e-6) -> None:
    """Every row of SHAP contributions must add up to the raw score."""
    gap = np.abs(contrib.sum(axis=1) - raw)
    if gap.size and gap.max() > tol:
        raise ModelError(f"SHAP contributions do not add up to the raw score (max gap {gap.max():.2e}); the model file is damaged")


def family_impacts(contrib: np.ndarray, features: list[str], families: dict[str, str], calibrate) -> tuple[pd.DataFrame, np.ndarray, float]:
    """Per-family impacts in probability points, the probabilities and the base probability."""
    phi, s0 = contrib[:, :-1], contrib[:, -1]
    s = contrib.sum(axis=1)
    p, p0 = calibrate(s), calibrate(s0)
    delta = s - s0
    h = 1e-4
    derivative = (calibrate(s0 + h) - calibrate(s0 - h)) / (2 * h)
    safe = np.abs(delta) > 1e-9
    slope = np.where(safe, (p - p0) / np.where(safe, delta, 1.0), derivative)
    raw = pd.DataFrame(0.0, index=range(len(phi)), columns=list(FAMILIES))
    for j, name in enumerate(features):
        raw[families[name]] += phi[:, j]
    impacts = raw.mul(slope, axis=0)
    base = float(np.unique(np.round(p0, 12))[0]) if len(p0) else float("nan")
    return impacts, p, base


MIN_IMPACT = 0.00005  # smallest impact that still shows as +0.0001 in the scored file


def top_reasons(impacts: pd.DataFrame, k: int = 3, min_impact: float = MIN_IMPACT) -> list[list[tuple[str, float]]]:
    """For each row, up to k families that raise the risk (impact >= min_impact), largest first
    (ties by family order)."""
    values = impacts.to_numpy()
    names = list(impacts.columns)
    order = np.argsort(-values, axis=1, kind="stable")
    out = []
    for i in range(len(values)):
        row = [(names[j], float(values[i, j])) for j in order[i, :k] if values[i, j] >= min_impact]
        out.append(row)
    return out
