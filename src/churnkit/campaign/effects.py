"""The measured effect of retention waves: treated against holdout, churn within the horizon.

For a wave planned from month W, a group's outcome is whether it left within the horizon H:
``W < churn_month <= W + H`` (read from ``churn``, never typed by hand). Only waves whose horizon
has passed (``W + H <= M``, M the report month) are measured.

**The comparison.** Treated groups are compared with the holdout *of the same strata* (wave,
recommended action, ``reason_1`` family): each holdout group of stratum s weighs
``t_s / h_s`` (treated over holdout groups of s), so that the holdout stands for the treated
groups' mix. Within one stratum, or when every stratum holds out the same share, this is the
plain holdout churn rate. The difference (treated minus holdout churn) gets Newcombe's hybrid
score interval (95%, method 10 of Newcombe 1998: Wilson intervals of both rates combined), with
the weighted holdout entering by its effective size ``(sum w)^2 / sum w^2`` (Kish). ``uplift``
is the churn prevented, holdout minus treated, in rate points: positive means fewer groups left.

By recommended action the comparison is randomised (the action is a stratum). By script used
it is not (managers chose the script): it is the treated groups who got that script against
the holdout of their own reason families, a hint, not a measure of the script's effect.

**Money.** Saved revenue = uplift x the treated groups' yearly revenue (``expected_loss /
churn_probability`` = 12 x monthly spend at decision time). Cost = recorded offer costs plus a
contact cost per action taken (settings, :class:`Costs`). Return on cost = (saved - cost) / cost.

**Not an effect.** The share of contacted groups that stayed is shown beside the measured
effect and labelled as such: most of them would have stayed anyway (see the holdout).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from churnkit.months import format_month, parse_month

Z95 = 1.959963984540054
Z80 = 0.8416212335729143


@dataclass(frozen=True)
class Costs:
    """Contact cost per action taken, yuan (settings; offers come from the records)."""

    visit: float = 200.0
    call: float = 20.0
    care: float = 5.0
    none: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def wilson(x: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion x / n (x may be a weighted count)."""
    if n <= 0:
        return (math.nan, math.nan)
    p = x / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return ((centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n))


def newcombe(x1: float, n1: float, x2: float, n2: float, z: float = Z95) -> tuple[float, float, float]:
    """p1 - p2 and its hybrid score interval (Newcombe 1998, method 10)."""
    if n1 <= 0 or n2 <= 0:
        return (math.nan, math.nan, math.nan)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    return (d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def _month(value) -> float:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return math.nan
    return float(parse_month(str(value)[:7]))


def outcomes(retention: pd.DataFrame, churn: pd.DataFrame | None, horizon: int, as_of: int) -> pd.DataFrame:
    """The retention rows with ``wave_index``, ``done`` (horizon passed by ``as_of``), ``churned``
    (left within the horizon) and ``yearly_revenue``."""
    rows = retention.copy()
    rows["wave_index"] = [parse_month(w) for w in rows["wave"]]
    rows["done"] = rows["wave_index"] + horizon <= as_of
    left = {} if churn is None else dict(zip(churn["group_id"].astype(str), churn["churn_month"].map(_month)))
    when = rows["group_id"].map(left).astype(float)
    rows["churned"] = ((when > rows["wave_index"]) & (when <= rows["wave_index"] + horizon)).astype(int)
    prob = rows["churn_probability"].astype(float)
    rows["yearly_revenue"] = np.where(prob > 0, rows["expected_loss"].astype(float) / prob.where(prob > 0, 1.0), 0.0)
    return rows


def compare(rows: pd.DataFrame, treated: pd.Series, costs: Costs = Costs()) -> dict:
    """Treated rows (``treated`` mask, all assigned ``treat``) against the same strata's holdout."""
    key = rows["wave"].astype(str) + "|" + rows["stratum"].astype(str)
    t = rows[treated & (rows["assignment"] == "treat")]
    h = rows[rows["assignment"] == "holdout"]
    t_s, h_s = key[t.index].value_counts(), key[h.index].value_counts()
    t = t[key[t.index].isin(h_s.index)]
    w = key[h.index].map(t_s).fillna(0).to_numpy() / key[h.index].map(h_s).to_numpy()
    n_t, y_t = len(t), int(t["churned"].sum())
    sw, sw2 = float(w.sum()), float((w ** 2).sum())
    n_h = sw * sw / sw2 if sw2 > 0 else 0.0
    p_h = float((w * h["churned"].to_numpy()).sum() / sw) if sw > 0 else math.nan
    d, lo, hi = newcombe(y_t, n_t, p_h * n_h, n_h) if n_t and n_h else (math.nan,) * 3
    revenue = float(t["yearly_revenue"].sum())
    taken = t["action_taken"].fillna("none").astype(str)
    cost = float(t["offer_cost"].fillna(0).sum()) + float(taken.map(costs.to_dict()).fillna(0).sum())
    contacted = t[t["contacted"].notna()]
    uplift = (-d, -hi, -lo)

    def roi(u: float) -> float | None:
        return None if cost <= 0 or u != u else (u * revenue - cost) / cost

    p_t = y_t / n_t if n_t else math.nan
    se = math.sqrt(p_h * (1 - p_h) * (1 / n_t + 1 / n_h)) if n_t and n_h and p_h == p_h else math.nan
    return {
        "treated": n_t, "holdout": int((w > 0).sum()), "holdout_effective": n_h,
        "churned_treated": y_t, "churn_treated": p_t, "churn_holdout": p_h,
        "difference": d, "difference_lo": lo, "difference_hi": hi,
        "uplift": uplift[0], "uplift_lo": uplift[1], "uplift_hi": uplift[2],
        "detectable_uplift": (Z95 + Z80) * se,
        "groups_saved": uplift[0] * n_t if n_t else math.nan,
        "yearly_revenue_treated": revenue,
        "saved_revenue": uplift[0] * revenue, "saved_revenue_lo": uplift[1] * revenue, "saved_revenue_hi": uplift[2] * revenue,
        "cost": cost, "roi": roi(uplift[0]), "roi_lo": roi(uplift[1]), "roi_hi": roi(uplift[2]),
        "reached_share": len(contacted) / n_t if n_t else math.nan,
        "stayed_after_contact": float(1 - contacted["churned"].mean()) if len(contacted) else math.nan,
    }


def _deviations(rows: pd.DataFrame) -> dict:
    held = rows[rows["assignment"] == "holdout"]
    contacted = int(held["contacted"].notna().sum())
    return {"holdout_groups": len(held), "holdout_contacted": contacted,
            "holdout_contacted_share": contacted / len(held) if len(held) else math.nan}


def estimate(retention: pd.DataFrame, churn: pd.DataFrame | None, horizon: int, as_of: int, costs: Costs = Costs()) -> dict:
    """Every figure of the Retention section: per wave whose horizon passed, pooled, by action, by
    script, and the waves still running."""
    rows = outcomes(retention, churn, horizon, as_of)
    done = rows[rows["done"]].reset_index(drop=True)
    everyone = pd.Series(True, index=done.index)
    waves = []
    for wave, part in done.groupby("wave", sort=True):
        part = part.reset_index(drop=True)
        waves.append({"wave": wave, **compare(part, pd.Series(True, index=part.index), costs), **_deviations(part)})
    by_action = [{"action": a, **compare(done, done["recommended_action"] == a, costs)}
                 for a in ("visit", "call", "care") if (done["recommended_action"] == a).any()]
    used = done["script_used"].dropna().astype(str)
    by_script = [{"script_id": s, **compare(done, done["script_used"] == s, costs)} for s in sorted(set(used))]
    pending = rows[~rows["done"]].groupby("wave", sort=True)
    return {
        "horizon": horizon,
        "costs": costs.to_dict(),
        "waves": waves,
        "pooled": {"waves": len(waves), **compare(done, everyone, costs), **_deviations(done)} if len(done) else None,
        "by_action": by_action,
        "by_script": [s for s in by_script if s["treated"]],
        "pending": [{"wave": w, "treated": int((p["assignment"] == "treat").sum()),
                     "holdout": int((p["assignment"] == "holdout").sum()), "measured_from": format_month(parse_month(w) + horizon)} for w, p in pending],
    }
