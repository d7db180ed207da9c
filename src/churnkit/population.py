"""Who is scored for month M, and why every other group is not (data contract: scored groups).

A group is scored when it has at least one active line in M, has not churned (churn_month > M
or absent) and was opened by M. Every other group of the ``groups`` table is listed as
excluded with a reason code and a sentence a person can read.
"""

from __future__ import annotations

import pandas as pd

from churnkit.months import format_month, parse_month
from churnkit.validate import Dataset

REASONS = {
    "churned": "集团已于{churn}整体离网 / the group left in {churn}",
    "not_yet_opened": "集团开户日期{opened}晚于评分月份 / the group opened on {opened}, after the scoring month",
    "no_active_lines": "评分月份没有在网成员 / no active member line in the scoring month",
}


def population(dataset: Dataset, month: int) -> tuple[pd.Index, pd.DataFrame]:
    """The group_ids to score for ``month`` and the excluded groups (month, group_id, group_name, reason, detail)."""
    groups = dataset["groups"]
    label = format_month(month)
    billing = dataset["billing"]
    active = set(billing.loc[billing["month"] == label, "group_id"].unique())
    churn = dataset.get("churn")
    churned = {}
    if churn is not None:
        churned = {g: m for g, m in zip(churn["group_id"], churn["churn_month"]) if parse_month(m) <= month}
    opened = groups["opened"] if "opened" in groups else pd.Series(pd.NaT, index=groups.index)
    month_start = pd.Timestamp(year=month // 12, month=month % 12 + 1, day=1)
    month_end = month_start + pd.offsets.MonthEnd(0)
    rows, scored = [], []
    names = groups["group_name"] if "group_name" in groups else pd.Series(None, index=groups.index)
    for gid, name, opened_on in zip(groups["group_id"], names, opened):
        if gid in churned:
            reason, detail = "churned", REASONS["churned"].format(churn=churned[gid])
        elif pd.notna(opened_on) and opened_on > month_end:
            reason, detail = "not_yet_opened", REASONS["not_yet_opened"].format(opened=f"{opened_on:%Y-%m-%d}")
        elif gid not in active:
            reason, detail = "no_active_lines", REASONS["no_active_lines"]
        else:
            scored.append(gid)
            continue
        rows.append({"month": label, "group_id": gid, "group_name": name, "reason": reason, "detail": detail})
    excluded = pd.DataFrame(rows, columns=["month", "group_id", "group_name", "reason", "detail"])
    return pd.Index(scored, name="group_id"), excluded.sort_values("group_id", kind="stable").reset_index(drop=True)
