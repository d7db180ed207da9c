"""The rule baseline on hand-made frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnkit.model.baseline import RULE_SIGNALS, RuleBaseline

QUIET = {  # a group with no warning at all
    "member_change_3m": 0.0,
    "spend_change_3m": 0.0,
    "zero_call_share_change_3m": 0.0,
    "forwarding_share": 0.0,
    "addon_cancel_rate_3m": 0.0,
    "competitor_hotline_calls_3m": 0,
    "months_to_contract_end": 12,
    "complaints_3m": 0,
    "exit_intent_3m": 0,
    "spend": 100.0,
}


def frame(*changes: dict, index=None) -> pd.DataFrame:
    return pd.DataFrame([{**QUIET, **c} for c in changes], index=index)


def test_each_rule_fires_exactly_at_its_threshold():
    rows = frame(
        {},
        {"member_change_3m": -0.2},
        {"spend_change_3m": -0.3},
        {"zero_call_share_change_3m": 0.1},
        {"forwarding_share": 0.1},
        {"addon_cancel_rate_3m": 0.1},
        {"competitor_hotline_calls_3m": 1},
        {"months_to_contract_end": 3},
        {"complaints_3m": 2},
        {"exit_intent_3m": 1},
    )
    warnings = RuleBaseline().warnings(rows)
    assert list(warnings.columns) == list(RULE_SIGNALS)
    assert warnings.dtypes.eq(bool).all()
    expected = np.zeros((10, 9), dtype=bool)
    expected[np.arange(1, 10), np.arange(9)] = True
    np.testing.assert_array_equal(warnings.to_numpy(), expected)


def test_rules_do_not_fire_just_inside_the_threshold():
    rows = frame(
        {"member_change_3m": -0.19},
        {"spend_change_3m": -0.29},
        {"zero_call_share_change_3m": 0.09},
        {"forwarding_share": 0.09},
        {"addon_cancel_rate_3m": 0.09},
        {"complaints_3m": 1},
        {"months_to_contract_end": 4},
        {"months_to_contract_end": -1},  # already past: not "expiring"
    )
    assert RuleBaseline().count(rows).tolist() == [0] * 8


def test_counts_on_a_hand_made_frame_with_nulls():
    rows = frame(
        # member loss + spend decline + contract in 0 months + exit intent = 4
        {"member_change_3m": -0.5, "spend_change_3m": -0.6, "months_to_contract_end": 0,
         "exit_intent_3m": 1},
        # every signal null: nothing fires
        {k: None for k in RULE_SIGNALS.values()},
        # nulls next to fired rules: forwarding + complaints = 2
        {"member_change_3m": None, "spend_change_3m": np.nan, "forwarding_share": 0.4,
         "complaints_3m": 5, "months_to_contract_end": None},
        # idle lines + add-on cancels + competitor calls = 3
        {"zero_call_share_change_3m": 0.3, "addon_cancel_rate_3m": 0.5,
         "competitor_hotline_calls_3m": 4},
        {},
        index=["g1", "g2", "g3", "g4", "g5"],
    )
    count = RuleBaseline().count(rows)
    assert count.index.tolist() == ["g1", "g2", "g3", "g4", "g5"]
    assert count.tolist() == [4, 0, 2, 3, 0]
    assert count.dtype.kind == "i"
    assert RuleBaseline().warnings(rows).loc["g1"].sum() == 4


def test_nullable_integer_columns_are_read():
    rows = frame({}, {}, {})
    rows["complaints_3m"] = pd.array([3, None, 0], dtype="Int64")
    rows["exit_intent_3m"] = pd.array([True, False, None], dtype="boolean")
    assert RuleBaseline().count(rows).tolist() == [2, 0, 0]


def test_score_breaks_ties_by_spend_without_reordering_counts():
    rows = frame(
        {"exit_intent_3m": 1, "spend": 50.0},                 # count 1, lowest spend
        {"exit_intent_3m": 1, "spend": 900.0},                # count 1, highest spend
        {"exit_intent_3m": 1, "complaints_3m": 3, "spend": 10.0},  # count 2, tiny spend
        {"spend": 5000.0},                                    # count 0, huge spend
        {"exit_intent_3m": 1, "spend": None},                 # count 1, unknown spend
    )
    score = RuleBaseline().score(rows)
    # spend ranks among the known spends: 10 -> 1, 50 -> 2, 900 -> 3, 5000 -> 4; null -> 0; n+1 = 6
    np.testing.assert_allclose(score, [1 + 2 / 6, 1 + 3 / 6, 2 + 1 / 6, 0 + 4 / 6, 1 + 0])
    assert np.argsort(-score).tolist() == [2, 1, 0, 4, 3]


def test_equal_spend_stays_tied():
    score = RuleBaseline().score(frame({"spend": 70.0}, {"spend": 70.0}))
    assert score[0] == score[1] == pytest.approx(1.5 / 3)


def test_thresholds_are_settings():
    rows = frame({"complaints_3m": 1, "months_to_contract_end": 5})
    assert RuleBaseline().count(rows).tolist() == [0]
    relaxed = RuleBaseline(complaints_3m_min=1, months_to_contract_end_max=6)
    assert relaxed.count(rows).tolist() == [2]
    with pytest.raises(ValueError, match="months_to_contract_end_min"):
        RuleBaseline(months_to_contract_end_min=4, months_to_contract_end_max=3)


def test_missing_columns_are_named():
    rows = frame({}).drop(columns=["forwarding_share", "complaints_3m"])
    with pytest.raises(ValueError, match="forwarding_share, complaints_3m"):
        RuleBaseline().warnings(rows)
    with pytest.raises(ValueError, match="spend"):
        RuleBaseline().score(frame({}).drop(columns=["spend"]))


def test_non_numeric_column_is_named():
    rows = frame({"complaints_3m": "many"})
    with pytest.raises(ValueError, match="complaints_3m must be numeric"):
        RuleBaseline().count(rows)
