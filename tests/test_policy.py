"""The value policy picks visit, call, care or none as documented."""

from __future__ import annotations

import pandas as pd

from churnkit.policy import ValuePolicy


def frame(**cols):
    base = {"churn_probability": 0.5, "expected_loss": 5000.0, "spend": 1000.0, "value_tier": "B", "arrears_total": None}
    base.update(cols)
    return pd.DataFrame([base])


def action(**cols):
    return ValuePolicy().actions(frame(**cols)).iloc[0]


def test_rules_in_order():
    assert action(value_tier="A", churn_probability=0.1, expected_loss=100.0) == "visit"  # tier A at >= 10%
    assert action(expected_loss=1500.0, churn_probability=0.1) == "visit"     # >= 1,500 yuan at >= 10%
    assert action(expected_loss=1500.0, churn_probability=0.09) == "call"     # not risky enough to visit
    assert action(expected_loss=300.0, churn_probability=0.05) == "call"      # >= 300 yuan at >= 5%
    assert action(expected_loss=299.0, churn_probability=0.5) == "care"       # low value
    assert action(expected_loss=49.0) == "none"                               # below the cost of retention
    assert action(churn_probability=0.029, expected_loss=300.0) == "none"     # no real warning


def test_malicious_debtor_is_not_retained_even_when_valuable():
    assert action(value_tier="A", arrears_total=2500.0, spend=1000.0) == "none"   # 2.5 months of spend
    assert action(value_tier="A", arrears_total=500.0, spend=1000.0) == "visit"   # half a month: not a debtor


def test_thresholds_are_settings():
    policy = ValuePolicy(visit_tiers=("A", "B"))
    assert policy.actions(frame(churn_probability=0.1, expected_loss=100.0)).iloc[0] == "visit"
