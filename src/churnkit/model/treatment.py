"""Treatment-aware training: the risk model learns what happens *without* contact.

Once managers act on the list, a group that was about to leave and was saved by a call ends up
labelled "stayed"; a retrain that ignores this learns that its warning signs mean nothing, and
gets worse exactly where the list worked. So training reads the ``retention`` table.

A contact of wave W happens in W+1..W+H and can change churn in (W, W+H]; the label of snapshot
month M covers (M, M+H], and a saved group's signals of the next months still carry the warning
that preceded the contact (the signals look back ``LOOKBACK_MONTHS``). So a group's snapshots
with W - H < M < W + H + 6 are *in the wave's window*; they are *treated* when the group was
assigned ``treat`` in W (reached or not) or was contacted while held out.

``mode`` chooses what training does with them (``churnkit train --treatment``):

- ``"feature"`` (default): every snapshot kept, with a 0/1 feature ``contacted_in_window``
  (``lgbm.UNTREATED``); scoring predicts as untreated (a table without the column reads 0);
- ``"holdout"``: in a window, treated snapshots left out and each holdout group's snapshots
  weighted by the inverse probability of having been held out of every wave whose window holds
  them (prod 1 / (1 - e_w): 5 for one 20% holdout, 25 for two), so that the holdout stands for
  the whole list as if nobody had been contacted;
- ``"exclude"``: the treated snapshots left out, the holdout unweighted;
- ``"ignore"``: the naive retrain, for comparison.

Chosen by measuring on the simulator (benchmarks/eval_treatment.py; README "Learning from
outcomes"): the list is drawn by what the operator saw, which knows more than the signals, and
with waves every month a risky group is listed again and again, so leaving out its treated
snapshots removes most of the riskiest groups (``exclude`` under-predicts the holdout by half or
more) and the weights that correct it reach 5^5 (``holdout``: just as far off, by variance).
The feature keeps every row; it measured as well as the naive retrain, and the two left-out
variants worse than both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.errors import UsageError
from churnkit.features import WEIGHT
from churnkit.model.lgbm import UNTREATED
from churnkit.months import parse_month
from churnkit.signals.frame import LOOKBACK_MONTHS

MODES = ("feature", "holdout", "exclude", "ignore")
DEFAULT_MODE = "feature"


def _windows(panel: pd.DataFrame, retention: pd.DataFrame, horizon: int, after: int) -> pd.DataFrame:
    """Every (panel row, wave) pair whose snapshot lies in the wave's window, with the wave row's
    ``treated`` (assigned treat, or contacted while held out) and ``e`` (probability of treatment)."""
    waves = pd.DataFrame({"group_id": retention["group_id"].astype(str).to_numpy(),
                          "wave_index": retention["wave"].map(parse_month).to_numpy(),
                          "treated": ((retention["assignment"] == "treat") | retention["contacted"].notna()).to_numpy(),
                          "e": retention["assignment_probability"].astype(float).to_numpy()})
    keys = pd.DataFrame({"group_id": panel["group_id"].astype(str).to_numpy(),
                         "mi": panel["month"].map(parse_month).to_numpy(), "row": np.arange(len(panel))})
    joined = keys.merge(waves, on="group_id", how="inner")
    return joined[(joined["mi"] > joined["wave_index"] - horizon) & (joined["mi"] < joined["wave_index"] + horizon + after)]


def treatment_weights(panel: pd.DataFrame, retention: pd.DataFrame | None, horizon: int,
                      after: int = LOOKBACK_MONTHS) -> tuple[np.ndarray, np.ndarray]:
    """Per panel row: treated in a wave's window (bool), and the holdout weight: the inverse of the
    probability of having been held out of every wave whose window holds the snapshot,
    prod 1 / (1 - e_w) (each wave draws its holdout afresh); 1 elsewhere."""
    treated, weight = np.zeros(len(panel), dtype=bool), np.ones(len(panel))
    if retention is None or retention.empty or panel.empty:
        return treated, weight
    pairs = _windows(panel, retention, horizon, after)
    treated[pairs.loc[pairs["treated"], "row"].to_numpy()] = True
    held = pairs[~pairs["treated"]]
    w = held.assign(w=1.0 / (1.0 - held["e"].clip(upper=0.99))).groupby("row")["w"].prod()
    weight[w.index.to_numpy()] = w.to_numpy()
    weight[treated] = 1.0
    return treated, weight


def treatment_aware(panel: pd.DataFrame, retention: pd.DataFrame | None, horizon: int,
                    mode: str = DEFAULT_MODE, after: int = LOOKBACK_MONTHS) -> tuple[pd.DataFrame, dict]:
    """The panel as training should see it, and a record for the manifest (mode, treated snapshots).
    In ``feature`` mode the column is added only when some snapshot is treated."""
    if mode not in MODES:
        raise UsageError(f"--treatment must be one of {', '.join(MODES)}, not {mode!r}")
    treated, weight = treatment_weights(panel, retention, horizon, after)
    record = {"mode": mode, "retention_rows": 0 if retention is None else int(len(retention)),
              "treated_snapshots": int(treated.sum()), "holdout_snapshots_weighted": int((weight > 1).sum())}
    if mode in ("holdout", "exclude"):
        out = panel[~treated].copy()
        if mode == "holdout" and (weight > 1).any():
            base = out[WEIGHT].to_numpy(dtype=float) if WEIGHT in out.columns else np.ones(len(out))
            out[WEIGHT] = base * weight[~treated]
    elif mode == "feature" and treated.any():
        out = panel.assign(**{UNTREATED: treated.astype(int)})
    else:
        out = panel
    out.attrs = dict(panel.attrs)
    return out, record
