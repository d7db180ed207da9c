"""Probability calibration on out-of-time months: a monotone map from LightGBM's raw score
(log-odds) to a probability, stored as plain numbers in the bundle manifest.

``platt`` fits p = 1 / (1 + exp(-(a * raw + b))) by logistic regression: two parameters,
smooth and strictly increasing, so reasons can be carried from raw score to probability (see
explain.py). ``beta`` (Kull, Silva Filho & Flach 2017) fits
logit(p) = a * ln(s) - b * ln(1 - s) + c with s = sigmoid(raw) and a, b >= 0: three parameters,
still smooth and increasing, and able to bend the top of the scale where Platt's single slope
cannot. ``isotonic`` fits a step function (more flexible, needs more churners, flat steps).

:func:`decile_calibration` judges a calibration where the money is: each risk decile's mean
predicted probability beside its realised churn rate with an exact (Clopper-Pearson) binomial
interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import beta as beta_dist
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from churnkit.model.metrics import N_DECILES

METHODS = ("platt", "beta", "isotonic")
DEFAULT = "platt"


def _beta_terms(raw: np.ndarray) -> np.ndarray:
    """The two inputs of beta calibration, ln(s) and -ln(1 - s) for s = sigmoid(raw), computed
    without forming s (no overflow at large |raw|)."""
    return np.column_stack([-np.logaddexp(0.0, -raw), np.logaddexp(0.0, raw)])


@dataclass(frozen=True)
class Calibrator:
    method: str
    params: dict

    def __call__(self, raw) -> np.ndarray:
        raw = np.asarray(raw, dtype=float)
        if self.method == "platt":
            z = self.params["a"] * raw + self.params["b"]
            return 1.0 / (1.0 + np.exp(-z))
        if self.method == "beta":
            terms = _beta_terms(raw.reshape(-1))
            z = self.params["a"] * terms[:, 0] + self.params["b"] * terms[:, 1] + self.params["c"]
            return expit(z).reshape(raw.shape)
        x, y = np.asarray(self.params["x"]), np.asarray(self.params["y"])
        return np.interp(raw, x, y)

    def to_dict(self) -> dict:
        return {"method": self.method, **self.params}

    @classmethod
    def from_dict(cls, data: dict) -> Calibrator:
        data = dict(data)
        method = data.pop("method")
        if method not in METHODS:
            raise ValueError(f"unknown calibration method {method!r}")
        return cls(method, data)


def _logistic(X: np.ndarray, y: np.ndarray, weight, tol: float = 1e-4) -> LogisticRegression:
    return LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000, tol=tol).fit(X, y, sample_weight=weight)


def _fit_beta(raw: np.ndarray, y: np.ndarray, weight) -> dict:
    """Beta calibration by logistic regression on (ln s, -ln(1 - s)); a coefficient that comes out
    negative is fixed at 0 and the other refitted (the paper's rule), so the map stays increasing."""
    terms = _beta_terms(raw)
    lr = _logistic(terms, y, weight, tol=1e-10)
    a, b = (float(v) for v in lr.coef_[0])
    if a >= 0 and b >= 0:
        return {"a": a, "b": b, "c": float(lr.intercept_[0])}
    keep = 1 if a < b else 0  # drop the smaller (negative) one
    lr = _logistic(terms[:, [keep]], y, weight, tol=1e-10)
    coef = max(float(lr.coef_[0, 0]), 0.0)
    return {"a": coef if keep == 0 else 0.0, "b": coef if keep == 1 else 0.0, "c": float(lr.intercept_[0])}


def fit_calibrator(raw, y, method: str = DEFAULT, weight=None) -> Calibrator:
    """Fit the raw-score -> probability map on rows the model did not learn from; ``weight``
    (optional) undoes a sample of those rows."""
    raw, y = np.asarray(raw, dtype=float), np.asarray(y, dtype=int)
    weight = None if weight is None else np.asarray(weight, dtype=float)
    if method == "platt":
        lr = _logistic(raw.reshape(-1, 1), y, weight)
        return Calibrator("platt", {"a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])})
    if method == "beta":
        return Calibrator("beta", _fit_beta(raw, y, weight))
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-6, y_max=1 - 1e-6).fit(raw, y, sample_weight=weight)
        return Calibrator("isotonic", {"x": [float(v) for v in iso.X_thresholds_], "y": [float(v) for v in iso.y_thresholds_]})
    raise ValueError(f"unknown calibration method {method!r}; choose one of {', '.join(METHODS)}")


def binomial_interval(k, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) interval of a rate of ``k`` events in ``n`` trials.

    Examples
    --------
    >>> lo, hi = binomial_interval(0, 10)
    >>> float(lo), round(float(hi), 4)  # 1 - 0.025 ** (1 / 10)
    (0.0, 0.3085)
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    tail = (1 - level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k > 0, beta_dist.ppf(tail, k, n - k + 1), 0.0)
        hi = np.where(k < n, beta_dist.ppf(1 - tail, k + 1, n - k), 1.0)
    return lo, hi


def decile_calibration(y_true, prob, level: float = 0.95) -> pd.DataFrame:
    """Predicted against realised churn by risk decile (1 = the top 10% by probability, the scored
    file's ``risk_decile`` rule), with the realised rate's exact binomial interval.

    Returns
    -------
    DataFrame with columns ``decile``, ``n``, ``churners``, ``predicted`` (mean probability),
    ``realised`` (churn rate), ``lo``, ``hi`` (its interval) and ``within`` (the predicted rate
    lies inside the interval).
    """
    y, p = np.asarray(y_true, dtype=int), np.asarray(prob, dtype=float)
    if len(y) != len(p) or len(y) == 0:
        raise ValueError(f"y_true has {len(y)} rows but prob has {len(p)}; both must be non-empty and of one length")
    n = len(y)
    order = np.argsort(-p, kind="stable")
    decile = (N_DECILES * np.arange(1, n + 1) + n - 1) // n
    frame = pd.DataFrame({"decile": decile, "y": y[order], "p": p[order]})
    table = frame.groupby("decile", sort=True).agg(n=("y", "size"), churners=("y", "sum"), predicted=("p", "mean"),
                                                   realised=("y", "mean")).reset_index()
    table["lo"], table["hi"] = binomial_interval(table["churners"], table["n"], level)
    table["within"] = (table["predicted"] >= table["lo"]) & (table["predicted"] <= table["hi"])
    return table
