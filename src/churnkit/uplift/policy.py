"""Targeting by saved value, and when there is enough evidence to do it.

**Evidence.** The list switches from today's policy (risk x value: the value policy's actions,
ranked by risk) to saved value only when the pooled holdout evidence reaches a minimum: at
least ``MIN_WAVES`` randomised waves whose horizon has passed, holding at least
``MIN_HOLDOUT`` holdout and ``MIN_TREATED`` treated groups between them. Why these numbers: with
300 holdout against 1,000 treated groups at a 15% churn rate among listed groups, the smallest
pooled uplift detectable (80% power, 5% two-sided) is about 6.5 points (2.8 x sqrt(0.15 x 0.85 x
(1/300 + 1/1000))); fewer waves also say little about how the effect varies between groups.
Below that the uplift model is not trained and the scored file says ``risk_value``. The switch
also needs the average effect the uplift model measured (the doubly robust mean of its
pseudo-outcomes) to lie above zero with 95% confidence: a ranking by saved value is only as good
as the measured value, and with an average effect that may be zero or negative it ranks the least
valuable groups first. :func:`switches` applies both rules.

**Saved value** of contacting a group = its expected churn reduction (the uplift model's
prediction) x its yearly value (12 x monthly spend) - the contact cost of its action
(:class:`churnkit.campaign.effects.Costs`: visit 200, call 20, care 5 yuan).

**Unsure estimates go to ``none``.** The uplift model's out-of-fold predictions on the waves it
learned from are cut into ``BANDS`` bands of equal size; in each band the holdout's churn minus
the treated groups' churn is measured with its 95% interval (Newcombe). A group whose predicted
uplift is not above zero, whose band's interval does not lie above zero, or whose saved value is
not above zero gets the action ``none``: leaving it alone keeps it (or costs nothing to find out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from churnkit.campaign.effects import Z95, Costs, newcombe

MIN_WAVES = 3
MIN_HOLDOUT = 300
MIN_TREATED = 1000
BANDS = 5
RISK_VALUE, SAVED_VALUE = "risk_value", "saved_value"


@dataclass(frozen=True)
class Evidence:
    """The randomised waves whose horizon has passed, pooled."""

    waves: int
    treated: int
    holdout: int

    @property
    def enough(self) -> bool:
        return self.waves >= MIN_WAVES and self.holdout >= MIN_HOLDOUT and self.treated >= MIN_TREATED

    def to_dict(self) -> dict:
        return {"waves": self.waves, "treated": self.treated, "holdout": self.holdout, "enough": self.enough,
                "minimum": {"waves": MIN_WAVES, "holdout": MIN_HOLDOUT, "treated": MIN_TREATED}}


def switches(found: Evidence, model) -> bool:
    """True when the list is ranked by saved value: enough evidence, and the uplift model's average
    effect above zero with 95% confidence."""
    if model is None or not found.enough:
        return False
    c = model.calibration_
    return c["average_effect"] - Z95 * c["average_effect_se"] > 0


def evidence(done: pd.DataFrame) -> Evidence:
    """Evidence of the retention rows whose horizon has passed (columns ``wave``, ``assignment``)."""
    return Evidence(int(done["wave"].nunique()), int((done["assignment"] == "treat").sum()),
                    int((done["assignment"] == "holdout").sum()))


def saved_value(uplift, yearly_value, cost) -> np.ndarray:
    """Expected churn reduction x yearly value - contact cost, yuan."""
    return np.asarray(uplift, dtype=float) * np.asarray(yearly_value, dtype=float) - np.asarray(cost, dtype=float)


def contact_cost(actions, costs: Costs = Costs()) -> np.ndarray:
    """The contact cost of each action (yuan); ``none`` costs nothing."""
    return pd.Series(actions, dtype=object).map(costs.to_dict()).fillna(0.0).to_numpy(dtype=float)


def effect_bands(predicted, churned, treated, bands: int = BANDS) -> list[dict]:
    """Bands of equal size by predicted uplift (lowest first): their upper edge and the measured
    uplift (holdout minus treated churn) with its 95% Newcombe interval."""
    pred = np.asarray(predicted, dtype=float)
    y, t = np.asarray(churned, dtype=float), np.asarray(treated, dtype=int)
    order = np.argsort(pred, kind="stable")
    out = []
    for k, idx in enumerate(np.array_split(order, bands)):
        yt, yh = y[idx][t[idx] == 1], y[idx][t[idx] == 0]
        d, lo, hi = newcombe(yt.sum(), len(yt), yh.sum(), len(yh))
        out.append({"band": k + 1, "upper": float(pred[idx].max()) if k < bands - 1 and len(idx) else float("inf"),
                    "treated": int(len(yt)), "holdout": int(len(yh)), "uplift": -d, "uplift_lo": -hi, "uplift_hi": -lo})
    return out


def band_lower(predicted, bands: list[dict]) -> np.ndarray:
    """The lower bound of the measured uplift of each prediction's band (NaN when unmeasured)."""
    pred = np.asarray(predicted, dtype=float)
    uppers = np.array([b["upper"] for b in bands])
    lows = np.array([b["uplift_lo"] for b in bands], dtype=float)
    return lows[np.minimum(np.searchsorted(uppers, pred, side="left"), len(bands) - 1)]


def targeted_actions(actions: pd.Series, uplift, value, bands: list[dict], costs: Costs = Costs()) -> tuple[np.ndarray, np.ndarray]:
    """Saved value per group (for its value-policy action; empty where the value policy already says
    ``none``: debtors and groups not worth a contact are no candidates) and the action under the
    saved-value policy: the value policy's action where uplift, band and saved value are all above
    zero, else ``none``."""
    acts = actions.astype(object).to_numpy()
    saved = np.where(acts == "none", np.nan, saved_value(uplift, value, contact_cost(acts, costs)))
    keep = (np.asarray(uplift) > 0) & (np.nan_to_num(band_lower(uplift, bands), nan=-1.0) > 0) & (np.nan_to_num(saved, nan=-1.0) > 0)
    return saved, np.where(keep, acts, "none")
