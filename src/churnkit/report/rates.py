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
from churnkit.typed import q
from churnkit.validate import Dataset

DIMENSIONS = ("region", "industry", "value_tier", "account_manager")
FIELDS = ["month", "groups_at_start", "groups_churned", "absolute_churn_rate", "spend_at_start", "spend_churned",
          "relative_churn_rate"]
SUMS = ["groups_at_start", "groups_churned", "spend_at_start", "spend_churned"]


def rate_months(dataset: Dataset, month: int, count: int = 12) -> list[int]:
    """The months m of the ``count`` ending at ``month`` whose month m-1 and m are both in billing."""
    have = {parse_month(m) for m in dataset.months}
    return [m for m in range(month - count + 1, month + 1) if m in have and m - 1 in have]


def _base_sql(dataset: Dataset, months: list[int], dims: list[str]) -> str:
    """The base of each month m of ``months`` (see the module's definitions) as one engine query:
    month, group_id, spend (in m-1), churned (0/1) and the dimensions ``dims``."""
    groups = dataset["groups"].columns
    pairs = ", ".join(f"('{format_month(m - 1)}', '{format_month(m)}', DATE '{m // 12:04d}-{m % 12 + 1:02d}-01')"
                      for m in months)
    picked = "".join(f", g.{q(d)}" for d in dims)
    opened = "AND NOT coalesce(g.opened >= w.first_day, false)" if "opened" in groups else ""
    if dataset.has("churn"):
        churn = "LEFT JOIN typed_churn c ON c.group_id = s.group_id"
        churned, alive = "coalesce(c.churn_month = w.month, false)", "AND NOT coalesce(c.churn_month <= w.prev, false)"
    else:
        churn, churned, alive = "", "false", ""
    prevs = ", ".join(f"'{format_month(m - 1)}'" for m in months)
    return (f"SELECT w.month, s.group_id, s.spend, CAST({churned} AS INTEGER) AS churned{picked} "
            f"FROM (SELECT month, group_id, sum(CAST(charge AS DECIMAL(38, 6))) AS spend FROM typed_billing "
            f"WHERE month IN ({prevs}) GROUP BY month, group_id) s "
            f"JOIN (VALUES {pairs}) w(prev, month, first_day) ON s.month = w.prev "
            f"LEFT JOIN typed_groups g ON g.group_id = s.group_id {churn} "
            f"WHERE true {opened} {alive}")


def rate_cells(dataset: Dataset, months: list[int]) -> dict[str, pd.DataFrame]:
    """The bases of ``months`` summed in the engine, once overall (key ``"month"``) and once per
    dimension of ``groups``: month (and the dimension's value), groups_at_start, groups_churned,
    spend_at_start and spend_churned. Only these sums come back, never a row per group."""
    dims = [d for d in DIMENSIONS if d in dataset["groups"].columns]
    keys = {"month": ["month", *SUMS], **{d: [d, "month", *SUMS] for d in dims}}
    if not months:
        return {key: pd.DataFrame(columns=columns) for key, columns in keys.items()}
    sets = ", ".join(["(month)", *(f"({q(d)}, month)" for d in dims)])
    flags = "".join(f", GROUPING({q(d)}) AS {q('__g_' + d)}" for d in dims)
    cells = dataset.db.execute(
        f"WITH base AS ({_base_sql(dataset, months, dims)}) "
        f"SELECT month{''.join(f', {q(d)}' for d in dims)}{flags}, count(*) AS groups_at_start, "
        "sum(churned) AS groups_churned, CAST(sum(spend) AS DOUBLE) AS spend_at_start, "
        "CAST(sum(spend * churned) AS DOUBLE) AS spend_churned "
        f"FROM base GROUP BY GROUPING SETS ({sets})").df()
    out = {}
    for key, columns in keys.items():
        chosen = pd.Series(True, index=cells.index)
        for d in dims:  # a dimension's rows leave only that dimension ungrouped (0); the overall rows, none
            chosen &= cells[f"__g_{d}"] == (0 if d == key else 1)
        out[key] = cells.loc[chosen.to_numpy(), columns].reset_index(drop=True)
    return out


def _rates(cells: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    table = cells.astype({"groups_at_start": int, "groups_churned": int, "spend_at_start": "float64",
                          "spend_churned": "float64"}).sort_values(keys, na_position="last", kind="stable")
    table = table.reset_index(drop=True)
    table["absolute_churn_rate"] = table["groups_churned"] / table["groups_at_start"]
    spend = table["spend_at_start"].where(table["spend_at_start"] > 0)
    table["relative_churn_rate"] = table["spend_churned"] / spend
    table["spend_at_start"] = table["spend_at_start"].round(2)
    table["spend_churned"] = table["spend_churned"].round(2)
    return table


def churn_rates(dataset: Dataset, month: int, count: int = 12, cells: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Overall churn rates for each month of :func:`rate_months`; months with an empty base are kept
    with zero counts and null rates, so that the 12-month series has no holes. ``cells`` may pass
    the :func:`rate_cells` of those months when already computed."""
    months = rate_months(dataset, month, count)
    cells = rate_cells(dataset, months) if cells is None else cells
    table = _rates(cells["month"].astype({"month": object}), ["month"]).set_index("month")
    table = table.reindex([format_month(m) for m in months])
    table[["groups_at_start", "groups_churned"]] = table[["groups_at_start", "groups_churned"]].fillna(0).astype(int)
    table[["spend_at_start", "spend_churned"]] = table[["spend_at_start", "spend_churned"]].fillna(0.0)
    return table.rename_axis("month").reset_index()[FIELDS]


def churn_rates_by(dataset: Dataset, month: int, count: int = 12, dimensions: tuple[str, ...] = DIMENSIONS,
                   cells: dict[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """Churn rates per month and value of each dimension of ``groups`` (absent columns are skipped;
    groups with the column empty form their own row, with a null value)."""
    cells = rate_cells(dataset, rate_months(dataset, month, count)) if cells is None else cells
    out = {}
    for dim in dimensions:
        if dim not in cells:
            continue
        table = _rates(cells[dim].astype({dim: object, "month": object}), [dim, "month"])
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
