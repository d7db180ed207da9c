"""The value policy: which action a group's account manager takes.

Following the operator's retention practice: fight for valuable groups at high risk (a visit by
the manager), call the middle, keep a light touch (message, offer) for low-value groups, and do
not chase groups that are not worth the cost of retention or that owe money on purpose.
Rules, in order (first match wins):

1. ``none``  arrears_total >= ``debtor_months`` x monthly spend and >= ``debtor_min_arrears`` yuan
             (treated as a malicious debtor: collections, not retention);
2. ``none``  churn_probability < ``min_probability`` (no warning worth acting on) or
             expected_loss < ``min_expected_loss`` (value below the cost of retention);
3. ``visit`` value_tier in ``visit_tiers`` or expected_loss >= ``visit_expected_loss``, and
             churn_probability >= ``visit_probability``;
4. ``call``  expected_loss >= ``call_expected_loss`` and churn_probability >= ``call_probability``;
5. ``care``  everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

ACTIONS = ("visit", "call", "care", "none")


@dataclass(frozen=True)
class ValuePolicy:
    visit_tiers: tuple[str, ...] = ("A",)
    visit_probability: float = 0.10
    visit_expected_loss: float = 1500.0
    call_probability: float = 0.05
    call_expected_loss: float = 300.0
    min_probability: float = 0.03
    min_expected_loss: float = 50.0
    debtor_months: float = 2.0
    debtor_min_arrears: float = 300.0

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def actions(self, frame: pd.DataFrame) -> pd.Series:
        """``frame`` has churn_probability, expected_loss, spend, value_tier, arrears_total."""
        p = frame["churn_probability"].to_numpy(dtype=float)
        loss = frame["expected_loss"].to_numpy(dtype=float)
        spend = frame["spend"].to_numpy(dtype=float)
        arrears = pd.to_numeric(frame["arrears_total"], errors="coerce").fillna(0).to_numpy(dtype=float)
        tier = frame["value_tier"].astype("string").fillna("").isin(self.visit_tiers).to_numpy()
        debtor = (arrears >= self.debtor_months * spend) & (arrears >= self.debtor_min_arrears)
        idle = (p < self.min_probability) | (loss < self.min_expected_loss)
        visit = (tier | (loss >= self.visit_expected_loss)) & (p >= self.visit_probability)
        call = (loss >= self.call_expected_loss) & (p >= self.call_probability)
        action = np.select([debtor, idle, visit, call], ["none", "none", "visit", "call"], default="care")
        return pd.Series(action, index=frame.index, name="action")
