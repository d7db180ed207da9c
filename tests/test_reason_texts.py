"""reason_texts (a whole frame at once) says exactly what reason_text says row by row."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churnkit.families import FAMILIES, LANGS
from churnkit.reason_texts import reason_texts
from churnkit.reasons import reason_text

from test_reasons import TYPICAL

# every column a family reads; counts are Int64 in the pipeline, the rest float64
COUNTS = (
    "active_lines", "active_lines_1m_ago", "active_lines_3m_ago", "zero_call_lines", "forwarding_lines",
    "offnet_forwarding_lines", "addon_cancels_3m", "competitor_hotline_calls_3m", "competitor_hotline_lines_3m",
    "competitor_offer_3m", "complaints_3m", "sp_complaints_3m", "months_to_contract_end", "tenure_months",
    "exit_intent_3m",
)
FLOATS = (
    "member_change_1m", "member_change_3m", "member_change_6m", "spend", "spend_change_3m", "spend_prev_3m_mean",
    "below_plan_share", "zero_call_share", "zero_call_share_change_3m", "minutes_per_line", "minutes_change_3m",
    "forwarding_share", "offnet_forwarding_share", "addon_cancel_rate_3m", "arrears_total",
)
TEXTS = ("industry", "region", "value_tier")
assert set(COUNTS + FLOATS + TEXTS) == set(TYPICAL)


def expected(families, frame: pd.DataFrame, lang: str) -> list[str]:
    return [reason_text(f, frame.iloc[i].to_dict(), lang) if isinstance(f, str) and f else ""
            for i, f in enumerate(families)]


def check(families, frame: pd.DataFrame, lang: str) -> None:
    try:
        want = expected(families, frame, lang)
    except OverflowError:  # reason_text cannot round an overflowed ratio: neither can reason_texts
        with pytest.raises(OverflowError):
            reason_texts(families, frame, lang)
        return
    got = reason_texts(families, frame, lang)
    assert isinstance(got, np.ndarray) and got.dtype == object and len(got) == len(frame)
    for i, (g, w) in enumerate(zip(got, want)):
        assert type(g) is str and g == w, (i, families[i], frame.iloc[i].dropna().to_dict(), g, w)


# ---------------------------------------------------------------- random frames
MISSING = st.sampled_from([None, np.nan, pd.NA])
EDGES = st.sampled_from([
    0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.49999999999999994, 1.0, 2.0, -1.0, 12.0, 999.5, 1000.0, -999.5,
    999999.5, 0.005, -0.005, 0.125, -0.125, 0.045, 0.05, 0.15, 0.25, 0.35, 0.95, 0.995, -0.2, -0.2000001, -0.19999,
    9.95, 9.96, 9.999, -9.95, 10.0, 0.04, 0.06, 2.0**53, 2.0**53 + 2, 2.0**62, 1e15, 1e18, 1e20, 1e300, -1e300,
    1e-300, 5e-324, math.inf, -math.inf,
])
FLOAT_VALUES = st.one_of(
    MISSING, EDGES,
    st.integers(-40, 40).map(lambda k: k / 2),  # exact halves for rounding
    st.integers(-400, 400).map(lambda k: k / 8),  # x * 100 lands on .5: 0.125 -> 12.5%
    st.integers(-2000, 2000).map(lambda k: k / 1000),  # shares and changes, and the 0.x5 cases
    st.integers(0, 30).flatmap(lambda d: st.integers(-3 * d, 3 * d).map(lambda k: k / d - 1 if d else 0.0)),  # ratios
    st.floats(-2, 2), st.floats(-1e7, 1e7), st.floats(allow_nan=False),
)
COUNT_VALUES = st.one_of(
    st.none(), st.integers(-3, 30), st.integers(-2000, 10**7),
    st.sampled_from([0, 1, 2, 12, 13, 24, 25, 999, 1000, 1001, 10**6, 2**53 + 1, 2**62, 2**63 - 1, -(2**63) + 1]),
)
TEXT_VALUES = st.one_of(
    MISSING, st.sampled_from(["", " ", "B", " 成都 ", "餐饮", "a b", "\t\n", "None", "nan", "0", "1.5"]),
    st.text(max_size=4), st.integers(-5, 10**6), st.sampled_from([0.0, -0.0, 2.5, 1e-5, 1e16, 1e22, 3.0]),
)


@st.composite
def float_columns(draw, n):
    values = draw(st.lists(FLOAT_VALUES, min_size=n, max_size=n))
    kind = draw(st.integers(0, 5))
    if kind == 0:  # nullable floats, pd.NA for missing
        return pd.array(values, dtype="Float64")
    if kind == 1:  # plain Python values
        return pd.Series(values, dtype=object)
    return pd.Series([None if v is pd.NA else v for v in values], dtype="float64")


@st.composite
def frames(draw, n_rows=st.integers(1, 8)):
    n = draw(n_rows)
    data = {}
    for col in COUNTS:
        if draw(st.booleans()):  # as the pipeline gives it
            data[col] = pd.array(draw(st.lists(COUNT_VALUES, min_size=n, max_size=n)), dtype="Int64")
        else:  # float columns may hold the counts too, with fractions
            data[col] = draw(float_columns(n))
    for col in FLOATS:
        data[col] = draw(float_columns(n))
    for col in TEXTS:
        values = draw(st.lists(TEXT_VALUES, min_size=n, max_size=n))
        texts_only = all(v is None or isinstance(v, str) for v in values)
        data[col] = pd.Series(values, dtype=draw(st.sampled_from(["object", "str"])) if texts_only else "object")
    dropped = draw(st.sets(st.sampled_from(COUNTS + FLOATS + TEXTS), max_size=4))  # columns the frame lacks
    return pd.DataFrame({k: v for k, v in data.items() if k not in dropped})


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("family", FAMILIES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_every_family_matches_reason_text(family, lang, data):
    frame = data.draw(frames())
    families = data.draw(st.lists(st.sampled_from([family] * 4 + ["", None]), min_size=len(frame), max_size=len(frame)))
    check(np.array(families, dtype=object), frame, lang)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(frame=frames(st.integers(0, 25)), data=st.data(), lang=st.sampled_from(LANGS))
def test_mixed_families_match_reason_text(frame, data, lang):
    families = data.draw(st.lists(st.sampled_from([*FAMILIES, ""]), min_size=len(frame), max_size=len(frame)))
    check(pd.Series(families, index=np.arange(len(frame))[::-1], dtype="str"), frame, lang)  # by position


# ---------------------------------------------------------------- hand-written cases
def test_hand_worked_rows():
    frame = pd.DataFrame([
        TYPICAL,
        {"member_change_3m": -0.25, "active_lines_3m_ago": 12, "active_lines": 9},
        {"active_lines": 1234567, "active_lines_3m_ago": 1000000, "spend": 1234567.0, "arrears_total": 2.5},
        {"spend": 9.95, "spend_prev_3m_mean": 10.0, "tenure_months": 12.5, "months_to_contract_end": -0.5},
        {"zero_call_lines": 0, "active_lines": 1, "minutes_change_3m": -0.5, "minutes_per_line": 2.5},
        {},
        {"active_lines_3m_ago": -1234, "active_lines": -338, "member_change_3m": -0.726},
    ])
    for col in COUNTS:  # Int64 where the values are whole, as the pipeline gives them
        if (frame[col].dropna() % 1 == 0).all():
            frame[col] = frame[col].astype("Int64")
    for lang in LANGS:
        for family in FAMILIES:
            check(np.array([family] * len(frame), dtype=object), frame, lang)
    families = ["member_loss", "member_loss", "member_loss", "spend_decline", "idle_lines", "profile", ""]
    got = reason_texts(families, frame, "zh")
    assert got[1] == "近3个月成员数减少25%（12→9条）"
    assert got[2] == "近3个月成员数增加23%（1,000,000→1,234,567条）"
    assert got[3] == "本月话费9.9元，比前3个月均值低1%（10元）"  # 9.95 is 9.9499... in binary
    assert got[4] == "本月1条线路都有通话，户均通话时长比前3个月低50%（3分钟）"  # 2.5 rounds up
    assert got[5] == "集团基本信息不全"
    assert reason_texts(["member_loss"], frame.iloc[[6]], "en")[0] == "Lines fell 73% in 3 months (-1,234 → -338)"
    en = reason_texts(["idle_lines", "contract_expiry", "profile"], frame.iloc[[4, 3, 3]], "en")
    assert en.tolist() == ["All 1 line made calls this month; minutes per line down 50% on the previous 3 months (3 min)",
                           "The group agreement expired 1 month ago", "On the network for 1 year 1 month"]


def test_no_reason_and_alignment_by_position():
    frame = pd.DataFrame({"months_to_contract_end": pd.array([2, None, -3], dtype="Int64")}, index=[7, 3, 5])
    got = reason_texts(pd.Series(["contract_expiry", None, "contract_expiry"], index=[2, 1, 0]), frame, "en")
    assert got.tolist() == ["The group agreement ends in 2 months", "", "The group agreement expired 3 months ago"]
    assert reason_texts(np.array(["", np.nan, None], dtype=object), frame).tolist() == ["", "", ""]
    assert reason_texts(np.array([], dtype=object), frame.iloc[:0]).tolist() == []


def test_absurd_values_still_match_or_raise_like_reason_text():
    frame = pd.DataFrame({"active_lines": [1e300, 2.0**63, 5.0], "active_lines_3m_ago": [1e-300, 1.0, 2.0],
                          "tenure_months": [1e20, 2.0**62 + 2048, 5.793517006883046e16]})
    frame["months_to_contract_end"] = pd.array([2**52 + 1, -(2**52) - 3, 2**53 + 1], dtype="Int64")
    for family in ("profile", "contract_expiry"):  # past 2**52 reason_text's rounding moves odd numbers
        for lang in LANGS:
            check(np.array([family] * 3, dtype=object), frame, lang)
    check(np.array(["member_loss", "", ""], dtype=object), frame, "zh")  # 1e300 / 1e-300 overflows: both raise
    with pytest.raises(OverflowError):
        reason_texts(["member_loss", "", ""], frame)


def test_unknown_family_language_or_length():
    frame = pd.DataFrame({"active_lines": [1, 2]})
    with pytest.raises(ValueError, match="unknown reason family"):
        reason_texts(["member_loss", "weather"], frame)
    with pytest.raises(ValueError, match="unknown language"):
        reason_texts(["member_loss", ""], frame, "fr")
    with pytest.raises(ValueError, match="by position"):
        reason_texts(["member_loss"], frame)
