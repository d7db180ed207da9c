"""The warning signals: catalogue v1 of the data contract, then churnkit's extras.

Each function reads the wide frame ``w`` of :func:`churnkit.signals.frame.wide` (one row per
scored group and scoring month M) and returns the column it is named after. A ratio with a
missing or zero denominator is null, never inf.
"""

from __future__ import annotations

import ibis

from churnkit.signals.registry import Settings, signal


def _ratio(a, b):
    return a / b.nullif(0)


def _int0(col):
    return col.fill_null(0).cast("int64")


# --- member_loss -----------------------------------------------------------------------------
@signal("member_loss", -1, kind="int")
def active_lines(w, s: Settings):
    """集团成员数: distinct active lines (lines with a billing row) in M."""
    return w.active_lines.cast("int64")


@signal("member_loss", -1)
def member_change_1m(w, s: Settings):
    """移动用户数减少（环比）: active_lines(M) / active_lines(M-1) - 1; null without lines in M-1."""
    return _ratio(w.active_lines, w.active_lines_1m_ago) - 1


@signal("member_loss", -1)
def member_change_3m(w, s: Settings):
    """移动用户数减少（近3月）: active_lines(M) / active_lines(M-3) - 1; null without lines in M-3."""
    return _ratio(w.active_lines, w.active_lines_3m_ago) - 1


# --- spend_decline ---------------------------------------------------------------------------
@signal("spend_decline", 0)
def spend(w, s: Settings):
    """月话费总额: sum of charge over the group's lines in M (yuan)."""
    return w.spend.cast("float64")


@signal("spend_decline", -1)
def spend_change_3m(w, s: Settings):
    """月话费总额明显减少: spend(M) / mean spend over the active months of M-3..M-1 - 1."""
    return _ratio(w.spend, w.spend_prev_3m_mean) - 1


# --- idle_lines ------------------------------------------------------------------------------
@signal("idle_lines", 1)
def zero_call_share(w, s: Settings):
    """零次用户占比: share of active lines in M with no calls (or no usage row)."""
    return w.zero_call_lines / w.active_lines


@signal("idle_lines", 1)
def zero_call_share_change_3m(w, s: Settings):
    """零次用户数增加: zero_call_share(M) minus its mean over the active months of M-3..M-1."""
    return w.zero_call_lines / w.active_lines - w.zero_share_prev_3m_mean


# --- call_forwarding -------------------------------------------------------------------------
@signal("call_forwarding", 1, params=("forwarding_calls",))
def forwarding_share(w, s: Settings):
    """呼转频繁用户占比: share of active lines in M with at least `forwarding_calls` forwarded calls."""
    return w.forwarding_lines / w.active_lines


@signal("call_forwarding", 1, params=("offnet_forwarding_calls",))
def offnet_forwarding_share(w, s: Settings):
    """呼转他网用户占比: share of active lines in M forwarding at least `offnet_forwarding_calls` calls off-net."""
    return w.offnet_forwarding_lines / w.active_lines


# --- addon_cancellation ----------------------------------------------------------------------
@signal("addon_cancellation", 1, kind="int")
def addon_cancels_3m(w, s: Settings):
    """新业务退订数: add-on cancellations dated in the calendar months M-2..M."""
    return _int0(w.cancels_3m)


@signal("addon_cancellation", 1)
def addon_cancel_rate_3m(w, s: Settings):
    """新业务退订率: addon_cancels_3m / active_lines(M)."""
    return w.cancels_3m.fill_null(0) / w.active_lines


# --- competitor_contact ----------------------------------------------------------------------
@signal("competitor_contact", 1, kind="int")
def competitor_hotline_calls_3m(w, s: Settings):
    """拨打竞争对手客服电话次数: competitor hotline calls of all the group's lines in M-2..M."""
    return _int0(w.hotline_calls_w3)


@signal("competitor_contact", 1, kind="int", params=("hotline_calls",))
def competitor_hotline_lines_3m(w, s: Settings):
    """拨打竞争对手客服电话的用户数: distinct lines with at least `hotline_calls` hotline calls in a month of M-2..M."""
    return _int0(w.hotline_lines_3m)


# --- complaints ------------------------------------------------------------------------------
@signal("complaints", 1, kind="int")
def complaints_3m(w, s: Settings):
    """投诉次数: complaints dated in M-2..M."""
    return _int0(w.complaints_w3)


@signal("complaints", 1, kind="int")
def sp_complaints_3m(w, s: Settings):
    """SP业务投诉次数: complaints of category sp dated in M-2..M."""
    return _int0(w.sp_complaints_w3)


# --- spend_decline (plan) --------------------------------------------------------------------
@signal("spend_decline", 1)
def below_plan_share(w, s: Settings):
    """话费低于套餐值用户占比: share of active lines in M whose charge is below a known plan_fee."""
    return w.below_plan_lines / w.active_lines


# --- arrears ---------------------------------------------------------------------------------
@signal("arrears", 1)
def arrears_total(w, s: Settings):
    """欠费总额: sum of the known arrears in M; null when none is known."""
    return (w.arrears_known > 0).ifelse(w.arrears_sum, ibis.null("float64"))


# --- contract_expiry -------------------------------------------------------------------------
@signal("contract_expiry", -1, kind="int")
def months_to_contract_end(w, s: Settings):
    """协议到期月数: months from M to the end of the agreement in force at M; negative when past."""
    return (w.contract_end_mi - w.mi).cast("int64")


# --- profile ---------------------------------------------------------------------------------
@signal("profile", -1, kind="int")
def tenure_months(w, s: Settings):
    """在网月数: months from `opened` (else the first active month in the data) to M."""
    return (w.mi - w.opened_mi.fill_null(w.first_mi)).cast("int64")


# --- exit_intent -----------------------------------------------------------------------------
@signal("exit_intent", 1, kind="int")
def exit_intent_3m(w, s: Settings):
    """整体离网倾向: 1 when the contact person reported exit intent in M-2..M, else 0."""
    return (w.exit_intents_3m.fill_null(0) > 0).ifelse(1, 0).cast("int64")


# === churnkit extras (not in catalogue v1) ====================================================
@signal("member_loss", 0, kind="int", catalogue=False)
def active_lines_1m_ago(w, s: Settings):
    """上月成员数: active lines in M-1 (0 when none)."""
    return _int0(w.active_lines_1m_ago)


@signal("member_loss", 0, kind="int", catalogue=False)
def active_lines_3m_ago(w, s: Settings):
    """3个月前成员数: active lines in M-3 (0 when none)."""
    return _int0(w.active_lines_3m_ago)


@signal("member_loss", -1, catalogue=False)
def member_change_6m(w, s: Settings):
    """移动用户数减少（近6月）: active_lines(M) / active_lines(M-6) - 1; null without lines in M-6."""
    return _ratio(w.active_lines, w.active_lines_6m_ago) - 1


@signal("spend_decline", 0, catalogue=False)
def spend_prev_3m_mean(w, s: Settings):
    """前3月平均话费: mean spend over the active months of M-3..M-1; null when none."""
    return w.spend_prev_3m_mean.cast("float64")


@signal("idle_lines", 1, kind="int", catalogue=False)
def zero_call_lines(w, s: Settings):
    """零次用户数: active lines in M with no calls."""
    return w.zero_call_lines.cast("int64")


@signal("idle_lines", -1, catalogue=False)
def minutes_per_line(w, s: Settings):
    """户均通话分钟: call minutes per active line in M."""
    return w.minutes / w.active_lines


@signal("idle_lines", -1, catalogue=False)
def minutes_change_3m(w, s: Settings):
    """业务量突降: minutes_per_line(M) / its mean over the active months of M-3..M-1 - 1."""
    return _ratio(w.minutes / w.active_lines, w.minutes_pl_prev_3m_mean) - 1


@signal("call_forwarding", 1, kind="int", params=("forwarding_calls",), catalogue=False)
def forwarding_lines(w, s: Settings):
    """呼转频繁用户数: active lines in M with at least `forwarding_calls` forwarded calls."""
    return w.forwarding_lines.cast("int64")


@signal("call_forwarding", 1, kind="int", params=("offnet_forwarding_calls",), catalogue=False)
def offnet_forwarding_lines(w, s: Settings):
    """呼转他网用户数: active lines in M with at least `offnet_forwarding_calls` off-net forwards."""
    return w.offnet_forwarding_lines.cast("int64")


@signal("competitor_contact", 1, kind="int", catalogue=False)
def competitor_offer_3m(w, s: Settings):
    """竞争对手强势营销: 1 when intel reports a competitor offer in M-2..M, else 0."""
    return (w.competitor_offers_3m.fill_null(0) > 0).ifelse(1, 0).cast("int64")
