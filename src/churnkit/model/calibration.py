"""Probability calibration on out-of-time months: a monotone map from LightGBM's raw score
(log-odds) to a probability, stored as plain numbers in the bundle manifest.

``platt`` (default) fits p = 1 / (1 + exp(-(a * raw + b))) by logistic regression on the
validation months: two parameters, robust on a few hundred churners, smooth and strictly
increasing, so reasons can be carried from raw score to probability (see explain.py).
``isotonic`` fits a step function (more flexible, needs more churners, flat steps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

METHODS = ("platt", "isotonic")


@dataclass(frozen=True)
class Calibrator:
    method: str
    params: dict

    def __call__(self, raw) -> np.ndarray:
        raw = np.asarray(raw, dtype=float)
        if self.method == "platt":
            z = self.params["a"] * raw + self.params["b"]
            return 1.0 / (1.0 + np.exp(-z))
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


def fit_calibrator(raw, y, method: str = "platt") -> Calibrator:
    """Fit the raw-score -> probability map on out-of-time rows."""
    raw, y = np.asarray(raw, dtype=float), np.asarray(y, dtype=int)
    if method == "platt":
        lr = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
        lr.fit(raw.reshape(-1, 1), y)
        return Calibrator("platt", {"a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])})
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-6, y_max=1 - 1e-6).fit(raw, y)
        return Calibrator("isotonic", {"x": [float(v) for v in iso.X_thresholds_], "y": [float(v) for v in iso.y_thresholds_]})
    raise ValueError(f"unknown calibration method {method!r}; choose one of {', '.join(METHODS)}")
