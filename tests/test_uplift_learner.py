"""The uplift model learns who responds to contact, from randomised rows with a 20% holdout."""

import numpy as np
import pandas as pd
import pytest

from churnkit.errors import DataError, ModelError
from churnkit.uplift import UpliftModel, UpliftSettings
from churnkit.uplift.metrics import qini_coefficient


def waves(n: int, seed: int, effect_high: float = 0.30, effect_low: float = 0.0) -> pd.DataFrame:
    """Groups with churn 0.4 held out; contact lowers it by ``effect_high`` where x > 0, else ``effect_low``."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"x": rng.normal(0, 1, n), "noise": rng.normal(0, 1, n),
                          "tier": rng.choice(["A", "B", "C"], n)})
    frame["tau"] = np.where(frame["x"] > 0, effect_high, effect_low)
    frame["treated"] = (rng.random(n) < 0.8).astype(int)
    p = np.where(frame["treated"] == 1, 0.4 - frame["tau"], 0.4)
    frame["churned"] = (rng.random(n) < p).astype(int)
    return frame


@pytest.mark.parametrize("method", ["dr", "t"])
def test_the_model_finds_the_responders(method):
    train, later = waves(6000, 1), waves(3000, 2)
    model = UpliftModel(UpliftSettings(method=method)).fit(train, ["x", "noise", "tier"], train["treated"], train["churned"], 0.8,
                                                          categorical=["tier"])
    pred = model.predict(later)
    # responders (true 0.30) predicted well above non-responders (true 0); the calibrated
    # predictions are E[effect | prediction], so split by x the gap is smaller than 0.30
    assert pred[later["x"] > 0.5].mean() - pred[later["x"] < -0.5].mean() > 0.10
    # the doubly robust average effect: truth 0.15, within three standard errors
    c = model.calibration_
    assert abs(c["average_effect"] - 0.15) < 3 * c["average_effect_se"]
    assert 0 < c["slope"] <= 1
    assert qini_coefficient(pred, later["churned"], later["treated"], 0.8) > 0.01


def test_a_model_that_learns_only_noise_falls_back_to_the_average_effect():
    # every group responds alike (0.1): the out-of-fold slope is small and the predictions stay
    # near the measured average instead of spreading with the noise the trees fitted
    train = waves(3000, 3, effect_high=0.1, effect_low=0.1)
    model = UpliftModel().fit(train, ["noise"], train["treated"], train["churned"], 0.8)
    pred = model.predict(waves(1000, 4))
    assert model.calibration_["slope"] < 0.5
    assert np.std(pred) < 0.03
    assert abs(pred.mean() - 0.1) < 3 * model.calibration_["average_effect_se"]


def test_it_round_trips_through_its_parts():
    train = waves(2000, 5)
    model = UpliftModel().fit(train, ["x", "tier"], train["treated"], train["churned"], 0.8, categorical=["tier"])
    boosters = {k: type(b)(model_str=b.model_to_string()) for k, b in model.boosters().items()}
    again = UpliftModel.from_parts(model.to_dict(), boosters)
    assert np.allclose(again.predict(train), model.predict(train))


def test_errors_name_the_problem():
    train = waves(200, 6)
    with pytest.raises(DataError, match="treated and holdout"):
        UpliftModel().fit(train, ["x"], np.ones(200), train["churned"], 0.8)
    with pytest.raises(DataError, match="strictly between 0 and 1"):
        UpliftModel().fit(train, ["x"], train["treated"], train["churned"], 1.0)
    with pytest.raises(ModelError, match="unknown uplift method"):
        UpliftModel(UpliftSettings(method="s")).fit(train, ["x"], train["treated"], train["churned"], 0.8)
    with pytest.raises(ModelError, match="not fitted"):
        UpliftModel().predict(train)
