"""Reason sentences for a whole frame at once: the vectorised twin of :func:`churnkit.reasons.reason_text`.

``reason_texts(families, frame, lang)`` gives, for every row ``i``, exactly
``reason_text(families[i], frame.iloc[i].to_dict(), lang)`` (``""`` where ``families[i]`` is empty),
without calling it once per row: the rows of one family are taken together and each branch of
that family's sentence is built for all of its rows with numpy string operations (whole numbers
with thousands separators, half-away-from-zero rounding, plurals, missing values).

``reason_text`` stays the readable definition; the property test in ``tests/test_reason_texts.py``
holds the two together. The only rows still handed to ``reason_text`` one by one are those with
absurd magnitudes: a number that rounds to 2**62 or more, or a ratio or product that overflows to
infinity (where ``reason_text`` itself raises ``OverflowError``, and so does this function). Real
signals never get there.

>>> frame = pd.DataFrame({"active_lines": [9, 5], "active_lines_3m_ago": [12, None],
...                       "months_to_contract_end": [None, -3]})
>>> reason_texts(["member_loss", "contract_expiry"], frame, "en").tolist()
['Lines fell 25% in 3 months (12 → 9)', 'The group agreement expired 3 months ago']
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from churnkit.families import FAMILIES, LANGS
from churnkit.reasons import reason_text

_LIMIT = 2.0**62  # rounded values at or past this go to reason_text (int64 formatting stops short of 2**63)
_STRINGY = ("string", "empty", "mixed", "mixed-integer")  # inferred kinds that may hold str


# ---------------------------------------------------------------- reading columns like _num and _text
def _floats(column: pd.Series) -> np.ndarray:
    """What ``reasons._num`` reads from each value as float64: NaN for missing or text (inf kept: see _finite)."""
    if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        return column.to_numpy(dtype="float64", na_value=np.nan)  # may be a read-only view
    obj = pd.Series(column.to_numpy(dtype=object), dtype=object)
    kind = pd.api.types.infer_dtype(obj, skipna=True)
    if kind == "string":
        return np.full(len(obj), np.nan)
    if kind in _STRINGY:
        obj = obj.where(obj.str.len().isna())  # text is not a number for _num
    return pd.to_numeric(obj, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _finite(values: np.ndarray) -> np.ndarray:
    """``_num`` drops infinities too: NaN for them, in a fresh array."""
    return np.where(np.isinf(values), np.nan, values)


def _number_words(x: np.ndarray) -> np.ndarray:
    """``reasons._text`` of finite numbers: '12' for 12.0, Python's str() otherwise."""
    out = np.empty(len(x), dtype=object)
    whole = x == np.floor(x)
    if whole.any():
        out[whole] = np.char.mod("%.0f", x[whole] + 0.0).astype(object)  # + 0.0: -0.0 reads '0'
    if (~whole).any():
        out[~whole] = x[~whole].astype(object).astype(str).astype(object)  # str(float) per value
    return out


def _texts(column: pd.Series) -> np.ndarray:
    """What ``reasons._text`` reads from each value: stripped text or a number in words, else None."""
    out = np.full(len(column), None, dtype=object)
    if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        numbers, rest = _finite(_floats(column)), np.ones(len(column), dtype=bool)
    else:
        obj = pd.Series(column.to_numpy(dtype=object), dtype=object)
        rest = np.ones(len(obj), dtype=bool)
        if pd.api.types.infer_dtype(obj, skipna=True) in _STRINGY:
            stripped = obj.str.strip().to_numpy(dtype=object)  # Python's str.strip on each str, NaN otherwise
            is_str = pd.notna(stripped)
            keep = is_str.copy()
            keep[is_str] = stripped[is_str] != ""
            out[keep] = stripped[keep]
            rest = ~is_str
        numbers = np.full(len(obj), np.nan)
        if rest.any():
            numbers[rest] = _finite(_floats(obj[rest]))
    known = rest & ~np.isnan(numbers)
    out[known] = _number_words(numbers[known])
    return out


class _Columns:
    """The frame's numeric columns as read by ``_num``, converted once and shared by the families."""

    def __init__(self, frame: pd.DataFrame):
        self.frame, self.nums = frame, {}

    def num(self, key: str) -> np.ndarray:
        if key not in self.nums:
            col = self.frame[key] if key in self.frame.columns else None
            self.nums[key] = np.full(len(self.frame), np.nan) if col is None else _floats(col)
        return self.nums[key]

    def text(self, key: str, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``idx`` of a text column as codes into its distinct values read by ``_text`` (-1: None)."""
        if key not in self.frame.columns:
            return np.full(len(idx), -1), np.empty(0, dtype=object)
        codes, distinct = pd.factorize(self.frame[key].iloc[idx])  # missing -> -1; 1, 1.0, True read alike
        words = _texts(pd.Series(np.asarray(distinct, dtype=object), dtype=object))
        valid = codes >= 0
        valid[valid] = pd.notna(words[codes[valid]])  # blank text reads None: no fact
        return np.where(valid, codes, -1), np.where(pd.notna(words), words, "").astype(object)


def _round(x: np.ndarray) -> np.ndarray:
    """``reasons._round`` as floats: half away from zero, NaN stays NaN, no negative zero."""
    f = np.floor(np.abs(x) + 0.5)
    return np.where(x >= 0, f, -f) + 0.0


class _Rows:
    """The rows of one family: values (NaN = missing) and ``bad``, the rows left to ``reason_text``."""

    def __init__(self, columns: _Columns, idx: np.ndarray):
        self.columns, self.idx, self.n = columns, idx, len(idx)
        self.bad = np.zeros(self.n, dtype=bool)

    def num(self, key: str | None) -> np.ndarray:
        if not key:
            return np.full(self.n, np.nan)
        values = self.columns.num(key)[self.idx]  # a copy
        values[np.isinf(values)] = np.nan  # _num: not finite, not a number
        return values

    def text(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        return self.columns.text(key, self.idx)

    def round(self, x: np.ndarray) -> np.ndarray:
        """``_round`` of a whole column; flags the values ``reason_text`` cannot round or we cannot print."""
        r = _round(x)
        self.bad |= np.isinf(x) | (np.abs(r) >= _LIMIT)  # reason_text raises on inf; int64 stops at 2**63
        return r


# ---------------------------------------------------------------- formatting many values at once
def _whole(r: np.ndarray) -> np.ndarray:
    """Rounded floats as int64 (exact below 2**62; the rows past it are left to reason_text)."""
    return np.where(np.isfinite(r) & (np.abs(r) < _LIMIT), r, 0).astype(np.int64)


def _digits(r: np.ndarray) -> np.ndarray:
    """Whole numbers (rounded floats, or int64) as a numpy str array: '-1234'."""
    text = (r if r.dtype.kind == "i" else _whole(r)).astype(str)
    width = int(np.char.str_len(text).max()) if text.size else 1
    return text.astype(f"U{width}")


def _commas(text: np.ndarray) -> np.ndarray:
    """Thousands separators in a numpy str array of whole numbers: '-1234567' -> '-1,234,567'."""
    n, width = text.size, text.dtype.itemsize // 4
    if n == 0 or width <= 3:
        return text
    groups = -(-width // 3)
    chars = np.full((n, 3 * groups), " ", dtype="U1")  # right-aligned, so groups of 3 end at the right
    chars[:, 3 * groups - width:] = np.char.rjust(text, width).view("U1").reshape(n, width)
    grouped = chars.reshape(n, groups, 3)
    out = np.full((n, groups, 4), " ", dtype="U1")
    out[:, :, 1:] = grouped
    last = grouped[:, :-1, 2]  # a comma goes before a group when a digit stands to its left
    out[:, 1:, 0] = np.where((last >= "0") & (last <= "9"), ",", " ")
    return np.char.replace(out.reshape(n, 4 * groups).view(f"U{4 * groups}").ravel(), " ", "")  # pads, no-comma slots


# Whole numbers are worded from tables of ready-made strings (one fancy-indexing pass); the few
# values outside a table are worded on the spot.
_SPANS = {"grouped": (-999, 100_000), "plain": (0, 10_000), "pct": (0, 10_000)}


@functools.cache
def _tables() -> dict[str, np.ndarray]:
    grouped, plain = _digits(np.arange(*_SPANS["grouped"])), _digits(np.arange(*_SPANS["plain"]))
    return {"grouped": _commas(grouped).astype(object), "plain": plain.astype(object),
            "pct": np.char.add(plain, "%").astype(object)}


def _words(whole: np.ndarray, table: str) -> np.ndarray:
    """int64 values as words: 'grouped' '-1,234', 'plain' '1234', 'pct' '1234%' (of the magnitude)."""
    if table == "pct":
        whole = np.abs(whole)
    lo, hi = _SPANS[table]
    inside = (whole >= lo) & (whole < hi)
    out = _tables()[table][np.where(inside, whole - lo, 0)]
    if not inside.all():
        far = _digits(whole[~inside])
        far = _commas(far) if table == "grouped" else np.char.add(far, "%") if table == "pct" else far
        out[~inside] = far.astype(object)
    return out


Affix = str | tuple[str, str]  # a tuple is (for a negative value, otherwise): the sign goes into words


def _fmt(r: np.ndarray, table: str, pre: Affix = "", post: Affix = "",
         plural: tuple[str, str] | None = None) -> np.ndarray:
    """``pre + number + post`` for rounded values ``r``; when they span a short range, each is worded once.

    With a tuple ``pre`` or ``post`` the magnitude is printed (as 'pct' always does); ``plural``
    puts " one" or " many" after the number, as ``reasons._plural`` does.
    """
    whole = r if r.dtype.kind == "i" else _whole(r)
    if whole.size == 0:
        return np.empty(0, dtype=object)
    lo, hi = int(whole.min()), int(whole.max())
    few = hi - lo < max(whole.size, 64)
    values = np.arange(lo, hi + 1) if few else whole
    words = _words(np.abs(values) if isinstance(pre, tuple) or isinstance(post, tuple) else values, table)
    if plural:
        words = words + _pick(values == 1, " " + plural[0], " " + plural[1])
    if pre:
        words = (_pick(values < 0, *pre) if isinstance(pre, tuple) else pre) + words
    if post:
        words = words + (_pick(values < 0, *post) if isinstance(post, tuple) else post)
    return words[whole - lo] if few else words


def _int(r: np.ndarray, pre: Affix = "", post: Affix = "") -> np.ndarray:
    """``pre + f"{_round(x):,}" + post`` from rounded values ``r``: '-1,234'."""
    return _fmt(r, "grouped", pre, post)


def _plain(r: np.ndarray, pre: Affix = "", post: Affix = "") -> np.ndarray:
    """``f"{n}"`` of whole numbers, no separators."""
    return _fmt(r, "plain", pre, post)


def _pct(r: np.ndarray, pre: Affix = "", post: Affix = "") -> np.ndarray:
    """``_pct(x)`` from ``r = _round(x * 100)``: '38%' (no separators, no sign)."""
    return _fmt(r, "pct", pre, post)


def _plural(r: np.ndarray, one: str, many: str, pre: Affix = "", post: Affix = "") -> np.ndarray:
    """``reasons._plural``: '1 line', '2 lines', '1,000 lines'."""
    return _fmt(r, "grouped", pre, post, (one, many))


def _times(r: np.ndarray, pre: str = "", post: str = "") -> np.ndarray:
    out = _int(r, pre, " times" + post)
    out[r == 1], out[r == 2] = pre + "once" + post, pre + "twice" + post
    return out


def _yuan(x: np.ndarray, r: np.ndarray, pre: str = "", post: str = "") -> np.ndarray:
    """``reasons._yuan``: one decimal below 10 yuan unless whole, else a whole number with separators."""
    out = _int(r, pre, post)
    small = (np.abs(x) < 10) & (x != np.floor(x))
    if small.any():
        out[small] = pre + np.char.mod("%.1f", x[small]).astype(object) + post
    return out


def _pick(cond: np.ndarray, a: str, b: str) -> np.ndarray:
    """One of two strings per row, as Python str objects."""
    return np.where(cond, np.array(a, dtype=object), np.array(b, dtype=object))


def _put(out: np.ndarray, mask: np.ndarray, make: Callable[[np.ndarray], Any]) -> None:
    """``out[mask] = make(i)`` with ``i`` the positions of ``mask``; ``make`` is skipped when none."""
    i = np.flatnonzero(mask)
    if i.size:
        out[i] = make(i)


def _cases(i: np.ndarray, *cases: tuple[np.ndarray, Callable[[np.ndarray], Any]]) -> np.ndarray:
    """Strings for positions ``i``: each ``(cond, make)`` fills ``make(i[cond])``, built only where used."""
    out = np.empty(i.size, dtype=object)
    for cond, make in cases:
        if cond.any():
            out[cond] = make(i[cond])
    return out


def _suffix(text: np.ndarray, cond: np.ndarray, make: Callable[[np.ndarray], Any]) -> np.ndarray:
    """``text`` with ``make(positions)`` appended where ``cond``."""
    k = np.flatnonzero(cond)
    if k.size:
        text[k] = text[k] + make(k)
    return text


def _derive(given: np.ndarray, ok: np.ndarray, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """``given`` where known, else ``compute()`` where ``ok`` (division by zero and overflow kept quiet)."""
    use = np.isnan(given) & ok
    if not use.any():
        return given
    with np.errstate(all="ignore"):
        return np.where(use, compute(), given)


def _ratio_change(change: np.ndarray, now: np.ndarray, before: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(now) & ~np.isnan(before) & (before != 0)
    return _derive(change, ok, lambda: now / before - 1)


def _known(x: np.ndarray) -> np.ndarray:
    return ~np.isnan(x)


# ---------------------------------------------------------------- families
# Each builder mirrors its twin in reasons.py branch by branch, on all the rows of the family at once.
# Constant text travels with the numbers (pre/post of _int, _pct...) so that few strings are joined per row.
def _member_loss(R: _Rows, zh: bool) -> np.ndarray:
    out = np.empty(R.n, dtype=object)
    now = R.num("active_lines")
    r_now, todo = R.round(now), np.ones(R.n, dtype=bool)
    for months, ago_key in ((3, "active_lines_3m_ago"), (1, "active_lines_1m_ago"), (6, None)):
        before = R.num(ago_key)
        change = _ratio_change(R.num(f"member_change_{months}m"), now, before)
        active = todo & _known(change)
        todo &= ~active
        counts = _known(now) & _known(before)
        r_before, r_pct = R.round(before), R.round(change * 100)
        span = f"近{months}个月" if zh else f"in {months} {'month' if months == 1 else 'months'}"
        same = active & counts & (r_before == r_now)
        flat = active & ~same & (r_pct == 0)

        def pair(text, i):  # text + the two counts where known
            return _suffix(text, counts[i], lambda k: _int(r_before[i[k]], "（", "→") + _int(r_now[i[k]], "", "条）") if zh
                           else _int(r_before[i[k]], " (", " → ") + _int(r_now[i[k]], "", ")"))

        _put(out, same, lambda i: _int(r_now[i], span + "成员数持平（", "条）") if zh
             else _int(r_now[i], f"Lines unchanged {span} (", ")"))
        _put(out, flat, lambda i: pair(np.full(i.size, span + "成员数基本持平" if zh else f"Lines roughly unchanged {span}",
                                               dtype=object), i))
        # r_pct != 0 here, so its sign is the change's
        _put(out, active & ~same & ~flat, lambda i: pair(
            _pct(r_pct[i], (span + "成员数减少", span + "成员数增加")) if zh
            else _pct(r_pct[i], ("Lines fell ", "Lines grew "), " " + span), i))
    _put(out, todo & _known(now), lambda i: _int(r_now[i], "本月在网成员", "条，缺少往月数据无法比较") if zh
         else _plural(r_now[i], "active line", "active lines", "", " this month, no earlier month to compare with"))
    out[todo & ~_known(now)] = "缺少成员数据，无法计算成员变化" if zh else "No line counts to measure a change in members"
    return out


def _spend_decline(R: _Rows, zh: bool) -> np.ndarray:
    spend, mean = R.num("spend"), R.num("spend_prev_3m_mean")
    change = _ratio_change(R.num("spend_change_3m"), spend, mean)
    below = R.num("below_plan_share")
    r_spend, r_mean, r_pct, r_below = R.round(spend), R.round(mean), R.round(change * 100), R.round(below * 100)
    has_change, has_spend = _known(change), _known(spend)
    versus = np.full(R.n, "", dtype=object)  # against the previous three months, with their mean where known
    _put(versus, has_change & (r_pct == 0),
         lambda i: "与前3个月均值基本持平" if zh else "level with the previous 3-month average")
    _put(versus, has_change & (r_pct != 0), lambda i: _pct(r_pct[i], ("比前3个月均值低", "比前3个月均值高")) if zh
         else _pct(r_pct[i], "", (" below the previous 3-month average", " above the previous 3-month average")))
    _suffix(versus, has_change & _known(mean), lambda i: _yuan(mean[i], r_mean[i], "（", "元）") if zh
            else _yuan(mean[i], r_mean[i], " (", " yuan)"))
    first = np.full(R.n, "", dtype=object)  # the bill sentence; "" when there is none
    _put(first, has_change & has_spend, lambda i: _yuan(spend[i], r_spend[i], "本月话费", "元，") + versus[i] if zh
         else _yuan(spend[i], r_spend[i], "Bill of ", " yuan this month, ") + versus[i])
    _put(first, has_change & ~has_spend, lambda i: ("本月话费" if zh else "This month's bill is ") + versus[i])
    _put(first, ~has_change & has_spend, lambda i: _yuan(spend[i], r_spend[i], "本月话费", "元") if zh
         else _yuan(spend[i], r_spend[i], "Bill of ", " yuan this month"))
    has_first, has_below = has_change | has_spend, _known(below) & (r_below > 0)
    out = first  # a bill sentence starts with 本月 / a capital: reasons' join and _cap leave it be
    out[~has_first & ~has_below] = "缺少话费数据" if zh else "No billing figures for this month"
    clause = "的线路消费低于套餐值" if zh else " of lines spent less than their plan value"
    _put(out, has_below & has_first, lambda i: first[i] + _pct(r_below[i], "，" if zh else ", and ", clause))
    _put(out, has_below & ~has_first, lambda i: _pct(r_below[i], "本月" if zh else "", clause))
    return out


def _idle_lines(R: _Rows, zh: bool) -> np.ndarray:
    lines, share, idle = R.num("active_lines"), R.num("zero_call_share"), R.num("zero_call_lines")
    idle = _derive(idle, _known(share) & _known(lines), lambda: share * lines)
    share = _derive(share, _known(idle) & _known(lines) & (lines != 0), lambda: idle / lines)
    diff = R.num("zero_call_share_change_3m")
    r_lines, r_idle, r_share, r_diff = R.round(lines), R.round(idle), R.round(share * 100), R.round(diff * 100)
    has_trend = _known(diff)
    close = "）" if zh else ")"
    trend = np.full(R.n, "", dtype=object)  # _idle_trend, closing bracket included
    _put(trend, has_trend & (r_diff == 0), lambda i: "与前3个月平均持平）" if zh else "level with the previous 3-month average)")
    _put(trend, has_trend & (r_diff != 0), lambda i: _plain(r_diff[i], ("较前3个月平均下降", "较前3个月平均上升"), "个百分点）") if zh
         else _plain(r_diff[i], ("down ", "up "), " points on the previous 3-month average)"))
    text = np.full(R.n, "", dtype=object)
    both = _known(idle) & _known(lines)
    none_idle = both & (r_idle == 0)
    some_idle = both & ~none_idle
    _put(text, none_idle, lambda i: _int(r_lines[i], "本月", "条线路都有通话") if zh
         else _plural(r_lines[i], "line", "lines", "All ", " made calls this month"))  # _cap: first word
    _put(trend, none_idle & has_trend, lambda i: ("（零通话占比" if zh else " (zero-call share ") + trend[i])
    _put(text, some_idle, lambda i: _int(r_lines[i], "", "条中有") + _int(r_idle[i], "", "条本月零通话") if zh
         else _int(r_idle[i], "", " of ") + _plural(r_lines[i], "line", "lines", "", " made no calls this month"))
    with_share = some_idle & _known(share)
    lead = "（占" if zh else " ("
    _put(trend, with_share & has_trend, lambda i: _pct(r_share[i], lead, "，" if zh else ", ") + trend[i])
    _put(trend, with_share & ~has_trend, lambda i: _pct(r_share[i], lead, close))
    opened = (none_idle & has_trend) | with_share
    _put(trend, has_trend & ~opened, lambda i: ("（" if zh else " (") + trend[i])
    has_trend |= with_share
    only_share = ~both & _known(share)
    _put(text, only_share, lambda i: _pct(r_share[i], "本月", "的线路零通话") if zh
         else _pct(r_share[i], "", " of lines made no calls this month"))
    has_text = both | only_share
    _suffix(text, has_text & has_trend, lambda i: trend[i])

    drop, minutes = R.num("minutes_change_3m"), R.num("minutes_per_line")
    r_drop, r_minutes = R.round(drop * 100), R.round(minutes)
    with_drop = _known(drop) & ((drop <= -0.2) | ~has_text) & (r_drop != 0)

    def clause(i, joint):  # joint + minutes per line against the previous three months (r_drop != 0: its sign is drop's)
        if zh:
            text = _pct(r_drop[i], (joint + "户均通话时长比前3个月低", joint + "户均通话时长比前3个月高"))
            return _suffix(text, _known(minutes[i]), lambda k: _int(r_minutes[i[k]], "（", "分钟）"))
        text = _pct(r_drop[i], (joint + " per line down ", joint + " per line up "), " on the previous 3 months")
        return _suffix(text, _known(minutes[i]), lambda k: _int(r_minutes[i[k]], " (", " min)"))

    _put(text, with_drop & has_text, lambda i: text[i] + clause(i, "，" if zh else "; minutes"))
    _put(text, with_drop & ~has_text, lambda i: clause(i, "" if zh else "Minutes"))  # _cap when it leads
    has_text |= with_drop
    _put(text, ~has_text & _known(minutes), lambda i: _int(r_minutes[i], "本月户均通话", "分钟") if zh
         else _int(r_minutes[i], "", " call minutes per line this month"))
    text[~has_text & ~_known(minutes)] = "缺少通话数据" if zh else "No call data for this month"
    return text


_FORWARDING = (
    ("forwarding_lines", "forwarding_share", "频繁呼转", "forwarded calls heavily"),
    ("offnet_forwarding_lines", "offnet_forwarding_share", "把来电转到他网号码", "forwarded calls to another operator's numbers"),
)


def _call_forwarding(R: _Rows, zh: bool) -> np.ndarray:
    lines = R.num("active_lines")
    r_lines = R.round(lines)
    found, clauses = np.zeros(R.n, dtype=bool), np.zeros(R.n, dtype=np.int8)
    text = np.full(R.n, "", dtype=object)  # 本月 / This month, then the clauses
    for count_key, share_key, what_zh, what_en in _FORWARDING:
        count, share = R.num(count_key), R.num(share_key)
        count = _derive(count, _known(share) & _known(lines), lambda: share * lines)
        share = _derive(share, _known(count) & _known(lines) & (lines != 0), lambda: count / lines)
        found |= _known(count) | _known(share)
        r_count, r_share = R.round(count), R.round(share * 100)
        add = ~np.where(_known(count), r_count == 0, ~_known(share) | (r_share == 0))
        first = clauses == 0

        def clause(i, joint):
            counted, lead = _known(count[i]), first[i] & _known(lines[i])
            if zh:
                out = _cases(i, (~counted, lambda k: _pct(r_share[k], joint, "的线路" + what_zh)),
                             (counted & lead,
                              lambda k: _int(r_lines[k], joint, "条中有") + _int(r_count[k], "", "条" + what_zh)),
                             (counted & ~lead, lambda k: _int(r_count[k], joint, "条" + what_zh)))
                return _suffix(out, counted & _known(share[i]), lambda k: _pct(r_share[i[k]], "（占", "）"))
            out = _cases(i, (~counted, lambda k: _pct(r_share[k], joint, " of lines " + what_en)),
                         (counted & lead, lambda k: _int(r_count[k], joint, " of ")
                          + _plural(r_lines[k], "line", "lines", "", " " + what_en)),
                         (counted & ~lead & first[i],
                          lambda k: _plural(r_count[k], "line", "lines", joint, " " + what_en)),
                         (counted & ~first[i], lambda k: _int(r_count[k], joint, " " + what_en)))
            return _suffix(out, counted & _known(share[i]), lambda k: _pct(r_share[i[k]], " (", ")"))

        _put(text, add & first, lambda i: clause(i, "本月" if zh else "This month "))
        _put(text, add & ~first, lambda i: text[i] + clause(i, "，" if zh else ", and "))
        clauses += add
    out = text
    out[(clauses == 0) & ~found] = "缺少呼转数据" if zh else "No call-forwarding data for this month"
    _put(out, (clauses == 0) & found & _known(lines), lambda i: _int(r_lines[i], "本月", "条线路都没有频繁呼转或转他网") if zh
         else _plural(r_lines[i], "line", "lines", "None of the ", " forwarded calls away this month"))
    out[(clauses == 0) & found & ~_known(lines)] = "本月没有线路频繁呼转或转他网" if zh else "No line forwarded calls away this month"
    return out


def _addon_cancellation(R: _Rows, zh: bool) -> np.ndarray:
    cancels, rate, lines = R.num("addon_cancels_3m"), R.num("addon_cancel_rate_3m"), R.num("active_lines")
    rate = _derive(rate, _known(cancels) & _known(lines) & (lines != 0), lambda: cancels / lines)
    r_cancels = R.round(cancels)
    out = np.empty(R.n, dtype=object)
    out[~_known(cancels) & ~_known(rate)] = "缺少增值业务退订数据" if zh else "No add-on cancellation data"
    none = _known(cancels) & (r_cancels == 0)
    out[none] = "近3个月没有退订增值业务" if zh else "No value-added services cancelled in 3 months"
    # f"{rate:.1f}" and round(rate, 1) round alike, so round(rate, 1) > 0 is 'positive and not 0.0'
    per_line = np.full(R.n, "", dtype=object)
    _put(per_line, _known(rate) & (rate > 0) & ~none, lambda i: np.char.mod("%.1f", rate[i]).astype(object))
    per_line[per_line == "0.0"] = ""
    per_line = np.char.replace(per_line.astype(str), ".0", "").astype(object)  # one '.', then one digit: a suffix
    has_per = per_line != ""
    only_rate = ~_known(cancels) & _known(rate)
    out[only_rate & ~has_per] = "近3个月有少量增值业务退订" if zh else "A few value-added services cancelled in 3 months"
    _put(out, only_rate & has_per, lambda i: "近3个月每条在网线路平均退订增值业务" + per_line[i] + "次" if zh
         else per_line[i] + " value-added service cancellations per active line in 3 months")

    def counted(i):
        text = (_int(r_cancels[i], "近3个月退订增值业务", "次") if zh else _plural(
            r_cancels[i], "value-added service cancellation", "value-added service cancellations", "", " in 3 months"))
        return _suffix(text, has_per[i], lambda k: "（每条在网线路平均" + per_line[i[k]] + "次）" if zh
                       else " (" + per_line[i[k]] + " per active line)")

    _put(out, _known(cancels) & ~none, counted)
    return out


def _competitor_contact(R: _Rows, zh: bool) -> np.ndarray:
    calls, lines = R.num("competitor_hotline_calls_3m"), R.num("competitor_hotline_lines_3m")
    offer = R.num("competitor_offer_3m")
    courted = _known(offer) & (offer >= 1)
    r_calls, r_lines = R.round(calls), R.round(lines)
    called = _known(calls) & (r_calls > 0)
    out = np.empty(R.n, dtype=object)
    hotlines = "拨打竞争对手客服热线共" if zh else " called competitors' customer-service hotlines "

    def calling(i):
        known = _known(lines[i]) & (r_lines[i] > 0)
        if zh:
            text = _cases(i, (known, lambda k: _int(r_lines[k], "近3个月有", "条线路" + hotlines) + _int(r_calls[k], "", "次")),
                          (~known, lambda k: _int(r_calls[k], "近3个月" + hotlines, "次")))
        else:
            text = _cases(i, (known, lambda k: _plural(r_lines[k], "line", "lines", "", hotlines)
                              + _times(r_calls[k], "", " in 3 months")),
                          (~known, lambda k: _times(r_calls[k], "Member lines" + hotlines, " in 3 months")))
        return _suffix(text, courted[i], lambda k: "，且有情报显示竞争对手正在争取该集团" if zh
                       else ", and intel says a competitor is courting the group")

    _put(out, called, calling)
    out[~called & courted] = ("近3个月有情报显示竞争对手正在争取该集团" if zh
                              else "Intel in the last 3 months says a competitor is courting the group")
    out[~called & ~courted & _known(calls)] = ("近3个月没有线路拨打竞争对手客服热线" if zh
                                               else "No line called a competitor's hotline in 3 months")
    out[~called & ~courted & ~_known(calls)] = "缺少拨打竞争对手热线的数据" if zh else "No data on calls to competitors' hotlines"
    return out


def _contract_expiry(R: _Rows, zh: bool) -> np.ndarray:
    months = R.num("months_to_contract_end")
    n = R.round(months)
    again = R.round(n)  # _int(n) and _plural(n) round the rounded value once more, through a float
    out = np.empty(R.n, dtype=object)
    out[~_known(months)] = ("集团协议到期时间未知，请核实协议并补录" if zh
                            else "No agreement end date on file; check the agreement and record it")
    _put(out, n > 0, lambda i: _int(again[i], "集团协议", "个月后到期") if zh
         else _plural(again[i], "month", "months", "The group agreement ends in "))
    out[n == 0] = "集团协议本月到期" if zh else "The group agreement ends this month"
    _put(out, n < 0, lambda i: _int(-again[i], "集团协议已过期", "个月") if zh
         else _plural(-again[i], "month", "months", "The group agreement expired ", " ago"))
    return out


def _complaints(R: _Rows, zh: bool) -> np.ndarray:
    total, sp = R.num("complaints_3m"), R.num("sp_complaints_3m")
    r_total, r_sp = R.round(total), R.round(sp)
    has_sp, has_total = _known(sp) & (r_sp > 0), _known(total) & (r_total > 0)
    about_sp = "about SP (third-party content) services"
    out = np.empty(R.n, dtype=object)

    def counted(i):
        if zh:
            return _suffix(_int(r_total[i], "近3个月投诉", "次"), has_sp[i], lambda k: _int(r_sp[i[k]], "，其中SP业务投诉", "次"))
        text = _plural(r_total[i], "complaint", "complaints", "", " in 3 months")
        one = (r_sp[i] == r_total[i]) & (r_total[i] == 1)
        _suffix(text, has_sp[i] & one, lambda k: f", {about_sp}")
        return _suffix(text, has_sp[i] & ~one, lambda k: _int(r_sp[i[k]], ", ", f" of them {about_sp}"))

    _put(out, has_total, counted)
    _put(out, ~has_total & has_sp, lambda i: _int(r_sp[i], "近3个月SP业务投诉", "次") if zh
         else _plural(r_sp[i], "complaint", "complaints", "", f" {about_sp} in 3 months"))
    out[~has_total & ~has_sp & _known(total)] = "近3个月没有投诉" if zh else "No complaints in 3 months"
    out[~has_total & ~has_sp & ~_known(total)] = "缺少投诉数据" if zh else "No complaint data"
    return out


def _exit_intent(R: _Rows, zh: bool) -> np.ndarray:
    flag = R.num("exit_intent_3m")
    said = ("近3个月集团联络人透露单位可能整体离网" if zh
            else "The group's contact person said in the last 3 months that the group may leave")
    return _pick(_known(flag) & (flag >= 1), said, "近3个月没有收到整体离网的消息" if zh
                 else "No word of the group leaving in the last 3 months")


def _arrears(R: _Rows, zh: bool) -> np.ndarray:
    owed, spend = R.num("arrears_total"), R.num("spend")
    r_owed = R.round(owed)
    share = _derive(np.full(R.n, np.nan), _known(owed) & (owed > 0) & _known(spend) & (spend != 0), lambda: owed / spend)
    r_share = R.round(share * 100)
    out = np.empty(R.n, dtype=object)
    out[~_known(owed)] = "欠费情况未知（数据中没有欠费金额）" if zh else "Arrears unknown (no unpaid amounts in the data)"
    out[_known(owed) & (owed <= 0)] = "本月没有欠费" if zh else "No unpaid bills this month"

    def owing(i):
        text = (_yuan(owed[i], r_owed[i], "本月末欠费", "元") if zh
                else _yuan(owed[i], r_owed[i], "Unpaid bills of ", " yuan at month end"))
        return _suffix(text, _known(share[i]), lambda k: _pct(r_share[i[k]], "，相当于本月话费的") if zh
                       else _pct(r_share[i[k]], " (", " of this month's bill)"))

    _put(out, _known(owed) & (owed > 0), owing)
    return out


def _tenure(n: np.ndarray, zh: bool) -> np.ndarray:
    """``reasons._tenure`` of rounded month counts ``n`` (below 2**62)."""
    years, rest = np.divmod(_whole(n), 12)  # floor division, like Python's divmod
    years_again = _round(years.astype(float))  # _plural rounds again through a float: past 2**52 odd years move
    on = n > 0
    if zh:
        text = np.full(n.size, "在网", dtype=object)
        _suffix(text, on & (years != 0), lambda k: _plain(years[k], "", "年"))
        _suffix(text, on & (rest != 0), lambda k: _plain(rest[k], "", "个月"))
    else:
        text = np.full(n.size, "On the network for", dtype=object)
        _suffix(text, on & (years != 0), lambda k: _plural(years_again[k], "year", "years", " "))
        _suffix(text, on & (rest != 0), lambda k: _plural(rest[k].astype(float), "month", "months", " "))
    text[~on] = "本月新入网" if zh else "Joined this month"
    return text


def _profile(R: _Rows, zh: bool) -> np.ndarray:
    """Facts come from a few distinct values (tenure, tier, industry, region, lines): each is worded once."""
    sep = "，" if zh else ", "
    text, has = np.full(R.n, "", dtype=object), np.zeros(R.n, dtype=bool)

    def add(codes, opening, fact):
        """Append ``fact[code]`` (``opening[code]`` for the first fact) where ``codes`` >= 0."""
        present = codes >= 0
        i = np.flatnonzero(present & has)
        text[i] = text[i] + (sep + fact)[codes[i]]
        i = np.flatnonzero(present & ~has)
        text[i] = opening[codes[i]]
        has[present] = True

    def distinct(values):
        codes, uniques = pd.factorize(values)  # NaN -> -1
        return codes, np.asarray(uniques, dtype=float)

    codes, months = distinct(R.round(R.num("tenure_months")))
    words = _tenure(months, zh)
    add(codes, words, words)
    for key, zh_word, en_word in (("value_tier", "价值等级", "value tier "), ("industry", "行业为", "industry "),
                                  ("region", "地区为", "region ")):
        codes, words = R.text(key)
        add(codes, (zh_word if zh else en_word.capitalize()) + words, (zh_word if zh else en_word) + words)
    codes, lines = distinct(R.round(R.num("active_lines")))
    words = _int(lines, "共", "条线路") if zh else _plural(lines, "active line", "active lines")
    add(codes, words, words)
    text[~has] = "集团基本信息不全" if zh else "Little is known about this group"
    return text


_BUILDERS: dict[str, Callable[[_Rows, bool], np.ndarray]] = {
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


def reason_texts(families, frame: pd.DataFrame, lang: str = "zh") -> np.ndarray:
    """The reason sentence of every row: ``reason_text(families[i], frame.iloc[i].to_dict(), lang)``.

    Parameters
    ----------
    families : array-like of family codes (numpy array, list or pandas Series), one per row of
        ``frame`` and aligned with it by position; ``""``, None or NaN mean "no reason".
    frame : the signal columns (Int64, float64, object or string dtypes; missing values allowed).
        Columns a family reads but the frame lacks count as missing.
    lang : ``"zh"`` or ``"en"``.

    Returns
    -------
    An object array of ``len(frame)`` Python strings, ``""`` where there is no reason.

    Raises
    ------
    ValueError
        A family code or ``lang`` is unknown, or ``families`` and ``frame`` differ in length.
    OverflowError
        As ``reason_text`` does, when a ratio of absurd values overflows to infinity.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")
    codes = families.to_numpy(dtype=object) if isinstance(families, pd.Series) else np.asarray(families, dtype=object)
    codes = codes.ravel()
    if len(codes) != len(frame):
        raise ValueError(f"{len(codes)} families for {len(frame)} rows; they go together by position")
    out = np.full(len(frame), "", dtype=object)
    empty = pd.isna(codes)
    empty[~empty] = codes[~empty] == ""
    ids, uniques = pd.factorize(codes[~empty])
    unknown = [f for f in uniques if not isinstance(f, str) or f not in _BUILDERS]
    if unknown:
        raise ValueError(f"unknown reason family {unknown[0]!r}; expected one of {', '.join(FAMILIES)}")
    positions = np.flatnonzero(~empty)
    columns = _Columns(frame)
    for k, family in enumerate(uniques):
        rows = _Rows(columns, positions[ids == k])
        with np.errstate(invalid="ignore", over="ignore"):  # arithmetic on missing (NaN) values
            out[rows.idx] = _BUILDERS[family](rows, lang == "zh")
        for i in rows.idx[rows.bad]:  # absurd magnitudes only: reason_text decides (or raises)
            out[i] = reason_text(family, frame.iloc[i].to_dict(), lang)
    return out
