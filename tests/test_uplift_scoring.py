"""The scored file's targeting columns, from a bundle with (or without) an uplift model, and the wave's order."""

import math

import numpy as np
import pandas as pd
import pytest

from churnkit.campaign.plan import order_wave
from churnkit.model import lgbm
from churnkit.model.bundle import load_bundle, save_bundle
from churnkit.model.calibration import Calibrator
from churnkit.uplift import UpliftModel
from churnkit.uplift.scoring import COLUMNS, target
from churnkit.uplift.store import load_uplift, uplift_parts


def _risk_booster():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"spend": rng.uniform(100, 1000, 400), "x": rng.normal(0, 1, 400)})
    return lgbm.fit_rounds(X, (rng.random(400) < 0.2).astype(int), lgbm.ModelSettings(), 5)


def _bundle(tmp_path, policy: str | None):
    manifest = {"features": [{"name": "spend", "family": "spend_decline"}, {"name": "x", "family": "profile"}],
                "categorical": {}, "calibration": Calibrator("platt", {"a": 1.0, "b": 0.0}).to_dict(), "horizon": 3}
    files = {}
    if policy is not None:
        rng = np.random.default_rng(1)
        rows = pd.DataFrame({"x": rng.normal(0, 1, 3000), "recommended_action": rng.choice(["call", "care"], 3000)})
        t = (rng.random(3000) < 0.8).astype(int)
        y = (rng.random(3000) < np.where(t == 1, 0.4 - np.where(rows["x"] > 0, 0.3, -0.1), 0.4)).astype(int)
        model = UpliftModel().fit(rows, ["x", "recommended_action"], t, y, 0.8, categorical=["recommended_action"])
        record = {"policy": policy, "bands": [{"upper": 0.0, "uplift_lo": -0.2}, {"upper": math.inf, "uplift_lo": 0.1}]}
        manifest["uplift"], files = uplift_parts(model, record)
    return load_bundle(save_bundle(_risk_booster(), manifest, tmp_path / "bundle", extra=files))


FRAME = pd.DataFrame({"group_id": ["a", "b", "c", "d"], "x": [1.5, 1.5, -1.5, 1.5], "spend": [500.0, 500.0, 500.0, 1.0],
                      "churn_probability": [0.5, 0.5, 0.5, 0.05], "action": ["call", "none", "call", "care"]})


def test_saved_value_ranks_once_the_evidence_says_so(tmp_path):
    out = target(FRAME, _bundle(tmp_path, "saved_value"))
    assert list(out.columns[-3:]) == COLUMNS and (out["ranked_by"] == "saved_value").all()
    # saved value = churn reduction x 12 x spend - the action's contact cost (call 20, care 5, none 0)
    # (b: the value policy said none, so no saved value)
    cost = np.array([20, np.nan, 20, 5])
    assert out["saved_value"].to_numpy() == pytest.approx(out["churn_reduction"].to_numpy() * 12 * FRAME["spend"].to_numpy() - cost,
                                                          nan_ok=True)
    # a: responder, worth the call; b: the value policy said none; c: harmed (negative effect);
    # d: responder, but its reduction is capped at its churn probability (0.05), and 0.05 x 12 - 5 < 0
    assert out["churn_reduction"].iloc[0] > 0.1 and out["churn_reduction"].iloc[2] < 0
    assert out["churn_reduction"].iloc[3] == pytest.approx(0.05)
    assert out["action"].tolist() == ["call", "none", "none", "none"]


def test_before_enough_evidence_the_policy_is_todays(tmp_path):
    for bundle in (_bundle(tmp_path / "one", None), _bundle(tmp_path / "two", "risk_value")):
        out = target(FRAME, bundle)
        assert (out["ranked_by"] == "risk_value").all() and out["saved_value"].isna().all()
        assert out["action"].tolist() == FRAME["action"].tolist()


def test_a_changed_uplift_file_is_refused(tmp_path):
    bundle = _bundle(tmp_path, "saved_value")
    path = bundle.path / "uplift_effect.txt"
    path.write_text(path.read_text().replace("Tree=0", "Tree=0 "), encoding="utf-8")
    from churnkit.errors import ModelError

    with pytest.raises(ModelError, match="SHA-256 does not match"):
        load_uplift(load_bundle(bundle.path))


def test_the_wave_is_ordered_by_saved_value_when_it_ranked_the_month():
    treated = pd.DataFrame({"group_id": ["r1", "r2", "r3"], "risk_rank": [1, 2, 3], "saved_value": [10.0, 300.0, 50.0]})
    assert order_wave(treated)["group_id"].tolist() == ["r1", "r2", "r3"]
    assert order_wave(treated.assign(ranked_by="risk_value"))["group_id"].tolist() == ["r1", "r2", "r3"]
    assert order_wave(treated.assign(ranked_by="saved_value"))["group_id"].tolist() == ["r2", "r3", "r1"]
