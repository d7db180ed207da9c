"""How good a churn score is: ranking, calibration, lift and expected profit.

Every function takes ``y_true`` (1 = the group churned, 0 = it stayed) and a score or
probability of the same length, checks both, and raises ``ValueError`` naming the problem.
Higher scores mean higher risk. When ``y_true`` holds a single class, metrics that need
both classes (``roc_auc``, ``gini``) return NaN, ``pr_auc`` and lifts return NaN when there
are no churners; everything else stays finite.

EMP follows Verbraken, Verbeke & Baesens (2013), "A novel profit maximizing metric for
measuring classification performance of customer churn prediction models", IEEE TKDE 25(5),
computed in closed form on the convex hull of the ROC curve, as in the paper and in the R
package ``EMP`` (``empChurn``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.special import betainc

from churnkit.model.resample import (
    Resample,
    check_level,
    draws,
    percentile_interval,
    resampled_values,
)

N_DECILES = 10


# --------------------------------------------------------------------------- input checks
def _to_float(values, name: str) -> np.ndarray:
    """One-dimensional float array; missing values become NaN."""
    try:
        if isinstance(values, (pd.Series, pd.Index, pd.api.extensions.ExtensionArray)):
            arr = pd.Series(values).to_numpy(dtype=float, na_value=np.nan)
        else:
            arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    return arr


def _check(y_true, score, *, name: str = "score", probability: bool = False):
    """Validated ``(y, score)``: y as int8 0/1, score as finite floats of the same length."""
    y = _to_float(y_true, "y_true")
    if np.isnan(y).any():
        raise ValueError(f"y_true has {int(np.isnan(y).sum())} missing values")
    bad = (y != 0) & (y != 1)
    if bad.any():
        raise ValueError(f"y_true must hold only 0 and 1, found {np.unique(y[bad])[:5].tolist()}")
    s = _to_float(score, name)
    if len(s) != len(y):
        raise ValueError(f"y_true has {len(y)} rows but {name} has {len(s)}")
    if not np.isfinite(s).all():
        raise ValueError(f"{name} has {int((~np.isfinite(s)).sum())} missing or infinite values")
    if probability and ((s < 0) | (s > 1)).any():
        raise ValueError(
            f"{name} must be probabilities in [0, 1], found values from {s.min():g} to {s.max():g}"
        )
    return y.astype(np.int8), s


def _check_bins(bins) -> int:
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    return int(bins)


# --------------------------------------------------------------------------- ranking
def _tie_ends(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Churners and stayers scoring at least each distinct score, highest score first.

    The cumulative counts ``(tp, fp)`` at the last row of each tie of a stable descending
    sort: the points of the ROC curve as counts, without the origin.
    """
    order = np.argsort(-s, kind="stable")
    last_of_tie = np.r_[np.diff(s[order]) != 0, True]
    tp = np.cumsum(y[order], dtype=np.int64)[last_of_tie]
    return tp, np.arange(1, len(y) + 1)[last_of_tie] - tp


def _auc_from_ties(tp: np.ndarray, fp: np.ndarray) -> float:
    """AUC from tie-end counts: pairs with the churner above, plus half the tied pairs.

    The pair count is an exact integer, so the result is the same as from average ranks.
    """
    n_pos, n_neg = int(tp[-1]), int(fp[-1])
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    pos, neg = np.diff(tp, prepend=0), np.diff(fp, prepend=0)
    twice_pairs = int(np.sum(pos * (2 * (n_neg - fp) + neg)))
    return float(twice_pairs / 2 / (n_pos * n_neg))


def _ap_from_ties(tp: np.ndarray, fp: np.ndarray) -> float:
    """Average precision from tie-end counts (one threshold per distinct score)."""
    n_pos = int(tp[-1])
    if n_pos == 0:
        return float("nan")
    recall_gain = np.diff(np.r_[0, tp]) / n_pos
    return float(np.sum(recall_gain * tp / (tp + fp)))


def roc_auc(y_true, score) -> float:
    """Area under the ROC curve (tied scores count one half); NaN when y_true has one class.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    return _auc_from_ties(*_tie_ends(*_check(y_true, score)))


def gini(y_true, score) -> float:
    """Gini coefficient, ``2 * roc_auc - 1``; NaN when y_true has one class."""
    return 2.0 * roc_auc(y_true, score) - 1.0


def pr_auc(y_true, score) -> float:
    """Average precision: sum over thresholds of (recall gain) x precision; NaN without churners.

    Tied scores form one threshold, as in ``sklearn.metrics.average_precision_score``.

    Examples
    --------
    >>> pr_auc([0, 1, 0, 1], [0.1, 0.9, 0.8, 0.05])  # 1/2 * 1/1 + 1/2 * 2/4
    0.75
    """
    return _ap_from_ties(*_tie_ends(*_check(y_true, score)))


# --------------------------------------------------------------------------- calibration
def brier(y_true, prob) -> float:
    """Brier score, the mean of ``(prob - y_true) ** 2`` (0 is perfect)."""
    y, p = _check(y_true, prob, name="prob", probability=True)
    return float(np.mean((p - y) ** 2))


def calibration_curve(y_true, prob, bins: int = 10) -> pd.DataFrame:
    """Mean prediction against observed churn rate in equal-width probability bins.

    Bin ``k`` (1..bins) holds ``(k-1)/bins <= prob < k/bins``; the last bin also holds 1.0.
    Only non-empty bins are listed, so no value is NaN.

    Returns
    -------
    DataFrame with columns ``bin``, ``mean_predicted``, ``observed_rate``, ``n``.
    """
    y, p = _check(y_true, prob, name="prob", probability=True)
    bins = _check_bins(bins)
    index = np.minimum(np.floor(p * bins).astype(int), bins - 1) + 1
    frame = pd.DataFrame({"bin": index, "p": p, "y": y})
    table = frame.groupby("bin", sort=True).agg(
        mean_predicted=("p", "mean"), observed_rate=("y", "mean"), n=("y", "size")
    )
    return table.reset_index().astype({"bin": int, "n": int})


def expected_calibration_error(y_true, prob, bins: int = 10) -> float:
    """ECE: mean over equal-width bins of ``|mean prob - churn rate|``, weighted by bin size.

    Examples
    --------
    >>> expected_calibration_error([0, 1, 1, 1], [0.2, 0.4, 0.6, 0.8], bins=2)
    0.25
    """
    table = calibration_curve(y_true, prob, bins)
    gap = (table["mean_predicted"] - table["observed_rate"]).abs()
    return float(np.sum(gap * table["n"]) / table["n"].sum())


# --------------------------------------------------------------------------- lift
def lift_by_decile(y_true, score) -> pd.DataFrame:
    """Churn rate and lift per score decile; decile 1 is the top 10% by score.

    Rows are ranked by score descending, ties kept in input order (a stable sort), and row
    of rank ``r`` (1..n) falls in decile ``ceil(10 * r / n)``, the rule of the scored file's
    ``risk_decile``. With fewer than 10 rows some deciles are empty and left out. ``lift`` is
    the decile's churn rate over the overall rate, ``cumulative_lift`` the same for deciles
    1..d together; both are NaN when there are no churners at all.

    Returns
    -------
    DataFrame with columns ``decile``, ``n``, ``positives``, ``rate``, ``lift``,
    ``cumulative_lift``.
    """
    y, s = _check(y_true, score)
    n = len(y)
    order = np.argsort(-s, kind="stable")
    rank = np.arange(1, n + 1)
    decile = (N_DECILES * rank + n - 1) // n  # integer ceil(10 * rank / n)
    frame = pd.DataFrame({"decile": decile, "y": y[order].astype(int)})
    table = frame.groupby("decile", sort=True)["y"].agg(n="size", positives="sum").reset_index()
    base = y.mean()
    table["rate"] = table["positives"] / table["n"]
    cum_rate = table["positives"].cumsum() / table["n"].cumsum()
    table["lift"] = table["rate"] / base if base > 0 else np.nan
    table["cumulative_lift"] = cum_rate / base if base > 0 else np.nan
    return table.astype({"decile": int, "n": int, "positives": int})


def top_decile_lift(y_true, score) -> float:
    """Lift of decile 1 (see ``lift_by_decile``); NaN with fewer than 10 rows or no churners."""
    table = lift_by_decile(y_true, score)
    top = table.loc[table["decile"] == 1, "lift"]
    return float(top.iloc[0]) if len(top) else float("nan")


# --------------------------------------------------------------------------- profit
def _roc_hull(tp: np.ndarray, fp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of the upper convex hull of the ROC curve, as counts ``(churners, stayers)``.

    The curve has the origin and one point per distinct score, the tie-end counts ``tp``,
    ``fp`` of ``_tie_ends`` (target every row scoring at least that much). Points on or
    below the chord of their neighbours are removed until none is left; the arithmetic is
    on integer counts, so it is exact.
    """
    tp, fp = np.r_[0, tp].astype(np.int64), np.r_[0, fp].astype(np.int64)
    while len(tp) > 2:
        cross = (fp[1:-1] - fp[:-2]) * (tp[2:] - tp[:-2]) - (tp[1:-1] - tp[:-2]) * (
            fp[2:] - fp[:-2]
        )
        keep = np.r_[True, cross < 0, True]
        if keep.all():
            break
        tp, fp = tp[keep], fp[keep]
    return tp, fp


def emp(
    y_true,
    score,
    clv: float = 200.0,
    offer_cost: float = 10.0,
    contact_cost: float = 1.0,
    alpha: float = 6,
    beta: float = 14,
) -> tuple[float, float]:
    """Expected Maximum Profit for customer churn (Verbraken, Verbeke & Baesens, 2013).

    A retention campaign contacts the top-scored share of customers at ``contact_cost`` each
    and offers them an incentive worth ``offer_cost``; a contacted churner accepts with
    probability ``gamma`` and is kept (worth ``clv``), a contacted non-churner accepts the
    offer anyway. With ``delta = offer_cost / clv``, ``phi = contact_cost / clv``, churn
    rate ``pi0``, ``F0``/``F1`` the shares of churners/non-churners targeted, the profit per
    customer of cutoff ``t`` is::

        P(t; gamma) = clv * (gamma * (1 - delta) - phi) * pi0 * F0(t)
                      - clv * (delta + phi) * pi1 * F1(t)

    and ``EMP = integral over gamma of max_t P(t; gamma) h(gamma) dgamma`` with
    ``gamma ~ Beta(alpha, beta)``. Targeting nobody (profit 0) is one of the cutoffs.

    Computed exactly as in the paper: the optimal cutoff for a given gamma is a vertex of the
    ROC convex hull; vertex ``k`` is optimal for gamma between the hull segments' break-even
    values ``gamma_k = (pi1 (delta + phi) dF1 / (pi0 dF0) + phi) / (1 - delta)``, and each
    piece is integrated with regularised incomplete beta functions.

    Parameters
    ----------
    y_true : array of 0/1, 1 = churner.
    score : array of risk scores, higher = more likely to churn.
    clv : value of a retained customer (money).
    offer_cost, contact_cost : cost of the incentive and of the contact (money).
    alpha, beta : parameters of the Beta distribution of the acceptance rate gamma.

    Returns
    -------
    (emp_value, best_fraction) : expected maximum profit per customer, in money (the same
    unit as ``clv``), and the expected share of customers targeted at the optimal cutoff.
    Without churners both are 0; without non-churners the model is perfect by definition.

    Raises
    ------
    ValueError
        On bad inputs, or when ``offer_cost >= clv`` (no retention can ever pay).

    Examples
    --------
    A perfect ranking of a half-churner base earns about ``0.5 * (190 * 0.3 - 1)`` = 28:

    >>> value, fraction = emp([1, 0], [0.9, 0.1])
    >>> round(value, 4), round(fraction, 4)
    (28.0, 0.5)
    """
    y, s = _check(y_true, score)
    if not clv > 0:
        raise ValueError(f"clv must be positive, got {clv!r}")
    if not (0 <= offer_cost < clv):
        raise ValueError(f"offer_cost must be at least 0 and below clv={clv}, got {offer_cost!r}")
    if not contact_cost >= 0:
        raise ValueError(f"contact_cost must be at least 0, got {contact_cost!r}")
    if not (alpha > 0 and beta > 0):
        raise ValueError(f"alpha and beta must be positive, got {alpha!r} and {beta!r}")
    return _emp_from_ties(*_tie_ends(y, s), clv, offer_cost, contact_cost, alpha, beta)


def _emp_from_ties(
    tie_tp, tie_fp, clv, offer_cost, contact_cost, alpha, beta
) -> tuple[float, float]:
    """``emp`` from the tie-end counts of ``_tie_ends``, costs already checked."""
    n_churn, n_stay = int(tie_tp[-1]), int(tie_fp[-1])
    if n_churn == 0:
        return 0.0, 0.0
    pi0, pi1 = n_churn / (n_churn + n_stay), n_stay / (n_churn + n_stay)
    delta, phi = offer_cost / clv, contact_cost / clv

    tp, fp = _roc_hull(tie_tp, tie_fp)
    f0 = tp / n_churn
    f1 = fp / n_stay if n_stay else np.zeros(len(fp))
    d_f0, d_f1 = np.diff(f0), np.diff(f1)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope_cost = np.where(d_f0 > 0, pi1 * (delta + phi) * d_f1 / (pi0 * d_f0), np.inf)
    gamma = np.clip(np.r_[0.0, (slope_cost + phi) / (1 - delta), 1.0], 0.0, 1.0)

    prob = np.diff(betainc(alpha, beta, gamma))  # P(gamma in piece k)
    mean_part = alpha / (alpha + beta) * np.diff(betainc(alpha + 1, beta, gamma))  # E[gamma; k]
    profit = (1 - delta) * pi0 * f0 * mean_part - (phi * pi0 * f0 + (delta + phi) * pi1 * f1) * prob
    value = float(clv * profit.sum())
    fraction = float(np.sum((pi0 * f0 + pi1 * f1) * prob))
    return value, fraction


# --------------------------------------------------------------------------- intervals
def bootstrap_ci(
    metric_fn: Callable[[np.ndarray, np.ndarray], float],
    y_true,
    score,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Point estimate and percentile bootstrap interval of ``metric_fn(y_true, score)``.

    Rows are resampled with replacement ``n_boot`` times from ``numpy.random.default_rng(seed)``
    (so the same seed gives the same interval, and every metric evaluated with one seed sees
    the same resamples); resamples with a single class, and resamples where the metric is NaN,
    are skipped. ``metric_fn`` must return one float (for ``emp`` use
    ``lambda y, s: emp(y, s)[0]``).

    Returns
    -------
    (point, lo, hi) : lo and hi are NaN when no resample could be used (or ``n_boot=0``).
    The percentile interval need not contain the point estimate for very skewed metrics.
    """
    y, s = _check(y_true, score)
    samples = draws(len(y), n_boot, seed)
    check_level(level)
    point = float(metric_fn(y, s))
    values = []
    for idx in samples:
        y_b = y[idx]
        if y_b.min() == y_b.max():
            continue
        value = float(metric_fn(y_b, s[idx]))
        if np.isfinite(value):
            values.append(value)
    return (point, *percentile_interval(values, level))


def ranking_stats(sample: Resample) -> dict[str, float]:
    """``roc_auc``, ``pr_auc``, ``top_decile_lift`` and ``emp`` (default costs) of one resample.

    All four come from the resample's tie-end counts (one descending order of its scores);
    the top decile is its first ``n // 10`` rows, ties in resample order as ``lift_by_decile``.
    """
    tp, fp = sample.tp, sample.fp
    n, n_pos = sample.n, sample.positives
    top = n // N_DECILES
    lift = sample.top_positives(top) / top / (n_pos / n) if top and n_pos else float("nan")
    return {
        "roc_auc": _auc_from_ties(tp, fp),
        "pr_auc": _ap_from_ties(tp, fp),
        "top_decile_lift": float(lift),
        "emp": _emp_from_ties(tp, fp, *emp.__defaults__)[0],
    }


def calibration_stats(sample: Resample, bins: int = 10) -> dict[str, float]:
    """``brier`` and ``ece`` (equal-width bins as ``calibration_curve``) of one resample."""
    p, y = sample.score, sample.y
    index = np.minimum(np.floor(p * bins).astype(int), bins - 1)
    n = np.bincount(index, minlength=bins)
    filled = n > 0
    mean_p = np.bincount(index, weights=p, minlength=bins)[filled] / n[filled]
    rate = np.bincount(index, weights=y, minlength=bins)[filled] / n[filled]
    ece = np.sum(np.abs(mean_p - rate) * n[filled]) / n[filled].sum()
    return {"brier": float(np.mean((p - y) ** 2)), "ece": float(ece)}


def _emp_value(y_true, score) -> float:
    return emp(y_true, score)[0]


_WITH_INTERVALS: dict[str, Callable] = {
    "roc_auc": roc_auc,
    "pr_auc": pr_auc,
    "top_decile_lift": top_decile_lift,
    "brier": brier,
    "ece": expected_calibration_error,
    "emp": _emp_value,
}


def evaluate(y_true, prob, n_boot: int = 200, seed: int = 0) -> dict[str, float]:
    """Every metric of this module with a 95% bootstrap interval, in one flat dict.

    Keys: ``n``, ``positives``, then for each of ``roc_auc``, ``pr_auc``,
    ``top_decile_lift``, ``brier``, ``ece``, ``emp``, ``gini`` the point value and
    ``<name>_lo``/``<name>_hi``, and ``emp_fraction`` (share of customers to target).
    EMP uses the default cost settings of ``emp``. All intervals come from the same
    resamples (one seed), each drawn once for all metrics: the intervals are those of
    ``bootstrap_ci`` for each metric; gini's is ``2 * auc - 1`` of AUC's. The lift table is
    ``lift_by_decile(y_true, prob)``.
    """
    y, p = _check(y_true, prob, name="prob", probability=True)
    result: dict[str, float] = {"n": int(len(y)), "positives": int(y.sum())}
    values = resampled_values(
        lambda sample: {**ranking_stats(sample), **calibration_stats(sample)}, y, p, n_boot, seed
    )
    for name, fn in _WITH_INTERVALS.items():
        lo, hi = percentile_interval(values.get(name, []))
        result.update({name: float(fn(y, p)), f"{name}_lo": lo, f"{name}_hi": hi})
    for key in ("", "_lo", "_hi"):
        result[f"gini{key}"] = 2.0 * result[f"roc_auc{key}"] - 1.0
    result["emp_fraction"] = emp(y, p)[1]
    return result
