"""The operators' manual early warning (集团客户离网预警) as a scorer: count the warnings.

Each rule looks at one signal of the data contract's catalogue and fires when the signal
crosses a threshold; a group's score is the number of rules that fire, with ties broken by
spend. It is the baseline any model has to beat, and it needs no training.

Rules are named by the reason family of their signal (see the data contract), so a warning
and a model's reason speak the same language.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: reason family -> the signal its rule reads, in report order.
RULE_SIGNALS: dict[str, str] = {
    "member_loss": "member_change_3m",
    "spend_decline": "spend_change_3m",
    "idle_lines": "zero_call_share_change_3m",
    "call_forwarding": "forwarding_share",
    "addon_cancellation": "addon_cancel_rate_3m",
    "competitor_contact": "competitor_hotline_calls_3m",
    "contract_expiry": "months_to_contract_end",
    "complaints": "complaints_3m",
    "exit_intent": "exit_intent_3m",
}
SPEND_COLUMN = "spend"


@dataclass(frozen=True)
class RuleBaseline:
    """Thresholds of the manual warning rules; the defaults are the operators' usual ones.

    A rule fires when its signal is known (not null) and crosses its threshold:

    ========================  =============================================================
    rule                      fires when
    ========================  =============================================================
    ``member_loss``           ``member_change_3m <= member_change_3m_max`` (-0.2)
    ``spend_decline``         ``spend_change_3m <= spend_change_3m_max`` (-0.3)
    ``idle_lines``            ``zero_call_share_change_3m >= zero_call_share_change_3m_min``
    ``call_forwarding``       ``forwarding_share >= forwarding_share_min`` (0.1)
    ``addon_cancellation``    ``addon_cancel_rate_3m >= addon_cancel_rate_3m_min`` (0.1)
    ``competitor_contact``    ``competitor_hotline_calls_3m >= competitor_hotline_calls_3m_min``
    ``contract_expiry``       ``months_to_contract_end`` within [min, max] (0..3)
    ``complaints``            ``complaints_3m >= complaints_3m_min`` (2)
    ``exit_intent``           ``exit_intent_3m == exit_intent_3m_value`` (1)
    ========================  =============================================================

    Examples
    --------
    >>> frame = pd.DataFrame({
    ...     "member_change_3m": [-0.25, 0.0], "spend_change_3m": [-0.4, None],
    ...     "zero_call_share_change_3m": [0.0, 0.0], "forwarding_share": [0.0, 0.0],
    ...     "addon_cancel_rate_3m": [0.0, 0.0], "competitor_hotline_calls_3m": [0, 3],
    ...     "months_to_contract_end": [None, 2], "complaints_3m": [0, 0],
    ...     "exit_intent_3m": [0, 0], "spend": [100.0, 900.0]})
    >>> RuleBaseline().count(frame).tolist()
    [2, 2]
    >>> RuleBaseline().score(frame).round(3).tolist()  # same count: the bigger spender first
    [2.333, 2.667]
    """

    member_change_3m_max: float = -0.2
    spend_change_3m_max: float = -0.3
    zero_call_share_change_3m_min: float = 0.1
    forwarding_share_min: float = 0.1
    addon_cancel_rate_3m_min: float = 0.1
    competitor_hotline_calls_3m_min: float = 1
    months_to_contract_end_min: float = 0
    months_to_contract_end_max: float = 3
    complaints_3m_min: float = 2
    exit_intent_3m_value: float = 1

    def __post_init__(self) -> None:
        if self.months_to_contract_end_min > self.months_to_contract_end_max:
            raise ValueError(
                "RuleBaseline: months_to_contract_end_min "
                f"({self.months_to_contract_end_min}) is above months_to_contract_end_max "
                f"({self.months_to_contract_end_max})"
            )

    def warnings(self, features: pd.DataFrame) -> pd.DataFrame:
        """One boolean column per rule (named by reason family), on the index of ``features``.

        A null signal never fires its rule. Raises ValueError naming missing or non-numeric
        signal columns.
        """
        x = _signals(features, list(RULE_SIGNALS.values()))
        months = x["months_to_contract_end"]
        fired = {
            "member_loss": x["member_change_3m"] <= self.member_change_3m_max,
            "spend_decline": x["spend_change_3m"] <= self.spend_change_3m_max,
            "idle_lines": x["zero_call_share_change_3m"] >= self.zero_call_share_change_3m_min,
            "call_forwarding": x["forwarding_share"] >= self.forwarding_share_min,
            "addon_cancellation": x["addon_cancel_rate_3m"] >= self.addon_cancel_rate_3m_min,
            "competitor_contact": x["competitor_hotline_calls_3m"]
            >= self.competitor_hotline_calls_3m_min,
            "contract_expiry": (months >= self.months_to_contract_end_min)
            & (months <= self.months_to_contract_end_max),
            "complaints": x["complaints_3m"] >= self.complaints_3m_min,
            "exit_intent": x["exit_intent_3m"] == self.exit_intent_3m_value,
        }
        # comparisons with NaN are False, so a null signal does not fire
        return pd.DataFrame(fired, index=features.index).astype(bool)

    def count(self, features: pd.DataFrame) -> pd.Series:
        """Number of rules that fire per row (int, 0..9), on the index of ``features``."""
        return self.warnings(features).sum(axis=1).astype(int).rename("warnings")

    def score(self, features: pd.DataFrame) -> np.ndarray:
        """Risk score: warning count plus a tie-break by spend, ``count + spend_rank / (n + 1)``.

        ``spend_rank`` is the rank of ``spend`` within ``features`` (1 = lowest, equal spends
        share their average rank, null spend ranks 0), so the fraction stays below 1: groups
        are ordered by count first and, within a count, the bigger spender comes first. The
        tie-break is relative to the frame scored, so scores from different frames are
        comparable only in their integer part.
        """
        spend = _signals(features, [SPEND_COLUMN])[SPEND_COLUMN]
        rank = spend.rank(method="average", na_option="keep").fillna(0.0)
        n = len(features)
        return self.count(features).to_numpy(dtype=float) + rank.to_numpy(dtype=float) / (n + 1)


def _signals(features: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The named columns as floats (nulls as NaN); ValueError naming missing/non-numeric ones."""
    if not isinstance(features, pd.DataFrame):
        raise ValueError(f"RuleBaseline expects a pandas DataFrame, got {type(features).__name__}")
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise ValueError(f"RuleBaseline: features lack column(s) {', '.join(missing)}")
    out = {}
    for name in columns:
        try:
            out[name] = pd.to_numeric(features[name]).astype("float64")
        except (TypeError, ValueError):
            raise ValueError(
                f"RuleBaseline: column {name} must be numeric, got dtype {features[name].dtype}"
            ) from None
    return pd.DataFrame(out, index=features.index)
