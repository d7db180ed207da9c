"""SHAP contributions carried to probability points: additive, sign-preserving, per family."""

from __future__ import annotations

import numpy as np
import pytest

from churnkit.errors import ModelError
from churnkit.explain import check_additivity, family_impacts, top_reasons
from churnkit.model.calibration import Calibrator

PLATT = Calibrator("platt", {"a": 1.0, "b": 0.0})  # p = sigmoid(raw)


def test_impacts_add_up_to_probability_minus_base_and_keep_signs():
    # two groups, three features: f1, f2 in member_loss, f3 in complaints; expected raw score -2
    contrib = np.array([[0.5, 0.5, -1.0, -2.0],
                        [1.0, 0.0, 1.0, -2.0]])
    families = {"f1": "member_loss", "f2": "member_loss", "f3": "complaints"}
    impacts, prob, base = family_impacts(contrib, ["f1", "f2", "f3"], families, PLATT)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    assert base == pytest.approx(sig(-2.0))
    # row 0: raw -2, same as base: derivative p'(-2) = p(1-p) applies to member_loss +1 and complaints -1
    d = sig(-2) * (1 - sig(-2))
    assert impacts.loc[0, "member_loss"] == pytest.approx(d * 1.0, rel=1e-6)
    assert impacts.loc[0, "complaints"] == pytest.approx(-d * 1.0, rel=1e-6)
    # row 1: raw 0 -> p 0.5; secant slope (0.5 - sig(-2)) / 2, each family +1
    slope = (0.5 - sig(-2)) / 2
    assert impacts.loc[1, "member_loss"] == pytest.approx(slope)
    assert impacts.loc[1, "complaints"] == pytest.approx(slope)
    assert np.allclose(impacts.sum(axis=1), prob - base)
    assert (impacts.drop(columns=["member_loss", "complaints"]) == 0).all().all()


def test_top_reasons_only_families_that_raise_risk():
    contrib = np.array([[0.3, -0.2, 0.1, -1.0]])
    families = {"a": "exit_intent", "b": "profile", "c": "arrears"}
    impacts, _, _ = family_impacts(contrib, ["a", "b", "c"], families, PLATT)
    assert [name for name, _ in top_reasons(impacts)[0]] == ["exit_intent", "arrears"]


def test_contributions_must_add_up_to_raw_score():
    with pytest.raises(ModelError, match="do not add up"):
        check_additivity(np.array([[0.1, 0.2, -1.0]]), np.array([0.0]))
