"""The report's words in Chinese and English, and numbers formatted for people."""

from __future__ import annotations

import math

TEXTS: dict[str, tuple[str, str]] = {
    "title": ("集团客户流失预警月报", "Group customer churn report"),
    "subtitle": ("评分月份 {month} · 模型训练月份 {train} · 预测期 {horizon} 个月",
                 "Scoring month {month} · model trained on {train} · horizon {horizon} months"),
    "generated": ("churnkit {version} 生成 · 数据目录 {data} · 模型 {model}", "Made by churnkit {version} · data {data} · model {model}"),
    "summary": ("本月概览", "At a glance"),
    "kpi_churn": ("本月流失集团", "Groups lost this month"),
    "kpi_abs": ("绝对流失率", "Absolute churn rate"),
    "kpi_rel": ("相对流失率（收入口径）", "Relative churn rate (revenue)"),
    "kpi_risk": ("需要跟进的集团", "Groups to act on"),
    "kpi_loss": ("预期年化收入损失", "Expected yearly revenue at risk"),
    "kpi_lift": ("最近样本外月份前10%提升度", "Top-decile lift, latest held-out month"),
    "kpi_drift": ("明显漂移的信号", "Signals with a clear shift"),
    "of": ("共 {n} 个", "of {n}"),
    "churn_rates": ("流失率", "Churn rates"),
    "rates_intro": ("每月基数为上月在网（有在网成员、未离网、已开户）的集团；流失集团为基数中本月整体离网者。"
                    "相对流失率按上月话费加权，即流失的收入占比。",
                    "Each month's base is the groups active the month before (with active lines, not churned, opened); "
                    "the churned are those of the base that left this month. The relative rate weights them by last "
                    "month's spend: the share of revenue that left."),
    "rates_chart": ("近12个月流失率", "Churn rates over the last 12 months"),
    "month": ("月份", "Month"),
    "groups_at_start": ("月初集团数", "Groups at start"),
    "groups_churned": ("流失集团数", "Groups lost"),
    "absolute_churn_rate": ("绝对流失率", "Absolute rate"),
    "spend_at_start": ("上月话费（元）", "Spend last month (yuan)"),
    "spend_churned": ("流失话费（元）", "Spend lost (yuan)"),
    "relative_churn_rate": ("相对流失率", "Relative rate"),
    "by_dimension": ("按{dim}：近12个月合计与本月", "By {dim}: last 12 months together and this month"),
    "this_month": ("本月", "this month"),
    "twelve_months": ("近12个月", "12 months"),
    "region": ("地区", "region"),
    "industry": ("行业", "industry"),
    "value_tier": ("价值等级", "value tier"),
    "account_manager": ("客户经理", "account manager"),
    "not_set": ("（未填写）", "(not set)"),
    "risk": ("本月风险", "This month's risk"),
    "risk_intro": ("共评分 {scored} 个集团，排除 {excluded} 个（{reasons}）。预期年化收入损失合计 {loss}，预计 {lost} 个集团将在 {horizon} 个月内离网。",
                   "{scored} groups scored, {excluded} excluded ({reasons}). Expected yearly revenue at risk {loss}; "
                   "about {lost} groups are expected to leave within {horizon} months."),
    "by_action": ("按跟进方式", "By action"),
    "action": ("跟进方式", "Action"),
    "groups": ("集团数", "Groups"),
    "expected_loss": ("预期年化损失", "Expected yearly loss"),
    "mean_probability": ("平均流失概率", "Mean probability"),
    "by_decile": ("按风险十分位", "By risk decile"),
    "decile": ("十分位", "Decile"),
    "min_probability": ("最低概率", "Lowest probability"),
    "expected_groups_lost": ("预计流失集团数", "Expected groups lost"),
    "families_title": ("前10%高风险集团的主要原因", "What drives the top decile"),
    "families_intro": ("各原因类别作为首要原因的集团数，以及其在前10%集团全部风险贡献（SHAP）中的占比。",
                       "Groups with each reason family as their first reason, and the family's share of all risk-raising "
                       "SHAP impact in the top decile."),
    "family": ("原因类别", "Reason family"),
    "groups_reason_1": ("首要原因集团数", "Groups (first reason)"),
    "impact_share": ("风险贡献占比", "Share of impact"),
    "top_title": ("风险最高的 {n} 个集团", "The {n} groups most at risk"),
    "rank": ("排名", "Rank"),
    "group": ("集团", "Group"),
    "probability": ("流失概率", "Probability"),
    "reasons": ("原因", "Reasons"),
    "script": ("挽留话术", "Retention script"),
    "managers": ("客户经理清单", "By account manager"),
    "managers_intro": ("每位客户经理名下需要跟进（上门、电话或关怀）的集团，按风险排序；每人最多列出 {n} 个，完整名单见评分文件。",
                       "Each manager's groups that need action (visit, call or care), most at risk first; up to {n} "
                       "each here, the full list is in the scored file."),
    "manager_line": ("名下 {groups} 个集团，需跟进 {at_risk} 个，前10% {top} 个；预期年化损失 {loss}（需跟进部分 {risky}）。",
                     "{groups} groups, {at_risk} to act on, {top} in the top decile; expected yearly loss {loss} ({risky} in those to act on)."),
    "managers_rest": ("其余 {n} 位客户经理（明细见评分文件与 JSON）", "The other {n} account managers (details in the scored file and the JSON)"),
    "at_risk": ("需跟进", "To act on"),
    "dimension_rest": ("共 {n} 个，此处列出流失集团最多的 {shown} 个；全部见 JSON。", "{n} in all; the {shown} with the most groups lost are shown, all are in the JSON."),
    "more": ("另有 {n} 个见评分文件。", "{n} more in the scored file."),
    "none_at_risk": ("本月没有需要跟进的集团。", "No group needs action this month."),
    "backtest": ("回测：以往预警是否应验", "Backtest: did earlier warnings come true?"),
    "backtest_intro": ("用当前模型、仅用各月当时可见的数据为以往月份评分，并对照其后 {horizon} 个月的实际离网。"
                       "标为“样本内”的月份参与过训练或校准，其结果偏乐观，不能作为证据。",
                       "Each earlier month is scored by the current model from the data known in that month only, and "
                       "compared with who actually left in the {horizon} months after. Months marked in-sample were used "
                       "to train or calibrate the model: their figures flatter it and are no evidence."),
    "in_sample": ("样本内", "in-sample"),
    "held_out": ("样本外", "held out"),
    "sample_col": ("用途", "Use"),
    "churners": ("实际流失", "Churners"),
    "lift": ("模型提升度", "Model lift"),
    "rule_lift": ("规则提升度", "Rule lift"),
    "precision": ("前10%命中率", "Top-decile precision"),
    "recall": ("前10%覆盖率", "Top-decile recall"),
    "lift_chart": ("前10%提升度：模型与人工预警规则（浅色为样本内月份）", "Top-decile lift: model and manual warning rules (light: in-sample months)"),
    "lift_one": ("1 = 随机", "1 = chance"),
    "model": ("模型", "Model"),
    "rules": ("人工预警规则", "Manual rules"),
    "calibration_title": ("按十分位：预测与实际流失率", "Predicted and realised churn by decile"),
    "calibration_pooled": ("合并月份：{months}", "Months pooled: {months}"),
    "calibration_in_sample": ("（没有样本外月份，以下为样本内结果）", "(no held-out month yet; these are in-sample figures)"),
    "predicted": ("预测流失率", "Predicted"),
    "realised": ("实际流失率", "Realised"),
    "no_backtest": ("数据中还没有预测期已结束的月份，暂无回测。", "No month's horizon has passed within the data yet: no backtest."),
    "drift": ("输入漂移", "Input drift"),
    "drift_intro": ("各信号本月分布与训练月份（{months}）相比的群体稳定性指数（PSI，缺失值单列一组）。PSI > 0.2 表示明显变化。",
                    "Population stability index (PSI) of each signal this month against the training months ({months}), "
                    "with missing values as a bin of their own. PSI above 0.2 marks a clear shift."),
    "drift_none": ("没有信号的 PSI 超过 0.2，暂无需因输入变化而重新训练。", "No signal has a PSI above 0.2: nothing in the inputs calls for retraining."),
    "drift_flag": ("以下信号变化明显，建议核查数据，如属实则重新训练模型：{signals}。", "These signals shifted clearly; check the data and, if the change is real, retrain: {signals}."),
    "drift_missing": ("该模型包在本功能之前训练，未保存训练月份的分箱，因此无法计算漂移。请用 churnkit train 重新训练后再生成报告。",
                      "This model bundle was trained before drift monitoring existed and holds no bins of its training "
                      "months, so drift cannot be computed. Retrain with churnkit train and make the report again."),
    "signal": ("信号", "Signal"),
    "psi": ("PSI", "PSI"),
    "null_share_train": ("训练期缺失占比", "Null share, training"),
    "null_share_now": ("本月缺失占比", "Null share, now"),
    "status": ("状态", "Status"),
    "shifted": ("明显变化", "shifted"),
    "watch": ("需关注", "watch"),
    "stable": ("稳定", "stable"),
    "definitions": ("口径说明", "Definitions"),
    "reason_1": ("首要原因", "First reason"),
    "excluded_churned": ("已离网", "left"),
    "excluded_not_yet_opened": ("尚未开户", "not yet opened"),
    "excluded_no_active_lines": ("无在网成员", "no active line"),
    "split_train": ("样本内·训练", "in-sample: training"),
    "split_valid": ("样本内·校准", "in-sample: calibration"),
    "split_test": ("样本外·测试", "held out: test"),
    "split_none": ("样本外", "held out"),
    "visit": ("上门拜访", "visit"),
    "call": ("电话挽留", "call"),
    "care": ("关怀维系", "care"),
    "none": ("暂不跟进", "no action"),
}

DEFINITIONS: dict[str, list[str]] = {
    "zh": [
        "在网集团：当月至少有一条成员线路有账单记录、尚未整体离网、且已开户的集团；评分即针对这些集团。",
        "绝对流失率 = 本月整体离网的集团数 ÷ 上月在网集团数。",
        "相对流失率 = 本月离网集团上月话费之和 ÷ 上月在网集团话费之和，即按收入计的流失比例。",
        "流失概率：模型给出的、该集团在评分月之后 {horizon} 个月内整体离网的校准概率。",
        "预期年化损失 = 流失概率 × 本月话费 × 12。",
        "提升度：风险最高的10%集团中实际流失的比例 ÷ 全部集团的流失比例；1 表示与随机挑选无异。",
        "命中率：前10%集团中实际流失的比例；覆盖率：全部流失集团中被前10%覆盖的比例。",
        "PSI（群体稳定性指数）= Σ(本月占比 − 训练期占比) × ln(本月占比 ÷ 训练期占比)，按训练期十分位分箱，缺失值单列；"
        "小于 0.1 稳定，0.1–0.2 需关注，大于 0.2 为明显变化。",
    ],
    "en": [
        "Active group: a group with at least one member line billed in the month, not churned and already opened; these are the groups scored.",
        "Absolute churn rate = groups that left this month / groups active last month.",
        "Relative churn rate = last month's spend of the groups that left / last month's spend of all active groups: churn counted in revenue.",
        "Churn probability: the model's calibrated probability that the group leaves within {horizon} months after the scoring month.",
        "Expected yearly loss = churn probability x this month's spend x 12.",
        "Lift: the churn rate among the 10% of groups most at risk over the churn rate of all groups; 1 means no better than picking at random.",
        "Precision: the share of the top 10% that left; recall: the share of all groups that left which the top 10% caught.",
        "PSI (population stability index) = sum of (share now - share in training) x ln(share now / share in training), over the training "
        "months' deciles with missing values as a bin of their own; below 0.1 stable, 0.1-0.2 watch, above 0.2 a clear shift.",
    ],
}


def text(key: str, lang: str, **values) -> str:
    zh, en = TEXTS[key]
    return (zh if lang == "zh" else en).format(**values) if values else (zh if lang == "zh" else en)


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def pct(value, digits: int = 1) -> str:
    """0.01234 -> '1.2%'; missing -> '–'."""
    return "–" if missing(value) else f"{100 * value:.{digits}f}%"


def num(value, digits: int = 0) -> str:
    """12345.6 -> '12,346'."""
    return "–" if missing(value) else f"{value:,.{digits}f}"


def yuan(value, lang: str) -> str:
    """12345.6 -> '12,346元' (zh) or '¥12,346' (en)."""
    if missing(value):
        return "–"
    return f"{value:,.0f}元" if lang == "zh" else f"¥{value:,.0f}"


def ratio(value, digits: int = 2) -> str:
    """A lift: 2.345 -> '2.35×'."""
    return "–" if missing(value) else f"{value:.{digits}f}×"
