"""Churn rates per month, overall and by region, industry, value tier and account manager.

Definitions (the CRM textbook's two rates, applied to groups):

- the **base** of month m is every group scored in m-1: it had at least one active line in m-1,
  had not churned by then (``churn_month`` > m-1 or absent) and was opened by the end of m-1;
- the **churned** of month m are the groups of the base whose ``churn_month`` is m;
- **absolute churn rate** = churned / base;
- **relative churn rate** = the churned groups' spend in m-1 / the base's spend in m-1, i.e. the
  share of the monthly revenue that left. It is null when the base spent nothing.

A group that skips a month (no active line in m-1) is not in the base of m, whatever happens to it
in m; a group that churns in its first billed month after opening is in no base and counts nowhere.
"""

from __future__ import annotations

import pandas as pd

from churnkit.months import format_month, parse_month
from churnkit.validate import Dataset

DIMENSIONS = ("region", "industry", "value_tier", "account_manager")
FIELDS = ["month", "groups_at_start", "groups_churned", "absolute_churn_rate", "spend_at_start", "spend_churned",
          "relative_churn_rate"]


def rate_months(dataset: Dataset, month: int, count: int = 12) -> list[int]:
    """The months m of the ``count`` ending at ``month`` whose month m-1 and m are both in billing."""
    have = {parse_month(m) for m in dataset.months}
    return [m for m in range(month - count + 1, month + 1) if m in have and m - 1 in have]


def bases(dataset: Dataset, months: list[int]) -> pd.DataFrame:
    """One row per (month m, group of m's base): group_id, month, spend (in m-1) and churned (0/1)."""
    wanted = {format_month(m - 1): format_month(m) for m in months}
    spend = monthly_spend(dataset, list(wanted))
    spend["month"] = spend["month"].astype(str).map(wanted)
    index = {label: parse_month(label) for label in wanted.values()}  # month text -> index, once per month
    month_index = spend["month"].map(index).astype("int64")
    groups = dataset["groups"].set_index("group_id")
    if "opened" in groups:
        opened = spend["group_id"].map(groups["opened"])
        starts = {i: pd.Timestamp(year=i // 12, month=i % 12 + 1, day=1) for i in index.values()}  # first day of m
        spend = spend[~(opened.notna() & (opened >= month_index.map(starts))).to_numpy()]
        month_index = month_index[spend.index]
    churn = dataset.get("churn")
    churn_month = (spend["group_id"].map(churn.set_index("group_id")["churn_month"]) if churn is not None
                   else pd.Series(None, index=spend.index, dtype=object))
    churn_index = churn_month.map({m: parse_month(m) for m in churn_month.dropna().unique()}).astype("float64")
    keep = ~(churn_index <= month_index - 1).to_numpy()
    spend = spend[keep].copy()
    spend["churned"] = (churn_index[keep] == month_index[keep]).astype(int).to_numpy()
    return spend.reset_index(drop=True)


def monthly_spend(dataset: Dataset, months: list[str]) -> pd.DataFrame:
    """Each group's billed spend in each of ``months`` (month, group_id, spend): one engine
    aggregate, one row per group and month."""
    if not months:
        return pd.DataFrame({"month": pd.Series([], dtype=object), "group_id": pd.Series([], dtype=object),
                             "spend": pd.Series([], dtype="float64")})
    listed = ", ".join(f"'{m}'" for m in months)
    frame = dataset.db.execute(f"SELECT month, group_id, sum(charge) AS spend FROM typed_billing WHERE month IN ({listed}) "
                               "GROUP BY month, group_id ORDER BY month, group_id").df()
    return frame.astype({"month": object, "group_id": object, "spend": "float64"})


def _rates(base: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    base = base.assign(spend_lost=base["spend"] * base["churned"])
    table = base.groupby(keys, sort=True, dropna=False, observed=True).agg(
        groups_at_start=("group_id", "size"), groups_churned=("churned", "sum"),
        spend_at_start=("spend", "sum"), spend_churned=("spend_lost", "sum")).reset_index()
    table["absolute_churn_rate"] = table["groups_churned"] / table["groups_at_start"]
    spend = table["spend_at_start"].where(table["spend_at_start"] > 0)
    table["relative_churn_rate"] = table["spend_churned"] / spend
    table["spend_at_start"] = table["spend_at_start"].round(2)
    table["spend_churned"] = table["spend_churned"].round(2)
    return table.astype({"groups_at_start": int, "groups_churned": int})


def churn_rates(dataset: Dataset, month: int, count: int = 12, base: pd.DataFrame | None = None) -> pd.DataFrame:
    """Overall churn rates for each month of :func:`rate_months`; months with an empty base are kept
    with zero counts and null rates, so that the 12-month series has no holes. ``base`` may pass
    the :func:`bases` of those months when already computed."""
    months = rate_months(dataset, month, count)
    table = _rates(bases(dataset, months) if base is None else base, ["month"]).set_index("month")
    table = table.reindex([format_month(m) for m in months])
    table[["groups_at_start", "groups_churned"]] = table[["groups_at_start", "groups_churned"]].fillna(0).astype(int)
    table[["spend_at_start", "spend_churned"]] = table[["spend_at_start", "spend_churned"]].fillna(0.0)
    return table.reset_index()[FIELDS]


def churn_rates_by(dataset: Dataset, month: int, count: int = 12, dimensions: tuple[str, ...] = DIMENSIONS,
                   base: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Churn rates per month and value of each dimension of ``groups`` (absent columns are skipped;
    groups with the column empty form their own row, with a null value)."""
    if base is None:
        base = bases(dataset, rate_months(dataset, month, count))
    groups = dataset["groups"].set_index("group_id")
    out = {}
    for dim in dimensions:
        if dim not in groups:
            continue
        keyed = base.assign(**{dim: base["group_id"].map(groups[dim]).astype(object)})
        table = _rates(keyed, [dim, "month"])
        table[dim] = table[dim].astype(object).where(table[dim].notna(), None)
        out[dim] = table[[dim, *FIELDS]]
    return out


def totals(table: pd.DataFrame, key: str) -> pd.DataFrame:
    """Over all months of a by-dimension table: base and churned summed, rates recomputed."""
    summed = table.groupby(key, sort=True, dropna=False).agg(
        groups_at_start=("groups_at_start", "sum"), groups_churned=("groups_churned", "sum"),
        spend_at_start=("spend_at_start", "sum"), spend_churned=("spend_churned", "sum")).reset_index()
    summed["absolute_churn_rate"] = summed["groups_churned"] / summed["groups_at_start"].where(summed["groups_at_start"] > 0)
    summed["relative_churn_rate"] = summed["spend_churned"] / summed["spend_at_start"].where(summed["spend_at_start"] > 0)
    return summed
