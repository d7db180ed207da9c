"""The monthly report's "Retention" section: what the retention waves achieved, against their holdout.

:func:`retention_figures` reads the data directory's ``retention`` and ``churn`` tables itself
(group level only) and returns the JSON twin's ``retention`` entry; :func:`section` draws the
HTML section from it. Waves whose horizon has not passed are listed as running; the pooled
figure over all measured waves is the headline, because a single SME wave is small.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

from churnkit.campaign.effects import Costs, estimate
from churnkit.campaign.table import read_retention
from churnkit.io import SOURCE_COLUMN, read_table
from churnkit.report import svg
from churnkit.report.texts import num, pct, yuan

WORDS: dict[str, tuple[str, str]] = {
    "title": ("挽留效果", "Retention"),
    "none": ("数据目录中还没有挽留批次（retention 表）。用 churnkit campaign plan 下发名单后，预测期结束即可在此看到效果。",
             "The data directory holds no retention waves yet (table retention). Plan one with churnkit campaign plan; "
             "its effect shows here once its horizon has passed."),
    "intro": ("每个批次按哈希随机留出对照组（不联系）。效果 = 对照组 {h} 个月内流失率 − 名单组流失率（百分点，正数表示少流失），"
              "95% 区间为 Newcombe 区间；对照组按同一建议动作与首要原因分层加权。单个批次样本小，以合并结果为准。",
              "Each wave held out a random group by hash (not contacted). Effect = holdout churn within {h} months minus "
              "treated churn (points; positive means fewer groups left), with Newcombe's 95% interval; the holdout is "
              "weighted to the treated groups' strata (recommended action, first reason). A single wave is small: the pooled "
              "figure is the headline."),
    "pooled": ("合并 {n} 个批次：挽留少流失 {u} 个百分点（95% 区间 {lo} 至 {hi}）",
               "{n} waves pooled: retention prevented {u} points of churn (95% interval {lo} to {hi})"),
    "pooled_none": ("还没有预测期已结束的批次，暂无效果。", "No wave's horizon has passed yet: no effect to show."),
    "wave": ("批次", "Wave"), "treated": ("名单组", "Treated"), "holdout": ("对照组", "Holdout"),
    "churn_treated": ("名单组流失率", "Churn, treated"), "churn_holdout": ("对照组流失率", "Churn, holdout"),
    "uplift": ("效果（百分点）", "Effect (points)"), "interval": ("95% 区间", "95% interval"),
    "detectable": ("可检出效果", "Detectable"), "reached": ("已联系占比", "Reached"),
    "holdout_contacted": ("对照组被联系", "Holdout contacted"),
    "saved": ("挽回年收入", "Saved yearly revenue"), "cost": ("成本", "Cost"), "roi": ("投入回报", "Return on cost"),
    "naive": ("联系后留存率（不是效果）", "Stayed after contact (not an effect)"),
    "all": ("合并", "Pooled"),
    "by_action": ("按建议动作（随机对照）", "By recommended action (randomised)"),
    "by_script": ("按实际使用的话术（话术非随机分配，仅供参考）", "By script used (scripts were not randomised: a hint only)"),
    "action": ("动作", "Action"), "script": ("话术", "Script"),
    "pending": ("进行中的批次（预测期未结束）：{waves}", "Waves still running (horizon not passed): {waves}"),
    "deviation": ("对照组中有 {n} 个集团（{share}）被联系过：已记录为偏差，仍计入对照组，这会使效果被低估。",
                  "{n} holdout groups ({share}) were contacted anyway: recorded as deviations and kept in the holdout, "
                  "which biases the effect towards zero."),
    "naive_note": ("“联系后留存率”是被联系集团中未流失的比例。大多数集团本来就不会流失（见对照组），所以它不是挽留效果。",
                   "\"Stayed after contact\" is the share of contacted groups that did not leave. Most groups would have "
                   "stayed anyway (see the holdout): it is not the effect of retention."),
    "costs": ("成本 = 记录的优惠成本 + 每次联系成本（上门 {visit} 元、电话 {call} 元、关怀 {care} 元）；投入回报 = (挽回年收入 − 成本) ÷ 成本。",
              "Cost = recorded offer costs + a contact cost per action (visit {visit}, call {call}, care {care} yuan); "
              "return on cost = (saved yearly revenue - cost) / cost."),
    "chart": ("各批次效果与 95% 区间（百分点）", "Effect per wave with 95% interval (points)"),
    "learning": ("从结果中学习：按挽回价值排序", "Learning from outcomes: ranking by saved value"),
    "policy_saved": ("本月名单按挽回价值排序（预计少流失 × 年收入 − 联系成本）：已有 {waves} 个批次、{treated} 个名单组和 {holdout} 个对照组，"
                     "平均效果 {u} 个百分点（标准误 {se}）。",
                     "This month's list is ranked by saved value (expected churn reduction x yearly value - contact cost): "
                     "{waves} waves, {treated} treated and {holdout} holdout groups, average effect {u} points (standard error {se})."),
    "policy_risk": ("本月名单仍按风险 × 价值排序（{reason}）。切换条件：至少 {mw} 个批次、{mt} 个名单组、{mh} 个对照组，且平均效果的 95% 区间在零以上；"
                    "现有 {waves} 个批次、{treated} 个名单组、{holdout} 个对照组。",
                    "This month's list is still ranked by risk x value ({reason}). It switches with at least {mw} waves, {mt} treated "
                    "and {mh} holdout groups and an average effect above zero with 95% confidence; so far {waves} waves, {treated} "
                    "treated, {holdout} holdout groups."),
    "qini_title": ("Qini 曲线：批次 {wave}（模型只学习了之前的批次）", "Qini curve, wave {wave} (the model learned from earlier waves only)"),
    "qini_model": ("挽留模型排序", "uplift model's order"), "qini_random": ("随机排序", "random order"),
    "qini_share": ("联系比例", "Share contacted"),
    "qini_note": ("读法：按模型预测的效果从高到低联系名单上的集团，横轴是联系的比例，纵轴是每 100 个名单集团少流失的集团数"
                  "（对照组流失率 − 名单组流失率，乘以联系数，按分配概率加权）。曲线高于随机线越多，模型越会挑出联系有用的集团；"
                  "低于随机线说明它挑得比随机还差。Qini 系数 = 两线之间的面积 {q}；前 10% 的效果 {top} 个百分点，全名单 {all} 个百分点。",
                  "How to read it: contact the wave's listed groups in the order of the model's predicted effect, highest first; "
                  "x is the share contacted, y the groups kept per 100 listed (holdout minus treated churn among them, times the "
                  "number contacted, weighted by the assignment probability). The further the curve lies above the random line, "
                  "the better the model finds the groups a contact helps; below it, it does worse than chance. Qini coefficient "
                  "(area between the lines) {q}; effect in the top 10% {top} points, whole list {all} points."),
}
ACTIONS = {"visit": ("上门拜访", "visit"), "call": ("电话挽留", "call"), "care": ("关怀维系", "care")}


def w(key: str, lang: str, **values) -> str:
    zh, en = WORDS[key]
    return (zh if lang == "zh" else en).format(**values)


def retention_figures(data_dir: Path, month: int, horizon: int, costs: Costs = Costs(), uplift: dict | None = None) -> dict | None:
    """The ``retention`` entry of the report's figures for report month ``month``; None without a table.
    ``uplift`` is the model bundle's uplift record (its ``learning`` entry: policy, evidence, Qini)."""
    retention = read_retention(Path(data_dir))
    if retention is None:
        return None
    churn = read_table(Path(data_dir), "churn")
    if churn is not None:
        churn = churn.drop(columns=[SOURCE_COLUMN], errors="ignore")
    figures = estimate(retention, churn, horizon, month, costs)
    figures["learning"] = learning(uplift)
    return figures


def learning(uplift: dict | None) -> dict | None:
    """What the bundle's uplift record says: the policy that ranks the list, why, the evidence and
    the later wave's Qini curve (None when the bundle has no record)."""
    if not uplift:
        return None
    keys = ("wave", "learned_from", "groups", "qini_coefficient", "top_decile_uplift", "uplift_all", "qini_curve", "normalisation")
    evaluation = uplift.get("evaluation") or {}
    return {"policy": uplift.get("policy"), "reason": uplift.get("reason"), "evidence": uplift.get("evidence"),
            "average_effect": (uplift.get("calibration") or {}).get("average_effect"),
            "average_effect_se": (uplift.get("calibration") or {}).get("average_effect_se"),
            "evaluation": {k: evaluation[k] for k in keys if k in evaluation} or None}


def _learning(f: dict | None, lang: str) -> str:
    if not f or not f.get("evidence"):
        return ""
    e = f["evidence"]
    parts = [f'<h3>{escape(w("learning", lang))}</h3>']
    if f["policy"] == "saved_value":
        text = w("policy_saved", lang, waves=num(e["waves"]), treated=num(e["treated"]), holdout=num(e["holdout"]),
                 u=_points(f["average_effect"]), se="–" if _bad(f["average_effect_se"]) else f"{100 * f['average_effect_se']:.1f}")
    else:
        m = e["minimum"]
        text = w("policy_risk", lang, reason=f.get("reason") or "", mw=m["waves"], mt=num(m["treated"]), mh=num(m["holdout"]),
                 waves=num(e["waves"]), treated=num(e["treated"]), holdout=num(e["holdout"]))
    parts.append(f"<p>{escape(text)}</p>")
    ev = f.get("evaluation")
    if ev and ev.get("qini_curve"):
        curve = ev["qini_curve"]
        labels = [pct(p["share"], 0) for p in curve]
        model, rand = [100 * p["per_group"] + 0.0 for p in curve], [100 * p["random"] + 0.0 for p in curve]  # no -0.00
        title = w("qini_title", lang, wave=ev["wave"])
        parts.append(svg.line_chart(labels, {w("qini_model", lang): model, w("qini_random", lang): rand}, title,
                                    lambda v: f"{v:+.2f}"))
        parts.append(_table([w("qini_share", lang), w("qini_model", lang), w("qini_random", lang)],
                            [[lab, f"{m:+.2f}", f"{r:+.2f}"] for lab, m, r in zip(labels, model, rand)]))
        q = "–" if _bad(ev.get("qini_coefficient")) else f"{100 * ev['qini_coefficient']:+.2f}"
        note = w("qini_note", lang, q=q, top=_points(ev.get("top_decile_uplift")), all=_points(ev.get("uplift_all")))
        parts.append(f'<p class="note">{escape(note)}</p>')
    return "".join(parts)


def _bad(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _points(v) -> str:
    return "–" if _bad(v) else f"{100 * v:+.1f}"


def _interval(r: dict) -> str:
    return f"{_points(r['uplift_lo'])} … {_points(r['uplift_hi'])}"


def _roi(r: dict) -> str:
    return "–" if _bad(r["roi"]) else f"{r['roi']:+.1f} ({r['roi_lo']:+.1f} … {r['roi_hi']:+.1f})"


def _chart(rows: list[tuple[str, dict]], title: str) -> str:
    """Effects with their intervals as horizontal whiskers around zero."""
    rows = [(label, r) for label, r in rows if not _bad(r["uplift"])]
    if not rows:
        return ""
    span = max(0.02, *(abs(r[k]) for _, r in rows for k in ("uplift_lo", "uplift_hi") if not _bad(r[k])))
    width, left, right, step = 640, 110, 30, 22
    height = 30 + step * len(rows)

    def x(v: float) -> float:
        return left + (v + span) / (2 * span) * (width - left - right)

    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{escape(title)}" class="chart">'
             f'<title>{escape(title)}</title>',
             f'<line x1="{x(0):.1f}" y1="8" x2="{x(0):.1f}" y2="{height - 14}" stroke="#9aa3ad" stroke-dasharray="3,3"/>',
             f'<text x="{x(0):.1f}" y="{height - 2}" font-family="sans-serif" font-size="10" text-anchor="middle">0</text>']
    for i, (label, r) in enumerate(rows):
        y = 18 + i * step
        bold = ' font-weight="bold"' if i == len(rows) - 1 else ""
        parts.append(f'<text x="{left - 8}" y="{y + 4}" font-family="sans-serif" font-size="11" text-anchor="end"{bold}>'
                     f'{escape(label)}</text>')
        lo, hi = r["uplift_lo"], r["uplift_hi"]
        parts.append(f'<line x1="{x(lo):.1f}" y1="{y}" x2="{x(hi):.1f}" y2="{y}" stroke="#1f5fa8" stroke-width="2"/>'
                     f'<circle cx="{x(r["uplift"]):.1f}" cy="{y}" r="4" fill="#1f5fa8"/>')
    parts.append("</svg>")
    return "".join(parts)


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _row(label: str, r: dict, lang: str) -> list[str]:
    return [escape(label), num(r["treated"]), num(r["holdout"]), pct(r["churn_treated"], 1), pct(r["churn_holdout"], 1),
            _points(r["uplift"]), _interval(r), yuan(r["saved_revenue"], lang), yuan(r["cost"], lang), _roi(r),
            pct(r["reached_share"], 0), pct(r["stayed_after_contact"], 1)]


def _head(first: str, lang: str) -> list[str]:
    return [first] + [w(k, lang) for k in ("treated", "holdout", "churn_treated", "churn_holdout", "uplift", "interval",
                                            "saved", "cost", "roi", "reached", "naive")]


def section(figures: dict, lang: str = "zh") -> str:
    """The Retention section of the page (empty string when the figures have no ``retention`` key)."""
    if "retention" not in figures:
        return ""
    f = figures["retention"]
    parts = [f'<section id="retention"><h2>{escape(w("title", lang))}</h2>']
    if f is None:
        return "".join(parts) + f'<p class="note">{escape(w("none", lang))}</p></section>'
    parts.append(f'<p class="note">{escape(w("intro", lang, h=f["horizon"]))}</p>')
    pooled = f["pooled"]
    if pooled is None:
        parts.append(f"<p>{escape(w('pooled_none', lang))}</p>")
    else:
        parts.append('<p class="kpi"><b>' + escape(w("pooled", lang, n=pooled["waves"], u=_points(pooled["uplift"]),
                                                     lo=_points(pooled["uplift_lo"]), hi=_points(pooled["uplift_hi"]))) + "</b></p>")
        rows = [(r["wave"], r) for r in f["waves"]] + [(w("all", lang), pooled)]
        parts.append(_chart(rows, w("chart", lang)))
        body = [_row(label, r, lang) for label, r in rows]
        head = _head(w("wave", lang), lang)
        for row, (_, r) in zip(body, rows):
            row.insert(7, pct(r["detectable_uplift"], 1).replace("%", ""))
            row.insert(8, f'{num(r["holdout_contacted"])} ({pct(r["holdout_contacted_share"], 1)})')
        head.insert(7, w("detectable", lang))
        head.insert(8, w("holdout_contacted", lang))
        parts.append(_table(head, body))
        if pooled["holdout_contacted"]:
            parts.append(f'<p class="flag">{escape(w("deviation", lang, n=pooled["holdout_contacted"], share=pct(pooled["holdout_contacted_share"], 1)))}</p>')
        parts.append(f'<p class="note">{escape(w("naive_note", lang))} {escape(w("costs", lang, **{k: num(v) for k, v in f["costs"].items()}))}</p>')
        if f["by_action"]:
            parts.append(f'<h3>{escape(w("by_action", lang))}</h3>')
            parts.append(_table(_head(w("action", lang), lang),
                                [_row(ACTIONS[r["action"]][lang != "zh"], r, lang) for r in f["by_action"]]))
        if f["by_script"]:
            parts.append(f'<h3>{escape(w("by_script", lang))}</h3>')
            parts.append(_table(_head(w("script", lang), lang), [_row(r["script_id"], r, lang) for r in f["by_script"]]))
    parts.append(_learning(f.get("learning"), lang))
    if f["pending"]:
        waves = ", ".join(f'{p["wave"]} ({num(p["treated"])} + {num(p["holdout"])})' for p in f["pending"])
        parts.append(f'<p class="note">{escape(w("pending", lang, waves=waves))}</p>')
    parts.append("</section>")
    return "".join(parts)

