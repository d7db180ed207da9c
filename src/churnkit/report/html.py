"""The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched.

It opens offline, travels as an e-mail attachment and prints to A4 (tables do not split rows
across pages; each manager's block stays on one page where it fits). Every figure comes from the
report's figures dict, the same one written as the JSON twin.
"""

from __future__ import annotations

from html import escape

from churnkit.families import FAMILY_LABELS
from churnkit.policy import ACTIONS
from churnkit.report import retention, svg
from churnkit.signals.registry import SIGNALS
from churnkit.report.texts import DEFINITIONS, TEXTS, missing, num, pct, ratio, text, yuan

CSS = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Zen Hei", "Helvetica Neue", Arial, sans-serif;
       color: #1d2329; margin: 0 auto; max-width: 1040px; padding: 20px 28px; font-size: 13px; line-height: 1.5; }
h1 { font-size: 24px; margin: 0 0 4px; color: #12467f; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #12467f; color: #12467f; }
h3 { font-size: 14px; margin: 18px 0 6px; }
p.meta { color: #5b6570; margin: 0; font-size: 12px; }
p.note { color: #5b6570; font-size: 12px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 12px; }
th, td { border-bottom: 1px solid #e1e5ea; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f1f4f8; font-weight: 600; }
td.n, th.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr { page-break-inside: avoid; break-inside: avoid; }
.kpis { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; margin: 12px 0; }
.kpi { border: 1px solid #d5dbe2; border-radius: 6px; padding: 10px 12px; background: #f8fafc; }
.kpi .v { font-size: 22px; font-weight: 700; color: #12467f; }
.kpi .l { font-size: 12px; color: #5b6570; }
.flag { color: #b8403a; font-weight: 600; }
.watch { color: #b3701a; }
.tag { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 11px; background: #e8edf3; }
.tag.in { background: #f6e3c6; }
.manager { page-break-inside: avoid; break-inside: avoid; }
ol.reasons { margin: 0; padding-left: 16px; }
details summary { cursor: pointer; color: #12467f; }
.script { white-space: pre-wrap; font-size: 11px; color: #333; }
svg.chart { max-width: 100%; height: auto; margin: 4px 0 8px; }
td.nw { white-space: nowrap; }
.meta { color: #5b6570; font-size: 11px; }
@media print { body { padding: 0; max-width: none; font-size: 11px; } h2 { page-break-after: avoid; break-after: avoid; } }
"""


def _e(value) -> str:
    return "–" if missing(value) else escape(str(value))


def _table(head: list[tuple[str, bool | str]], rows: list[list[str]], cls: str = "") -> str:
    """``head`` = (label, kind): True for a number (right-aligned), "nw" for short text kept on one
    line, False for text; ``rows`` are already-escaped cell HTML."""
    def attr(kind) -> str:
        return ' class="n"' if kind is True else ' class="nw"' if kind == "nw" else ""

    th = "".join(f"<th{attr(k)}>{escape(h)}</th>" for h, k in head)
    body = "".join("<tr>" + "".join(f"<td{attr(k)}>{c}</td>" for c, (_, k) in zip(row, head)) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _action(action: str, lang: str) -> str:
    return text(action, lang) if action in ACTIONS else action


def _family(family: str, lang: str) -> str:
    return FAMILY_LABELS.get(family, {}).get(lang, family)


def _signal(name: str, lang: str) -> str:
    """A signal's Chinese name in a Chinese report, its column name otherwise."""
    sig = SIGNALS.get(name)
    return sig.zh if sig is not None and lang == "zh" and sig.zh else name


def _summary(f: dict, lang: str) -> str:
    rates = f["churn_rates"]
    last = rates[-1] if rates else {}
    risk = f["risk"]
    acting = sum(risk["by_action"][a]["groups"] for a in ("visit", "call", "care"))
    held = [b for b in f["backtest"] if not b["in_sample"] and not missing(b["top_decile_lift"])]
    shifted = [d for d in f["drift"] if d["psi"] is not None and d["psi"] > 0.2]
    kpis = [
        (num(last.get("groups_churned")), text("kpi_churn", lang) + " · " + text("of", lang, n=num(last.get("groups_at_start")))),
        (pct(last.get("absolute_churn_rate"), 2), text("kpi_abs", lang)),
        (pct(last.get("relative_churn_rate"), 2), text("kpi_rel", lang)),
        (num(acting), text("kpi_risk", lang) + " · " + text("of", lang, n=num(risk["scored"]))),
        (yuan(risk["expected_loss_total"], lang), text("kpi_loss", lang)),
        (ratio(held[-1]["top_decile_lift"]) if held else "–", text("kpi_lift", lang) + (f" ({held[-1]['month']})" if held else "")),
        (num(len(shifted)) if f.get("drift_note") is None else "–", text("kpi_drift", lang)),
        (ratio(held[-1]["rule_top_decile_lift"]) if held else "–", text("rule_lift", lang)),
    ]
    cells = "".join(f'<div class="kpi"><div class="v">{escape(v)}</div><div class="l">{escape(l)}</div></div>' for v, l in kpis)
    return f'<section id="summary"><h2>{escape(text("summary", lang))}</h2><div class="kpis">{cells}</div></section>'


def _rate_cells(r: dict, lang: str) -> list[str]:
    return [num(r["groups_at_start"]), num(r["groups_churned"]), pct(r["absolute_churn_rate"], 2),
            num(r["spend_at_start"]), num(r["spend_churned"]), pct(r["relative_churn_rate"], 2)]


RATE_HEAD = ["groups_at_start", "groups_churned", "absolute_churn_rate", "spend_at_start", "spend_churned", "relative_churn_rate"]


def _rates(f: dict, lang: str) -> str:
    rates = f["churn_rates"]
    parts = [f'<section id="churn-rates"><h2>{escape(text("churn_rates", lang))}</h2><p class="note">{escape(text("rates_intro", lang))}</p>']
    if rates:
        parts.append(svg.line_chart([r["month"] for r in rates],
                                    {text("absolute_churn_rate", lang): [r["absolute_churn_rate"] for r in rates],
                                     text("relative_churn_rate", lang): [r["relative_churn_rate"] for r in rates]},
                                    text("rates_chart", lang), lambda v: pct(v, 1)))
    head = [(text("month", lang), False)] + [(text(k, lang), True) for k in RATE_HEAD]
    parts.append(_table(head, [[escape(r["month"]), *_rate_cells(r, lang)] for r in rates]))
    for dim, table in f.get("churn_rates_totals", {}).items():
        parts.append(f'<h3>{escape(text("by_dimension", lang, dim=text(dim, lang)))}</h3>')
        head = [(text(dim, lang), False), (text("groups_at_start", lang) + " · " + text("twelve_months", lang), True),
                (text("groups_churned", lang), True), (text("absolute_churn_rate", lang), True),
                (text("relative_churn_rate", lang), True), (text("absolute_churn_rate", lang) + " · " + text("this_month", lang), True),
                (text("relative_churn_rate", lang) + " · " + text("this_month", lang), True)]
        shown = table if len(table) <= DIMENSION_ROWS else sorted(table, key=lambda r: -r["groups_churned"])[:DIMENSION_ROWS]
        rows = [[_e(r[dim]) if r[dim] is not None else escape(text("not_set", lang)), num(r["groups_at_start"]),
                 num(r["groups_churned"]), pct(r["absolute_churn_rate"], 2), pct(r["relative_churn_rate"], 2),
                 pct(r["absolute_now"], 2), pct(r["relative_now"], 2)] for r in shown]
        parts.append(_table(head, rows))
        if len(shown) < len(table):
            parts.append(f'<p class="note">{escape(text("dimension_rest", lang, shown=len(shown), n=num(len(table))))}</p>')
    parts.append("</section>")
    return "".join(parts)


def _group_rows(groups: list[dict], lang: str) -> list[list[str]]:
    rows = []
    for g in groups:
        reasons = "".join(f"<li>{escape(r)}</li>" for r in g["reasons"])
        script = (f'<details><summary>{escape(g["script_title"])}</summary><div class="script">{escape(g["script_steps"])}</div></details>'
                  if g["script_title"] else "–")
        rows.append([num(g["risk_rank"]), f'{_e(g["group_name"])}<br><span class="meta">{escape(g["group_id"])}</span>',
                     _e(g["account_manager"]), pct(g["churn_probability"], 1), yuan(g["expected_loss"], lang),
                     escape(_action(g["action"], lang)), f'<ol class="reasons">{reasons}</ol>' if reasons else "–", script])
    return rows


def _group_head(lang: str) -> list[tuple[str, bool]]:
    return [(text("rank", lang), True), (text("group", lang), False), (text("account_manager", lang), "nw"),
            (text("probability", lang), True), (text("expected_loss", lang), True), (text("action", lang), "nw"),
            (text("reasons", lang), False), (text("script", lang), False)]


def _risk(f: dict, lang: str) -> str:
    risk = f["risk"]
    reasons = ", ".join(f"{text('excluded_' + k, lang) if 'excluded_' + k in TEXTS else k} {num(v)}"
                        for k, v in risk["excluded_by_reason"].items()) or "–"
    parts = [f'<section id="risk"><h2>{escape(text("risk", lang))}</h2><p>' + escape(text(
        "risk_intro", lang, scored=num(risk["scored"]), excluded=num(risk["excluded"]), reasons=reasons,
        loss=yuan(risk["expected_loss_total"], lang), lost=num(risk["expected_groups_lost"], 1), horizon=f["model"]["horizon"])) + "</p>"]
    parts.append(f'<h3>{escape(text("by_action", lang))}</h3>')
    parts.append(_table([(text("action", lang), False), (text("groups", lang), True), (text("expected_loss", lang), True),
                         (text("mean_probability", lang), True)],
                        [[escape(_action(a, lang)), num(v["groups"]), yuan(v["expected_loss"], lang), pct(v["mean_probability"], 1)]
                         for a, v in risk["by_action"].items()]))
    parts.append(f'<h3>{escape(text("by_decile", lang))}</h3>')
    parts.append(_table([(text("decile", lang), True), (text("groups", lang), True), (text("min_probability", lang), True),
                         (text("mean_probability", lang), True), (text("expected_groups_lost", lang), True),
                         (text("expected_loss", lang), True)],
                        [[num(d["decile"]), num(d["groups"]), pct(d["min_probability"], 1), pct(d["mean_probability"], 1),
                          num(d["expected_groups_lost"], 1), yuan(d["expected_loss"], lang)] for d in risk["by_decile"]]))
    families = risk["top_decile_families"]
    parts.append(f'<h3>{escape(text("families_title", lang))}</h3><p class="note">{escape(text("families_intro", lang))}</p>')
    if families:
        parts.append(svg.hbar_chart([_family(x["family"], lang) for x in families], [x["groups_reason_1"] for x in families],
                                    text("families_title", lang), lambda v: num(v)))
        parts.append(_table([(text("family", lang), False), (text("groups_reason_1", lang), True), (text("impact_share", lang), True)],
                            [[escape(_family(x["family"], lang)), num(x["groups_reason_1"]), pct(x["impact_share"], 1)] for x in families]))
    parts.append(f'<h3>{escape(text("top_title", lang, n=len(risk["top"])))}</h3>')
    parts.append(_table(_group_head(lang), _group_rows(risk["top"], lang), "groups"))
    parts.append("</section>")
    return "".join(parts)


#: managers with their own block of groups; the rest share one summary table (all are in the JSON)
MANAGER_BLOCKS = 40
#: rows of the churn-rate tables by dimension (account managers can be thousands in a province)
DIMENSION_ROWS = 40


def _manager_block(m: dict, lang: str) -> str:
    name = m["account_manager"] or text("not_set", lang)
    actions = " · ".join(f"{_action(a, lang)} {n}" for a, n in m["actions"].items())
    parts = [f'<div class="manager"><h3>{escape(name)}</h3><p>' + escape(text(
        "manager_line", lang, groups=num(m["groups"]), at_risk=num(m["at_risk"]), top=num(m["top_decile"]),
        loss=yuan(m["expected_loss"], lang), risky=yuan(m["expected_loss_at_risk"], lang))) + f" {escape(actions)}</p>"]
    if m["groups_at_risk"]:
        head = [(text("rank", lang), True), (text("group", lang), False), (text("probability", lang), True),
                (text("expected_loss", lang), True), (text("action", lang), "nw"), (text("reason_1", lang), False),
                (text("script", lang), False)]
        rows = [[num(g["risk_rank"]), f'{_e(g["group_name"])}<br><span class="meta">{escape(g["group_id"])}</span>',
                 pct(g["churn_probability"], 1), yuan(g["expected_loss"], lang), escape(_action(g["action"], lang)),
                 escape(g["reasons"][0]) if g["reasons"] else "–", _e(g["script_title"] or None)] for g in m["groups_at_risk"]]
        parts.append(_table(head, rows, "groups"))
        if m["at_risk"] > len(m["groups_at_risk"]):
            parts.append(f'<p class="note">{escape(text("more", lang, n=m["at_risk"] - len(m["groups_at_risk"])))}</p>')
    else:
        parts.append(f'<p class="note">{escape(text("none_at_risk", lang))}</p>')
    parts.append("</div>")
    return "".join(parts)


def _managers(f: dict, lang: str) -> str:
    managers = f["risk"]["managers"]
    parts = [f'<section id="managers"><h2>{escape(text("managers", lang))}</h2>'
             f'<p class="note">{escape(text("managers_intro", lang, n=f["risk"]["manager_rows"]))}</p>']
    parts.extend(_manager_block(m, lang) for m in managers[:MANAGER_BLOCKS])
    rest = managers[MANAGER_BLOCKS:]
    if rest:
        parts.append(f'<h3>{escape(text("managers_rest", lang, n=num(len(rest))))}</h3>')
        head = [(text("account_manager", lang), "nw"), (text("groups", lang), True), (text("at_risk", lang), True),
                (text("decile", lang) + " 1", True), (text("expected_loss", lang), True)] + [(_action(a, lang), True) for a in ACTIONS]
        parts.append(_table(head, [[_e(m["account_manager"] or text("not_set", lang)), num(m["groups"]), num(m["at_risk"]),
                                    num(m["top_decile"]), yuan(m["expected_loss"], lang),
                                    *[num(m["actions"][a]) for a in ACTIONS]] for m in rest]))
    parts.append("</section>")
    return "".join(parts)


def _backtest(f: dict, lang: str) -> str:
    rows = f["backtest"]
    parts = [f'<section id="backtest"><h2>{escape(text("backtest", lang))}</h2>'
             f'<p class="note">{escape(text("backtest_intro", lang, horizon=f["model"]["horizon"]))}</p>']
    if not rows:
        parts.append(f'<p>{escape(text("no_backtest", lang))}</p></section>')
        return "".join(parts)
    parts.append(svg.bar_chart([r["month"] for r in rows], {text("model", lang): [r["top_decile_lift"] for r in rows],
                                                           text("rules", lang): [r["rule_top_decile_lift"] for r in rows]},
                               text("lift_chart", lang), lambda v: ratio(v, 1), faded=[r["in_sample"] for r in rows],
                               reference=1.0, reference_label=text("lift_one", lang)))
    head = [(text("month", lang), False), (text("sample_col", lang), False), (text("groups", lang), True), (text("churners", lang), True),
            (text("lift", lang), True), (text("rule_lift", lang), True), (text("precision", lang), True), (text("recall", lang), True)]
    body = [[escape(r["month"]), f'<span class="tag{" in" if r["in_sample"] else ""}">{escape(text("split_" + r["split"], lang))}</span>',
             num(r["groups"]), num(r["churners"]),
             ratio(r["top_decile_lift"]), ratio(r["rule_top_decile_lift"]), pct(r["precision_top_decile"], 1),
             pct(r["recall_top_decile"], 1)] for r in rows]
    parts.append(_table(head, body))
    cal = f["backtest_calibration"]
    parts.append(f'<h3>{escape(text("calibration_title", lang))}</h3><p class="note">'
                 + escape(text("calibration_pooled", lang, months=", ".join(cal["months"])))
                 + ("" if cal["out_of_sample"] else " " + escape(text("calibration_in_sample", lang))) + "</p>")
    deciles = cal["deciles"]
    parts.append(svg.bar_chart([str(d["decile"]) for d in deciles], {text("predicted", lang): [d["predicted"] for d in deciles],
                                                                     text("realised", lang): [d["realised"] for d in deciles]},
                               text("calibration_title", lang), lambda v: pct(v, 0)))
    parts.append(_table([(text("decile", lang), True), (text("groups", lang), True), (text("predicted", lang), True),
                         (text("realised", lang), True)],
                        [[num(d["decile"]), num(d["groups"]), pct(d["predicted"], 1), pct(d["realised"], 1)] for d in deciles]))
    parts.append("</section>")
    return "".join(parts)


def _drift(f: dict, lang: str) -> str:
    parts = [f'<section id="drift"><h2>{escape(text("drift", lang))}</h2>']
    if f.get("drift_note"):
        parts.append(f'<p class="flag">{escape(text("drift_missing", lang))}</p></section>')
        return "".join(parts)
    rows = f["drift"]
    parts.append(f'<p class="note">{escape(text("drift_intro", lang, months=f["drift_reference_months"]))}</p>')
    shifted = [_signal(d["signal"], lang) for d in rows if d["psi"] > 0.2]
    parts.append(f'<p class="{"flag" if shifted else ""}">'
                 + escape(text("drift_flag", lang, signals=", ".join(shifted)) if shifted else text("drift_none", lang)) + "</p>")
    top = rows[:12]
    parts.append(svg.hbar_chart([_signal(d["signal"], lang) for d in top], [d["psi"] for d in top], "PSI", lambda v: f"{v:.3f}",
                                threshold=0.2, threshold_label="0.2"))

    def status(d):
        key = "shifted" if d["psi"] > 0.2 else "watch" if d["psi"] > 0.1 else "stable"
        return f'<span class="{"flag" if key == "shifted" else key}">{escape(text(key, lang))}</span>'

    parts.append(_table([(text("signal", lang), False), (text("psi", lang), True), (text("null_share_train", lang), True),
                         (text("null_share_now", lang), True), (text("status", lang), False)],
                        [[escape(_signal(d["signal"], lang)) + f'<br><span class="meta">{escape(d["signal"])}</span>', f'{d["psi"]:.3f}', pct(d["null_share_train"], 1), pct(d["null_share_now"], 1),
                          status(d)] for d in rows]))
    parts.append("</section>")
    return "".join(parts)


def _definitions(f: dict, lang: str) -> str:
    items = "".join(f"<li>{escape(d.format(horizon=f['model']['horizon']))}</li>" for d in DEFINITIONS[lang])
    return f'<section id="definitions"><h2>{escape(text("definitions", lang))}</h2><ul>{items}</ul></section>'


def render(figures: dict, lang: str = "zh") -> str:
    """The whole page for ``figures`` (see :func:`churnkit.report.build.figures`)."""
    m = figures["model"]
    title = f'{text("title", lang)} · {figures["month"]}'
    head = (f'<h1>{escape(title)}</h1><p class="meta">'
            + escape(text("subtitle", lang, month=figures["month"], train=m["train_months"], horizon=m["horizon"])) + "</p>"
            + '<p class="meta">' + escape(text("generated", lang, version=figures["churnkit_version"], data=figures["data"],
                                               model=m["path"])) + "</p>")
    body = "".join([head, _summary(figures, lang), _rates(figures, lang), _risk(figures, lang), _managers(figures, lang),
                    _backtest(figures, lang), retention.section(figures, lang), _drift(figures, lang), _definitions(figures, lang)])
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(title)}</title>'
            f"<style>{CSS}</style></head><body>{body}</body></html>\n")
