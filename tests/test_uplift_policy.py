"""Saved value, the evidence that switches the policy, and the groups left alone."""

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from churnkit.uplift.policy import (Evidence, band_lower, contact_cost, effect_bands, evidence, saved_value, switches,
                                    targeted_actions)


def test_saved_value_by_hand():
    # 0.05 x 12,000 - 20 = 580; -0.01 x 6,000 - 5 = -65
    assert saved_value([0.05, -0.01], [12_000, 6_000], contact_cost(["call", "care"])).tolist() == pytest.approx([580, -65])
    assert contact_cost(["visit", "call", "care", "none"]).tolist() == [200, 20, 5, 0]


def test_evidence_counts_waves_and_arms():
    done = pd.DataFrame({"wave": ["2026-01"] * 3 + ["2026-02"] * 2, "assignment": ["treat", "treat", "holdout", "treat", "holdout"]})
    assert evidence(done) == Evidence(2, 3, 2)


@pytest.mark.parametrize("found, enough", [(Evidence(3, 1000, 300), True), (Evidence(2, 5000, 900), False),
                                           (Evidence(3, 999, 300), False), (Evidence(3, 1000, 299), False)])
def test_the_minimum_evidence(found, enough):
    assert found.enough is enough


def test_the_switch_also_needs_an_average_effect_above_zero():
    enough = Evidence(4, 1200, 320)
    sure = SimpleNamespace(calibration_={"average_effect": 0.05, "average_effect_se": 0.02})  # 0.05 - 1.96 x 0.02 > 0
    unsure = SimpleNamespace(calibration_={"average_effect": 0.03, "average_effect_se": 0.02})  # 0.03 - 0.039 < 0
    assert switches(enough, sure) and not switches(enough, unsure)
    assert not switches(Evidence(2, 1200, 320), sure) and not switches(enough, None)


def test_effect_bands_by_hand():
    # 8 groups, two bands of four by prediction; low band: treated 2/2 churned, holdout 1/2 -> uplift -0.5
    # high band: treated 0/2, holdout 2/2 -> uplift 1.0
    pred = np.array([0.01, 0.02, 0.03, 0.04, 0.11, 0.12, 0.13, 0.14])
    y = np.array([1, 1, 1, 0, 0, 0, 1, 1])
    t = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    bands = effect_bands(pred, y, t, bands=2)
    assert [b["uplift"] for b in bands] == pytest.approx([-0.5, 1.0])
    assert bands[0]["upper"] == 0.04 and math.isinf(bands[1]["upper"])
    assert bands[1]["uplift_lo"] < 1.0 < bands[1]["uplift_hi"] + 1e-12
    # a prediction up to 0.04 falls in band 1, above it in band 2
    assert band_lower([0.0, 0.04, 0.05, 0.9], bands).tolist() == pytest.approx(
        [bands[0]["uplift_lo"]] * 2 + [bands[1]["uplift_lo"]] * 2)


def test_negative_unsure_or_worthless_effects_get_none():
    bands = [{"upper": 0.02, "uplift_lo": -0.03}, {"upper": math.inf, "uplift_lo": 0.01}]
    actions = pd.Series(["call", "call", "call", "visit", "none"])
    uplift = np.array([-0.01, 0.015, 0.05, 0.05, 0.05])  # negative; unsure band; fine; worth less than a visit; already none
    value = np.array([10_000, 10_000, 10_000, 3_000, 10_000])
    saved, action = targeted_actions(actions, uplift, value, bands)
    # 0.05 x 10,000 - 20 = 480; 0.05 x 3,000 - 200 = -50; a group the value policy leaves alone has none
    assert saved[:4].tolist() == pytest.approx([-120, 130, 480, -50]) and math.isnan(saved[4])
    assert action.tolist() == ["none", "none", "call", "none", "none"]
