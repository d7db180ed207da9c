"""Uplift metrics for a retention wave: the Qini curve and the uplift of the top decile.

The outcome is churn within the horizon (1 = left), so the *uplift* of contact is the churn it
prevents: the holdout's churn rate minus the treated groups' rate (positive: fewer left).

Groups are ordered by predicted uplift, highest first. For the first k groups the two arms'
churn rates are weighted by the inverse of the known assignment probability e (treated 1/e,
holdout 1/(1-e); self-normalised, so with one e for everyone they are the plain rates):

    prevented(k) = k x (rate_holdout(k) - rate_treated(k))

the churns contact would prevent if those k groups were all contacted (0 while either arm is
empty among them). This is Radcliffe's Qini curve scaled to the k targeted groups rather than
to the treated ones, so arms of unequal size (a 20% holdout) need no class transformation.

**Normalisation.** The curve is reported per group of the whole list: x = k / n (share
targeted), y = prevented(k) / n (churns prevented per group listed). The *Qini coefficient* is
the area between that curve and the random line from (0, 0) to (1, y(1)), by the trapezoid
rule over every k: in churn points per listed group, 0 for a random order, positive when the
order puts the groups that respond first. The top decile's uplift is the rate difference among
the first ceil(n / 10) groups, beside the uplift of the whole list.

Examples
--------
>>> import numpy as np
>>> curve = qini_curve(np.array([0.3, 0.2, 0.1, 0.0]), np.array([0, 1, 1, 1]), np.array([1, 0, 1, 0]), 0.5)
>>> [round(v, 3) for v in curve["prevented"]]
[0.0, 0.0, 2.0, 1.5, 2.0]
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from churnkit.errors import DataError


def _arrays(predicted, churned, treated, p_treat) -> tuple[np.ndarray, ...]:
    pred = np.asarray(predicted, dtype=float)
    y = np.asarray(churned, dtype=float)
    t = np.asarray(treated, dtype=float)
    e = np.broadcast_to(np.asarray(p_treat, dtype=float), pred.shape).astype(float)
    if not (len(pred) == len(y) == len(t)):
        raise DataError(f"uplift metrics need arrays of one length (predictions {len(pred)}, outcomes {len(y)}, arms {len(t)})")
    if len(pred) and (np.any((e <= 0) | (e >= 1)) or not set(np.unique(t)) <= {0.0, 1.0}):
        raise DataError("uplift metrics need assignment probabilities strictly between 0 and 1 and arms coded 1 (treat) / 0 (holdout)")
    order = np.argsort(-pred, kind="stable")
    return pred[order], y[order], t[order], e[order]


def qini_curve(predicted, churned, treated, p_treat) -> pd.DataFrame:
    """The Qini curve at every k = 0..n: ``groups`` (k), ``share`` (k / n), ``prevented``
    (estimated churns prevented by contacting the first k), ``per_group`` (prevented / n) and
    ``random`` (share x the whole list's prevented / n)."""
    _, y, t, e = _arrays(predicted, churned, treated, p_treat)
    n = len(y)
    wt, wh = t / e, (1 - t) / (1 - e)
    sum_t, sum_h = np.cumsum(wt), np.cumsum(wh)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate_t = np.where(sum_t > 0, np.cumsum(wt * y) / np.where(sum_t > 0, sum_t, 1), np.nan)
        rate_h = np.where(sum_h > 0, np.cumsum(wh * y) / np.where(sum_h > 0, sum_h, 1), np.nan)
    k = np.arange(1, n + 1)
    both = (sum_t > 0) & (sum_h > 0)
    prevented = np.concatenate([[0.0], np.where(both, k * (rate_h - rate_t), 0.0)])
    groups = np.arange(n + 1)
    share = groups / n if n else groups.astype(float)
    per_group = prevented / n if n else prevented
    random = share * (per_group[-1] if n else 0.0)
    return pd.DataFrame({"groups": groups, "share": share, "prevented": prevented, "per_group": per_group, "random": random})


def qini_coefficient(predicted, churned, treated, p_treat) -> float:
    """Area between the Qini curve and the random line (per listed group, x in [0, 1])."""
    curve = qini_curve(predicted, churned, treated, p_treat)
    if len(curve) < 2:
        return math.nan
    gap = (curve["per_group"] - curve["random"]).to_numpy()
    return float(np.sum((gap[1:] + gap[:-1]) / 2 * np.diff(curve["share"].to_numpy())))


def uplift_at(predicted, churned, treated, p_treat, share: float = 0.1) -> dict:
    """Churn prevented (holdout minus treated rate) among the first ceil(share x n) groups by
    predicted uplift, with the arms' sizes, beside the whole list's."""
    _, y, t, e = _arrays(predicted, churned, treated, p_treat)

    def rates(sl: slice) -> tuple[float, int, int]:
        yy, tt, ee = y[sl], t[sl], e[sl]
        wt, wh = tt / ee, (1 - tt) / (1 - ee)
        if wt.sum() <= 0 or wh.sum() <= 0:
            return math.nan, int(tt.sum()), int((1 - tt).sum())
        return float((wh * yy).sum() / wh.sum() - (wt * yy).sum() / wt.sum()), int(tt.sum()), int((1 - tt).sum())

    k = math.ceil(share * len(y) - 1e-9)
    top, n_t, n_h = rates(slice(0, k))
    overall, _, _ = rates(slice(0, len(y)))
    return {"share": share, "groups": k, "treated": n_t, "holdout": n_h, "uplift": top, "uplift_all": overall,
            "ratio": top / overall if overall and overall == overall and top == top else math.nan}
