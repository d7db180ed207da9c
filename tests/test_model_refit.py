"""The scoring model's refit on every usable month, and its calibration on rows it did not learn from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnkit.errors import DataError
from churnkit.model import lgbm, refit as refit_module
from churnkit.model.calibration import Calibrator, fit_calibrator
from churnkit.model.refit import learning_months, month_blocks, out_of_fold, refit
from churnkit.months import format_month, parse_month

FIRST = parse_month("2025-01")
MONTHS = [FIRST + k for k in range(12)]
SETTINGS = lgbm.ModelSettings(threads=1, min_child_samples=5, n_estimators=30)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    """12 months x 150 groups; one feature that drives the label."""
    rng = np.random.default_rng(5)
    n = 150 * len(MONTHS)
    x = rng.normal(0, 1, n)
    return pd.DataFrame({
        "group_id": np.tile([f"g{i}" for i in range(150)], len(MONTHS)),
        "month": np.repeat([format_month(m) for m in MONTHS], 150),
        "x": x,
        "label": (rng.random(n) < 1 / (1 + np.exp(-(x - 1.5)))).astype(int),
    })


class Spy:
    """Records the months of the rows each fit_rounds call learns from."""

    def __init__(self, panel: pd.DataFrame, monkeypatch):
        self.months_of = panel["month"].map(parse_month)
        self.calls: list[set[int]] = []
        real = lgbm.fit_rounds

        def fit_rounds(X, y, settings, rounds, weight=None):
            self.calls.append(set(self.months_of.loc[X.index]))
            return real(X, y, settings, rounds, weight=weight)

        monkeypatch.setattr(lgbm, "fit_rounds", fit_rounds)


def test_month_blocks_and_learning_months_by_hand():
    assert month_blocks(list(range(1, 13)), 4) == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]
    assert month_blocks([3, 1, 2], 5) == [[1], [2], [3]]
    # horizon 3: a learning row's label window (m, m + 3] must not overlap a block's
    assert learning_months(list(range(1, 13)), [4, 5, 6], 3) == [1, 9, 10, 11, 12]
    assert learning_months(list(range(1, 13)), [1, 2, 3], 3) == list(range(6, 13))
    assert learning_months([1, 2, 3], [2], 0) == [1, 3]  # horizon 0 still leaves the block out


def test_out_of_fold_never_scores_a_row_with_a_model_that_learned_from_its_month(panel, monkeypatch):
    spy = Spy(panel, monkeypatch)
    raw, record = out_of_fold(panel, MONTHS, "label", ["x"], {}, SETTINGS, 20, horizon=3, blocks=4)
    assert not np.isnan(raw).any()  # every month is scored by some block's model
    assert len(record) == len(spy.calls) == 4
    for block, learned in zip(record, spy.calls):
        scored = {parse_month(m) for m in block["scored"]}
        assert learned == {parse_month(m) for m in block["learned_from"]}
        assert all(abs(m - s) >= 3 for m in learned for s in scored)
    assert {m for block in record for m in block["scored"]} == {format_month(m) for m in MONTHS}


def test_refit_learns_from_exactly_the_months_given_and_calibrates_out_of_fold(panel, monkeypatch):
    spy = Spy(panel, monkeypatch)
    months = MONTHS[:10]  # the last two months are not usable (say)
    done = refit(panel, months, "label", ["x"], [], SETTINGS, trees=20, horizon=3, calibration="beta", source="crossfit")
    assert spy.calls[0] == set(months)  # the scoring model
    assert done.booster.current_iteration() == 20
    assert done.months == months and done.source == "crossfit"
    assert done.describe()["months"] == [format_month(m) for m in months]
    # the calibration is the map fitted on the out-of-fold scores, not on the refit's own scores
    frame = panel[panel["month"].map(parse_month).isin(months)]
    raw, _ = out_of_fold(frame, months, "label", ["x"], {}, SETTINGS, 20, horizon=3)
    assert done.calibrator == fit_calibrator(raw, frame["label"].to_numpy(), "beta")
    in_sample = fit_calibrator(lgbm.raw_score(done.booster, lgbm.matrix(frame, ["x"], {})), frame["label"].to_numpy(), "beta")
    assert done.calibrator != in_sample


def test_a_carried_calibration_is_the_evaluations(panel):
    carried = Calibrator("platt", {"a": 1.0, "b": -0.5})
    done = refit(panel, MONTHS, "label", ["x"], [], SETTINGS, trees=10, horizon=3, source="carried",
                 carried=carried, carried_months=MONTHS[6:8])
    assert done.calibrator is carried and done.calibration_months == MONTHS[6:8] and done.blocks == []


def test_too_few_months_to_cross_fit_is_a_data_error(panel):
    with pytest.raises(DataError, match="too few to cross-fit"):
        refit(panel, MONTHS[:3], "label", ["x"], [], SETTINGS, trees=5, horizon=3, source="crossfit", blocks=1)


def test_unknown_source_is_refused(panel):
    with pytest.raises(ValueError, match="crossfit, carried"):
        refit(panel, MONTHS, "label", ["x"], [], SETTINGS, trees=5, horizon=3, source="nearby")


def test_the_default_calibration_is_carried_over(panel):
    assert refit_module.DEFAULT_SOURCE == "carried"
    with pytest.raises(ValueError, match="needs the evaluation's calibrator"):
        refit(panel, MONTHS, "label", ["x"], [], SETTINGS, trees=5, horizon=3)


def test_at_a_sampled_scale_the_other_months_are_thinned_like_the_training_months(panel):
    sampled = MONTHS[:6]
    frame = panel.assign(weight=1.0)
    out = refit_module.thinned(frame, sampled, 0.5, seed=3)
    mi = out["month"].map(parse_month)
    # training-month rows and every churner kept as they were
    before = frame["month"].map(parse_month).isin(sampled)
    assert len(out[mi.isin(sampled)]) == before.sum() and (out.loc[mi.isin(sampled), "weight"] == 1.0).all()
    assert out["label"].sum() == frame["label"].sum() and (out.loc[out["label"] == 1, "weight"] == 1.0).all()
    # stayers of the other months: about half kept, each standing for two
    later = out[~mi.isin(sampled) & (out["label"] == 0)]
    total = ((~before) & (frame["label"] == 0)).sum()
    assert 0.4 * total < len(later) < 0.6 * total and (later["weight"] == 2.0).all()
    assert refit_module.thinned(frame, sampled, 1.0) is frame
