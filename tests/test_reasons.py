"""Reason sentences: the group's own numbers, both languages, and graceful missing values."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from churnkit.families import FAMILIES, LANGS
from churnkit.reasons import reason_text

TYPICAL = {
    "active_lines": 12, "member_change_1m": -0.1, "member_change_3m": -0.25, "member_change_6m": -0.4,
    "active_lines_1m_ago": 10, "active_lines_3m_ago": 16, "spend": 1234.0, "spend_change_3m": 1234 / 1990 - 1,
    "spend_prev_3m_mean": 1990.0, "below_plan_share": 0.25, "zero_call_share": 4 / 12,
    "zero_call_share_change_3m": 0.2, "zero_call_lines": 4, "minutes_per_line": 55.2, "minutes_change_3m": -0.05,
    "forwarding_share": 0.25, "offnet_forwarding_share": 2 / 12, "forwarding_lines": 3, "offnet_forwarding_lines": 2,
    "addon_cancels_3m": 7, "addon_cancel_rate_3m": 7 / 12, "competitor_hotline_calls_3m": 7,
    "competitor_hotline_lines_3m": 3, "competitor_offer_3m": 0, "complaints_3m": 5, "sp_complaints_3m": 2,
    "arrears_total": 1234.5, "months_to_contract_end": 2, "tenure_months": 62, "exit_intent_3m": 1,
    "industry": "餐饮", "region": "成都", "value_tier": "B",
}
LEAKS = re.compile(r"\b(nan|NaN|NA|inf|null)\b|<NA>|\bNone\b(?! of)")  # "None of the 12 lines" is English


def clean(text: str) -> bool:
    return bool(text.strip()) and not LEAKS.search(text) and "\n" not in text


# ---------------------------------------------------------------- hand-worked sentences
@pytest.mark.parametrize(
    ("family", "row", "zh", "en"),
    [
        ("member_loss", {"member_change_3m": -0.25, "active_lines_3m_ago": 12, "active_lines": 9},
         "近3个月成员数减少25%（12→9条）", "Lines fell 25% in 3 months (12 → 9)"),
        ("member_loss", {"member_change_3m": 0.25, "active_lines_3m_ago": 8, "active_lines": 10},
         "近3个月成员数增加25%（8→10条）", "Lines grew 25% in 3 months (8 → 10)"),
        # no column for the change: derived from the two counts
        ("member_loss", {"active_lines_3m_ago": 12, "active_lines": 9},
         "近3个月成员数减少25%（12→9条）", "Lines fell 25% in 3 months (12 → 9)"),
        # no line three months ago: falls back to last month
        ("member_loss", {"member_change_3m": None, "active_lines_3m_ago": 0, "member_change_1m": -0.1,
                         "active_lines_1m_ago": 10, "active_lines": 9},
         "近1个月成员数减少10%（10→9条）", "Lines fell 10% in 1 month (10 → 9)"),
        ("member_loss", {"member_change_3m": -0.004, "active_lines_3m_ago": 250, "active_lines": 249},
         "近3个月成员数基本持平（250→249条）", "Lines roughly unchanged in 3 months (250 → 249)"),
        ("member_loss", {"member_change_3m": 0.0, "active_lines_3m_ago": 7, "active_lines": 7},
         "近3个月成员数持平（7条）", "Lines unchanged in 3 months (7)"),
        ("spend_decline", {"spend": 1234.0, "spend_prev_3m_mean": 1990.0, "spend_change_3m": 1234 / 1990 - 1,
                           "below_plan_share": 0.0},
         "本月话费1,234元，比前3个月均值低38%（1,990元）",
         "Bill of 1,234 yuan this month, 38% below the previous 3-month average (1,990 yuan)"),
        ("spend_decline", {"spend": 2100.0, "spend_prev_3m_mean": 2000.0, "below_plan_share": 0.25},
         "本月话费2,100元，比前3个月均值高5%（2,000元），25%的线路消费低于套餐值",
         "Bill of 2,100 yuan this month, 5% above the previous 3-month average (2,000 yuan),"
         " and 25% of lines spent less than their plan value"),
        ("spend_decline", {"spend": 1234567.0},
         "本月话费1,234,567元", "Bill of 1,234,567 yuan this month"),
        ("idle_lines", {"active_lines": 12, "zero_call_lines": 4, "zero_call_share": 4 / 12,
                        "zero_call_share_change_3m": 0.2, "minutes_change_3m": -0.05},
         "12条中有4条本月零通话（占33%，较前3个月平均上升20个百分点）",
         "4 of 12 lines made no calls this month (33%, up 20 points on the previous 3-month average)"),
        ("idle_lines", {"active_lines": 10, "zero_call_lines": 1, "zero_call_share": 0.1,
                        "zero_call_share_change_3m": -0.05, "minutes_per_line": 40, "minutes_change_3m": -0.5},
         "10条中有1条本月零通话（占10%，较前3个月平均下降5个百分点），户均通话时长比前3个月低50%（40分钟）",
         "1 of 10 lines made no calls this month (10%, down 5 points on the previous 3-month average);"
         " minutes per line down 50% on the previous 3 months (40 min)"),
        ("idle_lines", {"active_lines": 5, "zero_call_lines": 0, "zero_call_share": 0.0},
         "本月5条线路都有通话", "All 5 lines made calls this month"),
        ("call_forwarding", {"active_lines": 12, "forwarding_lines": 3, "forwarding_share": 0.25,
                             "offnet_forwarding_lines": 2, "offnet_forwarding_share": 2 / 12},
         "本月12条中有3条频繁呼转（占25%），2条把来电转到他网号码（占17%）",
         "This month 3 of 12 lines forwarded calls heavily (25%), and 2 forwarded calls to another operator's numbers (17%)"),
        ("call_forwarding", {"active_lines": 12, "forwarding_lines": 0, "offnet_forwarding_lines": 0},
         "本月12条线路都没有频繁呼转或转他网", "None of the 12 lines forwarded calls away this month"),
        ("call_forwarding", {"active_lines": 12, "forwarding_lines": 0, "offnet_forwarding_lines": 2},
         "本月12条中有2条把来电转到他网号码（占17%）",
         "This month 2 of 12 lines forwarded calls to another operator's numbers (17%)"),
        ("call_forwarding", {"forwarding_share": 0.25, "offnet_forwarding_share": 0.0},
         "本月25%的线路频繁呼转", "This month 25% of lines forwarded calls heavily"),
        ("addon_cancellation", {"active_lines": 12, "addon_cancels_3m": 7, "addon_cancel_rate_3m": 7 / 12},
         "近3个月退订增值业务7次（每条在网线路平均0.6次）",
         "7 value-added service cancellations in 3 months (0.6 per active line)"),
        ("competitor_contact", {"competitor_hotline_calls_3m": 7, "competitor_hotline_lines_3m": 3},
         "近3个月有3条线路拨打竞争对手客服热线共7次",
         "3 lines called competitors' customer-service hotlines 7 times in 3 months"),
        ("competitor_contact", {"competitor_hotline_calls_3m": 1, "competitor_hotline_lines_3m": 1, "competitor_offer_3m": 1},
         "近3个月有1条线路拨打竞争对手客服热线共1次，且有情报显示竞争对手正在争取该集团",
         "1 line called competitors' customer-service hotlines once in 3 months, and intel says a competitor is courting the group"),
        ("contract_expiry", {"months_to_contract_end": 2}, "集团协议2个月后到期", "The group agreement ends in 2 months"),
        ("contract_expiry", {"months_to_contract_end": 1}, "集团协议1个月后到期", "The group agreement ends in 1 month"),
        ("contract_expiry", {"months_to_contract_end": 0}, "集团协议本月到期", "The group agreement ends this month"),
        ("contract_expiry", {"months_to_contract_end": -3}, "集团协议已过期3个月", "The group agreement expired 3 months ago"),
        ("contract_expiry", {"months_to_contract_end": None}, "集团协议到期时间未知，请核实协议并补录",
         "No agreement end date on file; check the agreement and record it"),
        ("complaints", {"complaints_3m": 5, "sp_complaints_3m": 2}, "近3个月投诉5次，其中SP业务投诉2次",
         "5 complaints in 3 months, 2 of them about SP (third-party content) services"),
        ("complaints", {"complaints_3m": 1, "sp_complaints_3m": 0}, "近3个月投诉1次", "1 complaint in 3 months"),
        ("exit_intent", {"exit_intent_3m": 1}, "近3个月集团联络人透露单位可能整体离网",
         "The group's contact person said in the last 3 months that the group may leave"),
        ("arrears", {"arrears_total": 1234.5, "spend": 2000.0}, "本月末欠费1,235元，相当于本月话费的62%",
         "Unpaid bills of 1,235 yuan at month end (62% of this month's bill)"),
        ("arrears", {"arrears_total": 0.0, "spend": 2000.0}, "本月没有欠费", "No unpaid bills this month"),
        ("profile", {"tenure_months": 62, "value_tier": "B", "industry": "餐饮", "region": "成都", "active_lines": 12},
         "在网5年2个月，价值等级B，行业为餐饮，地区为成都，共12条线路",
         "On the network for 5 years 2 months, value tier B, industry 餐饮, region 成都, 12 active lines"),
        ("profile", {"tenure_months": 12, "value_tier": None, "industry": float("nan"), "active_lines": 1},
         "在网1年，共1条线路", "On the network for 1 year, 1 active line"),
        ("profile", {"tenure_months": 0}, "本月新入网", "Joined this month"),
    ],
)
def test_hand_worked_sentences(family, row, zh, en):
    assert reason_text(family, row) == zh
    assert reason_text(family, row, "zh") == zh
    assert reason_text(family, row, "en") == en


# ---------------------------------------------------------------- every family, missing values
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_speaks_for_a_typical_row(family, lang):
    text = reason_text(family, TYPICAL, lang)
    assert clean(text), text


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, math.inf])
@pytest.mark.parametrize("lang", LANGS)
def test_all_missing_values_still_give_a_sentence(missing, lang):
    row = {key: missing for key in TYPICAL}
    for family in FAMILIES:
        text = reason_text(family, row, lang)
        assert clean(text), (family, text)
        assert clean(reason_text(family, {}, lang))


@pytest.mark.parametrize("lang", LANGS)
def test_any_single_missing_value_never_prints_nan(lang):
    for key in TYPICAL:
        for missing in (None, float("nan")):
            row = {**TYPICAL, key: missing}
            for family in FAMILIES:
                text = reason_text(family, row, lang)
                assert clean(text), (key, family, text)


@pytest.mark.parametrize("lang", LANGS)
def test_only_one_known_value_gives_a_sentence(lang):
    for key, value in TYPICAL.items():
        row = {k: (value if k == key else None) for k in TYPICAL}
        for family in FAMILIES:
            assert clean(reason_text(family, row, lang)), (key, family)


def test_pandas_series_and_numpy_numbers():
    row = pd.Series({"member_change_3m": np.float64(-0.25), "active_lines_3m_ago": np.int64(12),
                     "active_lines": np.int64(9), "value_tier": pd.NA})
    assert reason_text("member_loss", row) == "近3个月成员数减少25%（12→9条）"
    frame = pd.DataFrame([TYPICAL, {**TYPICAL, "spend": np.nan, "spend_change_3m": np.nan}])
    for record in frame.to_dict("records"):
        for family in FAMILIES:
            assert clean(reason_text(family, record, "en"))


def test_numbers_use_the_groups_own_values():
    text = reason_text("spend_decline", TYPICAL)
    assert "1,234元" in text and "38%" in text and "1,990元" in text
    assert "12条中有4条" in reason_text("idle_lines", TYPICAL)


def test_unknown_family_or_language():
    with pytest.raises(ValueError, match="unknown reason family"):
        reason_text("weather", TYPICAL)
    with pytest.raises(ValueError, match="unknown language"):
        reason_text("member_loss", TYPICAL, "fr")
