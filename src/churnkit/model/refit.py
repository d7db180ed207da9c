"""The scoring model: after the out-of-time evaluation, refitted on every usable month.

The evaluation (train.py) learns from the training months, stops early on the validation months
and reports on the test months; its numbers stay the honest estimate of how the model does on
months it has not seen. The model that scores is then refitted on every usable month up to the
last label (training, gap, validation and test months alike) with the same settings and the
number of trees the evaluation chose, so that it learns from the latest behaviour too.

Its calibration never scores a row it learned from. Two ways, chosen by ``source``:

* ``crossfit``: the usable months are cut into contiguous blocks; for each block a model with
  the same settings and trees learns from the months at least H months away from the block (no
  label window of a learning row overlaps one of the block) and scores the block. The
  calibration is fitted on these out-of-fold scores of every usable month, then applied to the
  refitted model.
* ``carried``: the evaluation model's calibration, fitted on the validation months that model
  did not learn from, is carried over to the refitted model as it is.

benchmarks/eval_refit.py measures both on later months (README, "Model").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from churnkit.errors import DataError
from churnkit.features import WEIGHT
from churnkit.model import lgbm
from churnkit.model.calibration import Calibrator, fit_calibrator
from churnkit.months import format_month, parse_month

SOURCES = ("crossfit", "carried")
DEFAULT_SOURCE = "carried"  # measured: see README, "Model"
BLOCKS = 4


def month_blocks(months: list[int], blocks: int = BLOCKS) -> list[list[int]]:
    """``months`` (sorted) cut into ``blocks`` contiguous runs of nearly equal length, earliest first.

    Examples
    --------
    >>> month_blocks([1, 2, 3, 4, 5, 6, 7], 3)
    [[1, 2, 3], [4, 5], [6, 7]]
    """
    months = sorted(months)
    return [[int(m) for m in part] for part in np.array_split(np.asarray(months), min(blocks, len(months))) if len(part)]


def learning_months(months: list[int], block: list[int], horizon: int) -> list[int]:
    """The months a block's out-of-fold model learns from: at least ``horizon`` months (1 at
    horizon 0) before the block's first month or after its last.

    Examples
    --------
    >>> learning_months(list(range(1, 13)), [5, 6, 7], 3)
    [1, 2, 10, 11, 12]
    """
    gap = max(horizon, 1)
    return [m for m in months if m <= min(block) - gap or m >= max(block) + gap]


def _weight(frame: pd.DataFrame):
    return frame[WEIGHT] if WEIGHT in frame.columns else None


def out_of_fold(frame: pd.DataFrame, months: list[int], label: str, features: list[str], levels: dict,
                settings: lgbm.ModelSettings, trees: int, horizon: int,
                blocks: int = BLOCKS) -> tuple[np.ndarray, list[dict]]:
    """Raw scores of every row of ``frame`` (months in ``months``) by a model that did not learn
    from its month nor from any month within ``horizon`` of its block; NaN for a block whose
    learning months hold one class only. Also the record of which months each model learned from."""
    mi = frame["month"].map(parse_month).to_numpy()
    raw = np.full(len(frame), np.nan)
    record = []
    for block in month_blocks(months, blocks):
        learn = learning_months(months, block, horizon)
        part = frame[np.isin(mi, learn)]
        if part.empty or part[label].nunique() < 2:
            continue
        booster = lgbm.fit_rounds(lgbm.matrix(part, features, levels), part[label], settings, trees, weight=_weight(part))
        rows = np.isin(mi, block)
        raw[rows] = lgbm.raw_score(booster, lgbm.matrix(frame[rows], features, levels))
        record.append({"scored": [format_month(m) for m in block], "learned_from": [format_month(m) for m in learn]})
    if not record:
        raise DataError(f"{len(months)} usable months are too few to cross-fit the calibration with horizon {horizon}; "
                        "use --refit-calibration carried or provide a longer history")
    return raw, record


def thinned(panel: pd.DataFrame, sampled_months: list[int], rate: float, label: str = "label", seed: int = 7) -> pd.DataFrame:
    """The refit's rows at a scale where the training months were sampled (``rate`` < 1): the
    stayers of the other months (validation, gaps, test), which the evaluation read in full, are
    sampled at the same rate by a seeded hash of (group, month) and weighted 1 / rate, like those
    of the training months; churners and the training months' rows are kept as they are."""
    if rate >= 1.0:
        return panel
    done = panel["month"].map(parse_month).isin(sampled_months).to_numpy()
    key = pd.util.hash_pandas_object(panel[["group_id", "month"]].astype(str), index=False, hash_key=f"churnkit{seed:08d}"[:16])
    draw = (key.to_numpy() % 1_000_000) < int(round(rate * 1_000_000))
    stayer = (panel[label] == 0).to_numpy()
    keep = done | ~stayer | draw
    out = panel[keep].copy()
    weight = out[WEIGHT].to_numpy(dtype=float) if WEIGHT in out.columns else np.ones(len(out))
    out[WEIGHT] = np.where(~done[keep] & stayer[keep], 1.0 / rate, weight)
    return out


@dataclass
class Refit:
    """The refitted scoring model and what it was fitted on."""

    booster: lgb.Booster
    calibrator: Calibrator
    levels: dict[str, list[str]]
    months: list[int]
    source: str
    calibration_months: list[int]
    blocks: list[dict] = field(default_factory=list)

    def describe(self) -> dict:
        return {"months": [format_month(m) for m in self.months], "trees": int(self.booster.current_iteration()),
                "calibration": self.source, "calibration_months": [format_month(m) for m in self.calibration_months],
                "blocks": self.blocks}


def refit(panel: pd.DataFrame, months: list[int], label: str, features: list[str], categorical: list[str],
          settings: lgbm.ModelSettings, trees: int, horizon: int, calibration: str = "platt",
          source: str = DEFAULT_SOURCE, carried: Calibrator | None = None, carried_months: list[int] | None = None,
          blocks: int = BLOCKS) -> Refit:
    """Refit on every row of ``panel`` whose month is in ``months``, ``trees`` trees; calibrate by
    ``source`` (see the module docstring). ``carried`` is the evaluation's calibration, fitted on
    ``carried_months``."""
    if source not in SOURCES:
        raise ValueError(f"unknown refit calibration {source!r}; choose one of {', '.join(SOURCES)}")
    frame = panel[panel["month"].map(parse_month).isin(months)]
    if frame[label].nunique() < 2:
        raise DataError(f"the usable months hold a single class of {label!r}; both churners and stayers are needed")
    levels = lgbm.category_levels(frame, categorical)
    booster = lgbm.fit_rounds(lgbm.matrix(frame, features, levels), frame[label], settings, trees, weight=_weight(frame))
    if source == "carried":
        if carried is None:
            raise ValueError("a carried calibration needs the evaluation's calibrator")
        return Refit(booster, carried, levels, sorted(months), source, sorted(carried_months or []))
    raw, record = out_of_fold(frame, sorted(months), label, features, levels, settings, trees, horizon, blocks)
    known = ~np.isnan(raw)
    weight = _weight(frame)
    calibrator = fit_calibrator(raw[known], frame[label].to_numpy()[known], calibration,
                                weight=None if weight is None else weight.to_numpy()[known])
    scored = sorted({parse_month(m) for r in record for m in r["scored"]})
    return Refit(booster, calibrator, levels, sorted(months), source, scored, record)
