"""Reason sentences: one line per reason family, with the group's own numbers.

``reason_text(family, row, lang)`` turns the signal values of one scored group into a sentence
an account manager reads next to the score, e.g. ``近3个月成员数减少25%（12→9条）``. Values may
be missing (None, NaN, pandas NA): each family then says what is known and never prints
``nan`` or ``None``. Percentages are whole numbers, yuan amounts have thousands separators.
For a whole frame at once, :func:`churnkit.reason_texts.reason_texts` gives the same sentences
without a Python call per row; this module stays the readable definition it is tested against.

Examples
--------
>>> reason_text("member_loss", {"member_change_3m": -0.25, "active_lines_3m_ago": 12, "active_lines": 9})
'近3个月成员数减少25%（12→9条）'
>>> reason_text("contract_expiry", {"months_to_contract_end": -3}, "en")
'The group agreement expired 3 months ago'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from churnkit.families import FAMILIES, LANGS

Row = Mapping[str, Any]


# ---------------------------------------------------------------- reading and formatting values
def _num(row: Row, key: str) -> float | None:
    """The value of ``key`` as a finite float, or None when missing, NaN or not a number."""
    value = row.get(key)
    if value is None or isinstance(value, str):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _text(row: Row, key: str) -> str | None:
    """The value of ``key`` as stripped text, or None when missing or empty."""
    value = row.get(key)
    if isinstance(value, str):
        return value.strip() or None
    number = _num(row, key)
    if number is None:
        return None
    return str(int(number)) if number.is_integer() else str(number)


def _round(x: float) -> int:
    """Round half away from zero (2.5 -> 3), unlike Python's round()."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def _int(x: float) -> str:
    return f"{_round(x):,}"


def _pct(x: float) -> str:
    """A share or change as a whole percentage without sign: -0.38 -> '38%'."""
    return f"{abs(_round(x * 100))}%"


def _yuan(x: float) -> str:
    return f"{x:,.1f}" if abs(x) < 10 and not float(x).is_integer() else _int(x)


def _plural(n: float, one: str, many: str) -> str:
    return f"{_int(n)} {one if _round(n) == 1 else many}"


def _times(n: float) -> str:
    return {1: "once", 2: "twice"}.get(_round(n), f"{_int(n)} times")


def _ratio_change(change: float | None, now: float | None, before: float | None) -> float | None:
    """A relative change: the given column, else derived from its two ends."""
    if change is not None:
        return change
    if now is not None and before:
        return now / before - 1
    return None


def _say(zh: bool, zh_text: str, en_text: str) -> str:
    return zh_text if zh else en_text


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------- families
def _member_loss(row: Row, zh: bool) -> str:
    now = _num(row, "active_lines")
    for months, ago_key in ((3, "active_lines_3m_ago"), (1, "active_lines_1m_ago"), (6, None)):
        before = _num(row, ago_key) if ago_key else None
        change = _ratio_change(_num(row, f"member_change_{months}m"), now, before)
        if change is None:
            continue
        counts = now is not None and before is not None
        span = _say(zh, f"近{months}个月", f"in {_plural(months, 'month', 'months')}")
        pair = (_say(zh, f"（{_int(before)}→{_int(now)}条）", f" ({_int(before)} → {_int(now)})") if counts else "")
        if counts and _round(before) == _round(now):
            return _say(zh, f"{span}成员数持平（{_int(now)}条）", f"Lines unchanged {span} ({_int(now)})")
        if _round(change * 100) == 0:
            return _say(zh, f"{span}成员数基本持平{pair}", f"Lines roughly unchanged {span}{pair}")
        return _say(zh, f"{span}成员数{'减少' if change < 0 else '增加'}{_pct(change)}{pair}",
                    f"Lines {'fell' if change < 0 else 'grew'} {_pct(change)} {span}{pair}")
    if now is not None:
        return _say(zh, f"本月在网成员{_int(now)}条，缺少往月数据无法比较",
                    f"{_plural(now, 'active line', 'active lines')} this month, no earlier month to compare with")
    return _say(zh, "缺少成员数据，无法计算成员变化", "No line counts to measure a change in members")


def _spend_decline(row: Row, zh: bool) -> str:
    spend, mean = _num(row, "spend"), _num(row, "spend_prev_3m_mean")
    change = _ratio_change(_num(row, "spend_change_3m"), spend, mean)
    below = _num(row, "below_plan_share")
    parts = []
    if change is not None:
        ref = _say(zh, f"（{_yuan(mean)}元）", f" ({_yuan(mean)} yuan)") if mean is not None else ""
        if _round(change * 100) == 0:
            versus = _say(zh, f"与前3个月均值基本持平{ref}", f"level with the previous 3-month average{ref}")
        else:
            versus = _say(zh, f"比前3个月均值{'低' if change < 0 else '高'}{_pct(change)}{ref}",
                          f"{_pct(change)} {'below' if change < 0 else 'above'} the previous 3-month average{ref}")
        if spend is not None:
            parts.append(_say(zh, f"本月话费{_yuan(spend)}元，{versus}", f"Bill of {_yuan(spend)} yuan this month, {versus}"))
        else:
            parts.append(_say(zh, f"本月话费{versus}", f"This month's bill is {versus}"))
    elif spend is not None:
        parts.append(_say(zh, f"本月话费{_yuan(spend)}元", f"Bill of {_yuan(spend)} yuan this month"))
    if below is not None and _round(below * 100) > 0:
        parts.append(_say(zh, f"{_pct(below)}的线路消费低于套餐值", f"{_pct(below)} of lines spent less than their plan value"))
    if not parts:
        return _say(zh, "缺少话费数据", "No billing figures for this month")
    if zh:
        return "，".join(parts) if parts[0].startswith("本月") else "本月" + parts[0]
    return _cap(", and ".join(parts))


def _idle_trend(diff: float | None, zh: bool) -> str:
    """How the zero-call share moved against the previous three months, in points."""
    if diff is None:
        return ""
    points = abs(_round(diff * 100))
    if points == 0:
        return _say(zh, "与前3个月平均持平", "level with the previous 3-month average")
    return _say(zh, f"较前3个月平均{'上升' if diff > 0 else '下降'}{points}个百分点",
                f"{'up' if diff > 0 else 'down'} {points} points on the previous 3-month average")


def _idle_lines(row: Row, zh: bool) -> str:
    lines, share, idle = _num(row, "active_lines"), _num(row, "zero_call_share"), _num(row, "zero_call_lines")
    if idle is None and share is not None and lines is not None:
        idle = share * lines
    if share is None and idle is not None and lines:
        share = idle / lines
    trend = _idle_trend(_num(row, "zero_call_share_change_3m"), zh)
    if idle is not None and lines is not None and _round(idle) == 0:
        text = _say(zh, f"本月{_int(lines)}条线路都有通话", f"all {_plural(lines, 'line', 'lines')} made calls this month")
        trend = _say(zh, f"零通话占比{trend}", f"zero-call share {trend}") if trend else ""
    elif idle is not None and lines is not None:
        text = _say(zh, f"{_int(lines)}条中有{_int(idle)}条本月零通话",
                    f"{_int(idle)} of {_plural(lines, 'line', 'lines')} made no calls this month")
        if share is not None:
            trend = _say(zh, "，", ", ").join(x for x in (_say(zh, f"占{_pct(share)}", _pct(share)), trend) if x)
    elif share is not None:
        text = _say(zh, f"本月{_pct(share)}的线路零通话", f"{_pct(share)} of lines made no calls this month")
    else:
        text = trend = ""
    if trend:
        text += _say(zh, f"（{trend}）", f" ({trend})")
    drop, minutes = _num(row, "minutes_change_3m"), _num(row, "minutes_per_line")
    if drop is not None and (drop <= -0.2 or not text) and _round(drop * 100) != 0:
        clause = _say(zh, f"户均通话时长比前3个月{'低' if drop < 0 else '高'}{_pct(drop)}",
                      f"minutes per line {'down' if drop < 0 else 'up'} {_pct(drop)} on the previous 3 months")
        if minutes is not None:
            clause += _say(zh, f"（{_int(minutes)}分钟）", f" ({_int(minutes)} min)")
        text = _say(zh, "，", "; ").join(x for x in (text, clause) if x)
    if text:
        return _cap(text)
    if minutes is not None:
        return _say(zh, f"本月户均通话{_int(minutes)}分钟", f"{_int(minutes)} call minutes per line this month")
    return _say(zh, "缺少通话数据", "No call data for this month")


_FORWARDING = (
    ("forwarding_lines", "forwarding_share", "频繁呼转", "forwarded calls heavily"),
    ("offnet_forwarding_lines", "offnet_forwarding_share", "把来电转到他网号码", "forwarded calls to another operator's numbers"),
)


def _call_forwarding(row: Row, zh: bool) -> str:
    lines = _num(row, "active_lines")
    found, clauses = False, []
    for count_key, share_key, what_zh, what_en in _FORWARDING:
        count, share = _num(row, count_key), _num(row, share_key)
        if count is None and share is not None and lines is not None:
            count = share * lines
        if share is None and count is not None and lines:
            share = count / lines
        found = found or count is not None or share is not None
        if (count is not None and _round(count) == 0) or (count is None and (share is None or _round(share * 100) == 0)):
            continue
        if count is None:
            clauses.append(_say(zh, f"{_pct(share)}的线路{what_zh}", f"{_pct(share)} of lines {what_en}"))
            continue
        pct = _say(zh, f"（占{_pct(share)}）", f" ({_pct(share)})") if share is not None else ""
        if not clauses and lines is not None:
            head = _say(zh, f"{_int(lines)}条中有{_int(count)}条", f"{_int(count)} of {_plural(lines, 'line', 'lines')}")
        else:
            head = _say(zh, f"{_int(count)}条", _plural(count, "line", "lines") if not clauses else _int(count))
        clauses.append(_say(zh, f"{head}{what_zh}{pct}", f"{head} {what_en}{pct}"))
    if clauses:
        return _say(zh, "本月" + "，".join(clauses), "This month " + ", and ".join(clauses))
    if not found:
        return _say(zh, "缺少呼转数据", "No call-forwarding data for this month")
    if lines is not None:
        return _say(zh, f"本月{_int(lines)}条线路都没有频繁呼转或转他网",
                    f"None of the {_plural(lines, 'line', 'lines')} forwarded calls away this month")
    return _say(zh, "本月没有线路频繁呼转或转他网", "No line forwarded calls away this month")


def _addon_cancellation(row: Row, zh: bool) -> str:
    cancels, rate, lines = _num(row, "addon_cancels_3m"), _num(row, "addon_cancel_rate_3m"), _num(row, "active_lines")
    if rate is None and cancels is not None and lines:
        rate = cancels / lines
    if cancels is None and rate is None:
        return _say(zh, "缺少增值业务退订数据", "No add-on cancellation data")
    if cancels is not None and _round(cancels) == 0:
        return _say(zh, "近3个月没有退订增值业务", "No value-added services cancelled in 3 months")
    per_line = f"{rate:.1f}".removesuffix(".0") if rate is not None and round(rate, 1) > 0 else None
    if cancels is None:
        if per_line is None:
            return _say(zh, "近3个月有少量增值业务退订", "A few value-added services cancelled in 3 months")
        return _say(zh, f"近3个月每条在网线路平均退订增值业务{per_line}次",
                    f"{per_line} value-added service cancellations per active line in 3 months")
    text = _say(zh, f"近3个月退订增值业务{_int(cancels)}次",
                _plural(cancels, "value-added service cancellation", "value-added service cancellations") + " in 3 months")
    return text + (_say(zh, f"（每条在网线路平均{per_line}次）", f" ({per_line} per active line)") if per_line else "")


def _competitor_contact(row: Row, zh: bool) -> str:
    calls, lines = _num(row, "competitor_hotline_calls_3m"), _num(row, "competitor_hotline_lines_3m")
    offer = _num(row, "competitor_offer_3m")
    courted = offer is not None and offer >= 1
    if calls is not None and _round(calls) > 0:
        known = lines is not None and _round(lines) > 0
        text = _say(zh, f"近3个月{f'有{_int(lines)}条线路' if known else ''}拨打竞争对手客服热线共{_int(calls)}次",
                    f"{_plural(lines, 'line', 'lines') if known else 'Member lines'} called competitors' "
                    f"customer-service hotlines {_times(calls)} in 3 months")
        if courted:
            text += _say(zh, "，且有情报显示竞争对手正在争取该集团", ", and intel says a competitor is courting the group")
        return text
    if courted:
        return _say(zh, "近3个月有情报显示竞争对手正在争取该集团",
                    "Intel in the last 3 months says a competitor is courting the group")
    if calls is not None:
        return _say(zh, "近3个月没有线路拨打竞争对手客服热线", "No line called a competitor's hotline in 3 months")
    return _say(zh, "缺少拨打竞争对手热线的数据", "No data on calls to competitors' hotlines")


def _contract_expiry(row: Row, zh: bool) -> str:
    months = _num(row, "months_to_contract_end")
    if months is None:
        return _say(zh, "集团协议到期时间未知，请核实协议并补录",
                    "No agreement end date on file; check the agreement and record it")
    n = _round(months)
    if n > 0:
        return _say(zh, f"集团协议{_int(n)}个月后到期", f"The group agreement ends in {_plural(n, 'month', 'months')}")
    if n == 0:
        return _say(zh, "集团协议本月到期", "The group agreement ends this month")
    return _say(zh, f"集团协议已过期{_int(-n)}个月", f"The group agreement expired {_plural(-n, 'month', 'months')} ago")


def _complaints(row: Row, zh: bool) -> str:
    total, sp = _num(row, "complaints_3m"), _num(row, "sp_complaints_3m")
    has_sp = sp is not None and _round(sp) > 0
    about_sp = "about SP (third-party content) services"
    if total is not None and _round(total) > 0:
        text = _say(zh, f"近3个月投诉{_int(total)}次", _plural(total, "complaint", "complaints") + " in 3 months")
        if has_sp:
            one = _round(sp) == _round(total) == 1
            text += _say(zh, f"，其中SP业务投诉{_int(sp)}次", f", {about_sp}" if one else f", {_int(sp)} of them {about_sp}")
        return text
    if has_sp:
        return _say(zh, f"近3个月SP业务投诉{_int(sp)}次", f"{_plural(sp, 'complaint', 'complaints')} {about_sp} in 3 months")
    if total is not None:
        return _say(zh, "近3个月没有投诉", "No complaints in 3 months")
    return _say(zh, "缺少投诉数据", "No complaint data")


def _exit_intent(row: Row, zh: bool) -> str:
    flag = _num(row, "exit_intent_3m")
    if flag is not None and flag >= 1:
        return _say(zh, "近3个月集团联络人透露单位可能整体离网",
                    "The group's contact person said in the last 3 months that the group may leave")
    return _say(zh, "近3个月没有收到整体离网的消息", "No word of the group leaving in the last 3 months")


def _arrears(row: Row, zh: bool) -> str:
    owed, spend = _num(row, "arrears_total"), _num(row, "spend")
    if owed is None:
        return _say(zh, "欠费情况未知（数据中没有欠费金额）", "Arrears unknown (no unpaid amounts in the data)")
    if owed <= 0:
        return _say(zh, "本月没有欠费", "No unpaid bills this month")
    text = _say(zh, f"本月末欠费{_yuan(owed)}元", f"Unpaid bills of {_yuan(owed)} yuan at month end")
    if spend:
        text += _say(zh, f"，相当于本月话费的{_pct(owed / spend)}", f" ({_pct(owed / spend)} of this month's bill)")
    return text


def _tenure(months: float, zh: bool) -> str:
    n = _round(months)
    years, rest = divmod(n, 12)
    if zh:
        if n <= 0:
            return "本月新入网"
        return "在网" + (f"{years}年" if years else "") + (f"{rest}个月" if rest else "")
    if n <= 0:
        return "Joined this month"
    bits = ([_plural(years, "year", "years")] if years else []) + ([_plural(rest, "month", "months")] if rest else [])
    return "On the network for " + " ".join(bits)


def _profile(row: Row, zh: bool) -> str:
    tenure, tier = _num(row, "tenure_months"), _text(row, "value_tier")
    industry, region, lines = _text(row, "industry"), _text(row, "region"), _num(row, "active_lines")
    facts = [_tenure(tenure, zh)] if tenure is not None else []
    if zh:
        facts += [f"价值等级{tier}"] if tier else []
        facts += [f"行业为{industry}"] if industry else []
        facts += [f"地区为{region}"] if region else []
        facts += [f"共{_int(lines)}条线路"] if lines is not None else []
        return "，".join(facts) if facts else "集团基本信息不全"
    facts += [f"value tier {tier}"] if tier else []
    facts += [f"industry {industry}"] if industry else []
    facts += [f"region {region}"] if region else []
    facts += [_plural(lines, "active line", "active lines")] if lines is not None else []
    if not facts:
        return "Little is known about this group"
    text = ", ".join(facts)
    return text[0].upper() + text[1:]


_BUILDERS: dict[str, Callable[[Row, bool], str]] = {
    "member_loss": _member_loss,
    "spend_decline": _spend_decline,
    "idle_lines": _idle_lines,
    "call_forwarding": _call_forwarding,
    "addon_cancellation": _addon_cancellation,
    "competitor_contact": _competitor_contact,
    "contract_expiry": _contract_expiry,
    "complaints": _complaints,
    "exit_intent": _exit_intent,
    "arrears": _arrears,
    "profile": _profile,
}
assert tuple(_BUILDERS) == FAMILIES


def reason_text(family: str, row: Mapping[str, Any], lang: str = "zh") -> str:
    """One sentence explaining reason ``family`` with the group's own numbers from ``row``.

    Parameters
    ----------
    family : a reason family code (see :data:`churnkit.families.FAMILIES`).
    row : the signal columns of one group (a dict or a pandas Series); values may be missing.
    lang : ``"zh"`` or ``"en"``.

    Raises
    ------
    ValueError
        ``family`` or ``lang`` is unknown.
    """
    builder = _BUILDERS.get(family)
    if builder is None:
        raise ValueError(f"unknown reason family {family!r}; expected one of {', '.join(FAMILIES)}")
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")
    return builder(row, lang == "zh")
