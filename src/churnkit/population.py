"""Who is scored for month M, and why every other group is not (data contract: scored groups).

A group is scored when it has at least one active line in M, has not churned (churn_month > M
or absent) and was opened by M. Every other group of the ``groups`` table is listed as
excluded with a reason code and a sentence a person can read.
"""

from __future__ import annotations

import pandas as pd

from churnkit.months import format_month
from churnkit.validate import Dataset

REASONS = {
    "churned": "集团已于{churn}整体离网 / the group left in {churn}",
    "not_yet_opened": "集团开户日期{opened}晚于评分月份 / the group opened on {opened}, after the scoring month",
    "no_active_lines": "评分月份没有在网成员 / no active member line in the scoring month",
}


def active_groups(dataset: Dataset, month: int) -> set[str]:
    """Groups with at least one billing row in ``month``, from one engine aggregate."""
    rows = dataset.db.execute("SELECT DISTINCT group_id FROM typed_billing WHERE month = ?", [format_month(month)]).fetchall()
    return {r[0] for r in rows}


def population(dataset: Dataset, month: int) -> tuple[pd.Index, pd.DataFrame]:
    """The group_ids to score for ``month`` and the excluded groups (month, group_id, group_name, reason, detail)."""
    groups = dataset["groups"]
    label = format_month(month)
    ids = groups["group_id"].astype(object)
    active = ids.isin(active_groups(dataset, month)).to_numpy()
    churn = dataset.get("churn")
    churn_month = pd.Series(None, index=groups.index, dtype=object)
    if churn is not None:
        known = churn.dropna(subset=["churn_month"])
        churn_month = ids.map(dict(zip(known["group_id"], known["churn_month"]))).astype(object)
    churned = churn_month.notna().to_numpy() & (churn_month.fillna("9999-99").astype(str) <= label).to_numpy()
    opened = groups["opened"] if "opened" in groups else pd.Series(pd.NaT, index=groups.index)
    month_end = pd.Timestamp(year=month // 12, month=month % 12 + 1, day=1) + pd.offsets.MonthEnd(0)
    late = (~churned) & (opened.notna() & (opened > month_end)).to_numpy()
    idle = (~churned) & (~late) & (~active)
    names = groups["group_name"] if "group_name" in groups else pd.Series(None, index=groups.index)
    detail = pd.Series("", index=groups.index, dtype=object)
    detail[churned] = [REASONS["churned"].format(churn=c) for c in churn_month[churned]]
    detail[late] = [REASONS["not_yet_opened"].format(opened=f"{o:%Y-%m-%d}") for o in opened[late]]
    detail[idle] = REASONS["no_active_lines"]
    reason = pd.Series(None, index=groups.index, dtype=object)
    reason[churned], reason[late], reason[idle] = "churned", "not_yet_opened", "no_active_lines"
    out = ~pd.Series(reason).isna().to_numpy()
    excluded = pd.DataFrame({"month": label, "group_id": ids[out].to_numpy(), "group_name": names[out].astype(object).to_numpy(),
                             "reason": reason[out].to_numpy(), "detail": detail[out].to_numpy()},
                            columns=["month", "group_id", "group_name", "reason", "detail"])
    excluded["group_name"] = excluded["group_name"].where(excluded["group_name"].notna(), None)
    scored = pd.Index(ids[~out].to_numpy(), name="group_id")
    return scored, excluded.sort_values("group_id", kind="stable").reset_index(drop=True)
