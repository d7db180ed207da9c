"""Qini curve, Qini coefficient and top-decile uplift against hand-worked cases."""

import math

import numpy as np
import pytest

from churnkit.errors import DataError
from churnkit.uplift.metrics import qini_coefficient, qini_curve, uplift_at

# four groups by predicted uplift: (churned, treated) = (0,T) (1,H) (1,T) (1,H), e = 0.5
PRED = np.array([0.1, 0.3, 0.0, 0.2])  # deliberately unsorted: the order is 0.3, 0.2, 0.1, 0.0
Y = np.array([1, 0, 1, 1])
T = np.array([1, 1, 0, 0])


def test_qini_curve_by_hand():
    # sorted rows: (y=0,T) (y=1,H) (y=1,T) (y=1,H)
    # k=1: no holdout yet -> 0; k=2: holdout 1/1 - treated 0/1 -> 2 x 1 = 2
    # k=3: holdout 1/1 - treated 1/2 -> 3 x 0.5 = 1.5; k=4: 2/2 - 1/2 -> 4 x 0.5 = 2
    curve = qini_curve(PRED, Y, T, 0.5)
    assert curve["groups"].tolist() == [0, 1, 2, 3, 4]
    assert curve["prevented"].tolist() == pytest.approx([0, 0, 2, 1.5, 2])
    assert curve["per_group"].tolist() == pytest.approx([0, 0, 0.5, 0.375, 0.5])
    assert curve["random"].tolist() == pytest.approx([0, 0.125, 0.25, 0.375, 0.5])


def test_qini_coefficient_by_hand():
    # gaps per_group - random: 0, -0.125, 0.25, 0, 0; trapezoids of width 0.25:
    # (-0.125 / 2 + 0.125 / 2 + 0.25 / 2 + 0) x 0.25 = 0.03125
    assert qini_coefficient(PRED, Y, T, 0.5) == pytest.approx(0.03125)


def test_qini_coefficient_sign_follows_the_order():
    # responders (holdout churns, treated stays) first: positive; last: negative
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0])
    t = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    good = np.arange(8, 0, -1)
    assert qini_coefficient(good, y, t, 0.5) > 0
    assert qini_coefficient(-good, y, t, 0.5) < 0


def test_known_assignment_probability_weights_the_arms():
    # treated (y=1, e=0.5 -> w 2) and (y=0, e=0.8 -> w 1.25): rate 2 / 3.25
    # holdout (y=1, e=0.5 -> w 2) and (y=0, e=0.8 -> w 5): rate 2 / 7
    pred = np.array([4.0, 3.0, 2.0, 1.0])
    y = np.array([1, 1, 0, 0])
    t = np.array([1, 0, 1, 0])
    e = np.array([0.5, 0.5, 0.8, 0.8])
    out = uplift_at(pred, y, t, e, share=1.0)
    assert out["uplift"] == pytest.approx(2 / 7 - 2 / 3.25)
    # the last point of the curve is n x the same difference
    assert qini_curve(pred, y, t, e)["prevented"].iloc[-1] == pytest.approx(4 * (2 / 7 - 2 / 3.25))


def test_one_probability_for_all_gives_the_plain_rates():
    rng = np.random.default_rng(0)
    y, t = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
    out = uplift_at(rng.random(50), y, t, 0.8, share=1.0)
    assert out["uplift"] == pytest.approx(y[t == 0].mean() - y[t == 1].mean())


def test_top_decile_uplift_by_hand():
    # 20 groups: the top ceil(2) are one holdout churner and one treated stayer -> 1 - 0 = 1
    pred = np.arange(20, 0, -1).astype(float)
    y = np.array([1, 0] + [1, 1] * 9)
    t = np.array([0, 1] + [0, 1] * 9)
    out = uplift_at(pred, y, t, 0.5, share=0.1)
    assert (out["groups"], out["treated"], out["holdout"]) == (2, 1, 1)
    assert out["uplift"] == pytest.approx(1.0)
    # whole list: holdout 10/10, treated 9/10 -> 0.1; the top decile is 10x the list
    assert out["uplift_all"] == pytest.approx(0.1)
    assert out["ratio"] == pytest.approx(10.0)


def test_a_top_without_one_arm_has_no_uplift():
    out = uplift_at(np.array([2.0, 1.0]), np.array([1, 0]), np.array([1, 0]), 0.5, share=0.5)
    assert math.isnan(out["uplift"])


def test_bad_inputs_are_refused():
    with pytest.raises(DataError, match="strictly between 0 and 1"):
        qini_curve(PRED, Y, T, 1.0)
    with pytest.raises(DataError, match="one length"):
        uplift_at(PRED, Y[:3], T, 0.5)
