"""Input drift: how far this month's signals have moved from the months the model learned on.

At training time :func:`reference` stores, for every numeric signal, decile bin edges of its
non-null values over the training months and the share of rows in each bin, plus the share of
nulls; they go into the model bundle's manifest. At report time :func:`drift_table` puts month
M's rows in the same bins and computes the population stability index (PSI)

    PSI = sum over bins of (now - train) * ln(now / train)

over the value bins and one more bin for nulls, so that a signal that goes missing drifts too.
Empty bins count as a share of 0.0001, the usual floor, so the sum stays finite. By the field's
rule of thumb PSI < 0.1 is stable, 0.1-0.2 is worth watching and > 0.2 is a shift that calls for
a look at the data and, if it is real, retraining.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

BINS = 10
FLOOR = 1e-4
PSI_WATCH = 0.1
PSI_SHIFT = 0.2


def _values(series: pd.Series) -> tuple[np.ndarray, float]:
    """The non-null values as floats and the null share of a column."""
    x = pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()
    known = ~np.isnan(x)
    return x[known], (1.0 - known.mean()) if len(x) else 0.0


def bin_shares(values: np.ndarray, edges: list[float]) -> list[float]:
    """Share of ``values`` in each bin (-inf, e1], (e1, e2], ..., (ek, inf); all zeros when empty."""
    counts = np.bincount(np.searchsorted(np.asarray(edges, dtype=float), values, side="left"), minlength=len(edges) + 1)
    return (counts / counts.sum()).tolist() if counts.sum() else [0.0] * (len(edges) + 1)


def reference_for(series: pd.Series, bins: int = BINS) -> dict:
    """Bin edges (deciles of the non-null values, duplicates merged), bin shares and null share."""
    values, null_share = _values(series)
    edges = np.unique(np.quantile(values, np.arange(1, bins) / bins)).tolist() if len(values) else []
    return {"edges": edges, "shares": bin_shares(values, edges), "null_share": null_share, "rows": int(len(series))}


def reference(frame: pd.DataFrame, signals: list[str], months: list[str], bins: int = BINS) -> dict:
    """The drift reference of ``signals`` over the rows of ``frame`` (the training months)."""
    return {"months": months, "bins": bins, "signals": {name: reference_for(frame[name], bins) for name in signals}}


def psi(train: list[float], now: list[float], floor: float = FLOOR) -> float:
    """Population stability index between two lists of shares over the same bins.

    >>> round(psi([0.5, 0.5], [0.25, 0.75]), 4)
    0.2747
    """
    if len(train) != len(now):
        raise ValueError(f"psi: {len(train)} reference bins but {len(now)} current bins")
    total = 0.0
    for e, a in zip(train, now):
        e, a = max(e, floor), max(a, floor)
        total += (a - e) * math.log(a / e)
    return total


def with_nulls(shares: list[float], null_share: float) -> list[float]:
    """Value-bin shares (of the non-null rows) rescaled to all rows, with the null bin appended."""
    return [s * (1.0 - null_share) for s in shares] + [null_share]


def drift_table(ref: dict, frame: pd.DataFrame) -> pd.DataFrame:
    """PSI and null shares of every reference signal in ``frame`` (month M), largest PSI first.

    A signal the reference knows but ``frame`` lacks is reported with every row null.
    """
    rows = []
    for name, r in ref["signals"].items():
        series = frame[name] if name in frame else pd.Series(np.nan, index=frame.index)
        values, null_now = _values(series)
        now = with_nulls(bin_shares(values, r["edges"]), null_now)
        train = with_nulls(r["shares"], r["null_share"])
        value = psi(train, now)
        rows.append({"signal": name, "psi": value, "null_share_train": r["null_share"], "null_share_now": null_now,
                     "shifted": value > PSI_SHIFT, "watch": PSI_WATCH < value <= PSI_SHIFT})
    table = pd.DataFrame(rows, columns=["signal", "psi", "null_share_train", "null_share_now", "shifted", "watch"])
    return table.sort_values(["psi", "signal"], ascending=[False, True], kind="stable").reset_index(drop=True)
