"""The scored file's targeting columns: which policy ranked the month, and the saved value.

``churnkit score`` calls :func:`target` after the value policy has chosen each group's action.
With a bundle whose uplift record says ``saved_value`` (enough randomised evidence and an average
effect above zero, see :mod:`churnkit.uplift.policy`) it adds, per group:

- ``churn_reduction``: the uplift model's expected fall in the probability of leaving within the
  horizon if the group is contacted with its action (0.05 = five points), at most the group's
  ``churn_probability`` (a contact cannot prevent more churn than would happen);
- ``saved_value``: churn_reduction x yearly value (12 x monthly spend) - the action's contact
  cost, yuan; empty where the value policy says ``none`` (debtors, groups not worth a contact);
- ``action``: the value policy's action where the effect is positive, its band's measured effect
  lies above zero and the saved value is positive; ``none`` otherwise;
- ``ranked_by`` = ``saved_value``: ``churnkit campaign plan`` orders the wave by saved value.

Otherwise the two numbers are empty, the actions are the value policy's and ``ranked_by`` is
``risk_value``. The columns come after every column of the data contract (version 2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnkit.campaign.effects import Costs
from churnkit.model.bundle import Bundle
from churnkit.uplift.policy import RISK_VALUE, SAVED_VALUE, targeted_actions
from churnkit.uplift.store import load_uplift
from churnkit.uplift.training import ACTION

COLUMNS = ["churn_reduction", "saved_value", "ranked_by"]


def target(frame: pd.DataFrame, bundle: Bundle, costs: Costs = Costs(), loaded: tuple | None = None) -> pd.DataFrame:
    """``frame`` (signals, spend, action) with the targeting columns, and the action under saved value when it applies.
    ``loaded``: the bundle's ``load_uplift`` result when already at hand (Spark ships it to its executors)."""
    out = frame.copy()
    model, record = loaded if loaded is not None else load_uplift(bundle)
    if model is None or record.get("policy") != SAVED_VALUE:
        out["churn_reduction"], out["saved_value"], out["ranked_by"] = np.nan, np.nan, RISK_VALUE
        return out
    uplift = model.predict(out.assign(**{ACTION: out["action"].astype(str)}))
    uplift = np.minimum(uplift, out["churn_probability"].to_numpy(dtype=float))  # no contact prevents more churn than would happen
    value = 12 * out["spend"].to_numpy(dtype=float)
    saved, action = targeted_actions(out["action"], uplift, value, record["bands"], costs)
    out["churn_reduction"], out["saved_value"], out["action"], out["ranked_by"] = uplift, saved, action, SAVED_VALUE
    return out
