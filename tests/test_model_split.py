"""Out-of-time split, labels and usable months: no label is observed after a later part's snapshot."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from churnkit.errors import DataError
from churnkit.features import labels, usable_months
from churnkit.model.split import out_of_time_split
from churnkit.months import format_month, parse_month


def months_of(*texts: str) -> list[int]:
    return [parse_month(t) for t in texts]


def month_range(first: str, n: int) -> list[int]:
    start = parse_month(first)
    return list(range(start, start + n))


def names(months: list[int]) -> list[str]:
    return [format_month(m) for m in months]


# --------------------------------------------------------------------------- split by hand
def test_split_h3_by_hand():
    # 14 usable snapshot months 2025-01 .. 2026-02, horizon 3:
    #   test  = the last two months                       2026-01, 2026-02
    #   valid = two months ending at 2026-01 - 3 = 2025-10  2025-09, 2025-10
    #   train = every month up to 2025-09 - 3 = 2025-06     2025-01 .. 2025-06
    split = out_of_time_split(month_range("2025-01", 14), horizon=3)
    assert names(split.test) == ["2026-01", "2026-02"]
    assert names(split.valid) == ["2025-09", "2025-10"]
    assert names(split.train) == ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    assert split.horizon == 3
    assert split.describe() == {"train_months": "2025-01..2025-06", "valid_months": "2025-09..2025-10",
                                "test_months": "2026-01..2026-02"}


def test_split_accepts_unsorted_duplicated_months():
    months = month_range("2025-01", 14)
    shuffled = list(reversed(months)) + months[:5]
    assert out_of_time_split(shuffled, 3) == out_of_time_split(months, 3)


def test_split_h1_by_hand_with_three_test_months():
    # 2025-01 .. 2025-12, H = 1, 3 test months: test 2025-10..12, valid 2025-08..09, train ..2025-07
    split = out_of_time_split(month_range("2025-01", 12), horizon=1, valid_months=2, test_months=3)
    assert names(split.test) == ["2025-10", "2025-11", "2025-12"]
    assert names(split.valid) == ["2025-08", "2025-09"]
    assert names(split.train) == [f"2025-{m:02d}" for m in range(1, 8)]


def test_split_horizon_zero_keeps_parts_disjoint():
    # train_table's default horizon is 0: the parts are then adjacent, never overlapping
    split = out_of_time_split(list(range(10)), horizon=0)
    assert split.test == [8, 9]
    assert split.valid == [6, 7]
    assert split.train == [0, 1, 2, 3, 4, 5]


def test_split_minimum_history_is_three_train_two_valid_two_test_and_two_horizons():
    assert out_of_time_split(month_range("2025-01", 3 + 2 + 2 + 2 * 3), 3).train  # 13 months: enough


@pytest.mark.parametrize("horizon, n", [(3, 12), (1, 8), (6, 18), (3, 0)])
def test_split_too_few_months_names_the_horizon(horizon, n):
    with pytest.raises(DataError) as info:
        out_of_time_split(month_range("2025-01", n), horizon)
    message = str(info.value)
    assert f"horizon {horizon}" in message
    assert f"{n} usable snapshot months" in message
    assert "--horizon" in message  # tells the user what to change


@settings(max_examples=300, deadline=None)
@given(
    months=st.sets(st.integers(min_value=24000, max_value=24080), min_size=1, max_size=40),
    horizon=st.integers(min_value=0, max_value=6),
    valid_months=st.integers(min_value=1, max_value=3),
    test_months=st.integers(min_value=1, max_value=3),
)
def test_split_property_no_label_leaks_into_a_later_part(months, horizon, valid_months, test_months):
    months = sorted(months)
    try:
        split = out_of_time_split(months, horizon, valid_months=valid_months, test_months=test_months)
    except DataError:
        assert len(months) < valid_months + test_months + 3 + 2 * horizon
        return
    train, valid, test = split.train, split.valid, split.test
    # sizes and membership
    assert test == months[-test_months:]
    assert len(valid) == valid_months
    assert len(train) >= 3
    assert set(train) | set(valid) | set(test) <= set(months)
    assert train == sorted(train) and valid == sorted(valid)
    # a label of month t is observed up to t + H: never after a validation (or test) snapshot
    for t in train:
        for v in valid:
            assert t + horizon <= v
            assert t < v
    for v in valid:
        for s in test:
            assert v + horizon <= s
            assert v < s
    # nothing is wasted beyond the gaps: training takes every month it may
    gap = max(horizon, 1)
    assert train == [m for m in months if m + gap <= min(valid)]
    assert valid == [m for m in months if m + gap <= min(test)][-valid_months:]


# --------------------------------------------------------------------------- labels
def test_labels_churn_within_the_horizon():
    frame = pd.DataFrame({
        "group_id": ["g1", "g2", "g3", "g4", "g5", "g6", "g7"],
        "month": ["2025-06"] * 7,
    }, index=[10, 11, 12, 13, 14, 15, 16])
    churn = pd.DataFrame({
        "group_id": ["g1", "g2", "g3", "g5", "g6", "g7", "other"],
        # M+1, M+3, M+4, M itself, before M, no month, a group not in the frame
        "churn_month": ["2025-07", "2025-09", "2025-10", "2025-06", "2025-01", None, "2025-07"],
    })
    y = labels(frame, churn, horizon=3)
    assert y.name == "label"
    assert y.index.tolist() == [10, 11, 12, 13, 14, 15, 16]
    assert y.tolist() == [1, 1, 0, 0, 0, 0, 0]  # g4 never churned: 0
    assert pd.api.types.is_integer_dtype(y)


def test_labels_depend_on_the_snapshot_month_and_horizon():
    frame = pd.DataFrame({"group_id": ["g1"] * 4, "month": ["2025-02", "2025-03", "2025-04", "2025-05"]})
    churn = pd.DataFrame({"group_id": ["g1"], "churn_month": ["2025-06"]})
    assert labels(frame, churn, horizon=3).tolist() == [0, 1, 1, 1]  # 2025-06 is M+4, M+3, M+2, M+1
    assert labels(frame, churn, horizon=1).tolist() == [0, 0, 0, 1]
    # across a year end
    frame = pd.DataFrame({"group_id": ["g1", "g1"], "month": ["2025-10", "2025-11"]})
    churn = pd.DataFrame({"group_id": ["g1"], "churn_month": ["2026-02"]})
    assert labels(frame, churn, horizon=3).tolist() == [0, 1]


def test_labels_without_churn_table_are_all_zero():
    frame = pd.DataFrame({"group_id": ["g1", "g2"], "month": ["2025-06", "2025-07"]})
    assert labels(frame, None, horizon=3).tolist() == [0, 0]


# --------------------------------------------------------------------------- usable months
def test_usable_months_exclude_the_last_horizon_months():
    months = month_range("2025-01", 12)  # 2025-01 .. 2025-12
    assert names(usable_months(months, 3)) == [f"2025-{m:02d}" for m in range(1, 10)]  # up to 2025-09
    assert usable_months(list(reversed(months)), 1) == months[:-1]
    assert usable_months(months, 0) == months
    assert usable_months(months, 12) == []
    assert usable_months([], 3) == []
