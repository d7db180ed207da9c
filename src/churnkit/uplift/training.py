"""Training the uplift model from the retention table, as part of ``churnkit train``.

The rows are the retention table's groups of every wave whose horizon has passed by the last
month of the data, each with its signals at the wave month (the training panel's row of
(group, wave)), its outcome (the panel's label: churn within the horizon after the wave), the
arm (``assignment``: intent to treat) and the known probability of treatment (strata whose
probability is 0 or 1, a stratum of one group held out whole, are left out: nothing was
randomised there). The model reads
the risk model's features plus the recommended action (the effect is learned by action where
the data allow: the action is a stratum of the randomisation).

**Evaluation on later waves.** When at least two waves are done, the model is fitted on all but
the last one and judged on that last wave (its holdout against its treated groups): Qini
coefficient and curve, and uplift of the top decile, normalised as :mod:`churnkit.uplift.metrics`
says (per listed group). The model that scores is then fitted on every done wave.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.months import format_month, parse_month
from churnkit.uplift.learner import UpliftModel, UpliftSettings
from churnkit.uplift.metrics import qini_coefficient, qini_curve, uplift_at
from churnkit.uplift.policy import effect_bands, evidence, switches

ACTION = "recommended_action"
CURVE_POINTS = 11  # the Qini curve kept for the report: shares 0, 0.1, ..., 1


def wave_rows(panel: pd.DataFrame, retention: pd.DataFrame, horizon: int, last_month: int) -> pd.DataFrame:
    """Retention rows of the waves done by ``last_month`` with the panel's signals and label at the wave month."""
    done = retention[retention["wave"].map(parse_month) + horizon <= last_month]
    cols = ["wave", "group_id", "assignment", "assignment_probability", ACTION, "churn_probability", "expected_loss"]
    rows = done[cols].rename(columns={"churn_probability": "decision_probability", "expected_loss": "decision_expected_loss"})
    rows = rows.assign(group_id=rows["group_id"].astype(str), month=rows["wave"].astype(str))
    merged = panel.assign(group_id=panel["group_id"].astype(str), month=panel["month"].astype(str)).merge(
        rows, on=["group_id", "month"], how="inner")
    merged["treated"] = (merged["assignment"] == "treat").astype(int)
    e = merged["assignment_probability"].astype(float)
    return merged[(e > 0) & (e < 1)].reset_index(drop=True)  # a stratum held out whole (or not at all) was not randomised


def curve_points(curve: pd.DataFrame, points: int = CURVE_POINTS) -> list[dict]:
    """The Qini curve at ``points`` evenly spaced shares (nearest k), for the report and MLflow."""
    n = int(curve["groups"].iloc[-1])
    picks = sorted({int(round(n * i / (points - 1))) for i in range(points)})
    part = curve.set_index("groups").loc[picks]
    return [{"share": float(r.share), "per_group": float(r.per_group), "random": float(r.random)} for r in part.itertuples()]


def evaluate_later_wave(rows: pd.DataFrame, features: list[str], categorical: list[str], settings: UpliftSettings) -> dict | None:
    """Fit on every done wave but the last, judge on the last (Qini, top decile); None when fewer than two waves."""
    waves = sorted(rows["wave"].unique())
    if len(waves) < 2:
        return None
    fit, later = rows[rows["wave"] != waves[-1]], rows[rows["wave"] == waves[-1]]
    if fit["treated"].sum() < 2 or (1 - fit["treated"]).sum() < 2 or later["treated"].nunique() < 2:
        return None
    model = UpliftModel(settings).fit(fit, features, fit["treated"], fit["label"], fit["assignment_probability"], categorical)
    pred = model.predict(later)
    args = (pred, later["label"], later["treated"], later["assignment_probability"])
    top = uplift_at(*args, share=0.1)
    return {"wave": waves[-1], "learned_from": [str(w) for w in waves[:-1]], "groups": int(len(later)),
            "qini_coefficient": qini_coefficient(*args), "top_decile_uplift": top["uplift"], "uplift_all": top["uplift_all"],
            "qini_curve": curve_points(qini_curve(*args)), "normalisation": "per listed group of the wave (x: share targeted, "
            "y: churns prevented / groups listed); Qini coefficient: area between the curve and the random line"}


def fit_uplift(panel: pd.DataFrame, retention: pd.DataFrame | None, horizon: int, features: list[str],
               categorical: list[str], settings: UpliftSettings | None = None) -> tuple[UpliftModel | None, dict]:
    """The uplift model (None below the minimum evidence) and its record for the manifest."""
    settings = settings or UpliftSettings()
    if retention is None or retention.empty:
        return None, {"policy": "risk_value", "reason": "no retention table"}
    last = max(parse_month(m) for m in panel["month"].unique()) + horizon
    rows = wave_rows(panel, retention, horizon, last)
    found = evidence(rows)
    record = {"policy": "risk_value", "evidence": found.to_dict(), "as_of": format_month(last)}
    if not found.enough:
        record["reason"] = "not enough randomised waves yet"
        return None, record
    feats, cats = [*features, ACTION], [*categorical, ACTION]
    record["evaluation"] = evaluate_later_wave(rows, feats, cats, settings)
    model = UpliftModel(settings).fit(rows, feats, rows["treated"], rows["label"], rows["assignment_probability"], cats)
    record["bands"] = effect_bands(model.oof_, rows["label"], rows["treated"])
    record["calibration"] = model.calibration_
    record["waves"] = sorted(str(w) for w in rows["wave"].unique())
    if switches(found, model):
        record["policy"] = "saved_value"
    else:
        record["reason"] = "the average effect is not above zero with 95% confidence"
    return model, record


def json_safe(value):
    """Infinite band edges and NaN as null, for JSON."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
