"""The month's group-level tables on Spark: the signal table with each group's profile, and the
groups that are not scored with the reason why (as :mod:`churnkit.population` says it).

Both are Spark DataFrames, lazy: the signals are the same Ibis expressions as on DuckDB
(:func:`churnkit.signals.build.signal_expr`) compiled to Spark SQL over the dataset's views.
"""

from __future__ import annotations

import pandas as pd

from churnkit.features import PROFILE
from churnkit.months import format_month
from churnkit.population import REASONS
from churnkit.signals.build import signal_expr
from churnkit.signals.registry import SIGNALS, Settings
from churnkit.signals.sources import from_dataset
from churnkit.spark.session import dataframe

NAMES = ("group_name", "account_manager")  # shown in the scored file beside the profile
EXCLUDED = "month string, group_id string, group_name string, reason string, detail string"


def _group_columns(dataset, wanted) -> str:
    have = set(dataset.columns.get("groups", []))
    return ", ".join(c if c in have else f"CAST(NULL AS STRING) AS {c}" for c in wanted)


def signal_frame(dataset, months: list[int], settings: Settings | None = None):
    """group_id, mi, every signal, then the profile (industry, region, value_tier) and the names:
    one row per scored group and month of ``months``."""
    sources = from_dataset(dataset)
    signals = dataframe(dataset.con, signal_expr(sources, months, settings or Settings()))
    profile = dataset.spark.sql(f"SELECT group_id AS __g, {_group_columns(dataset, [*PROFILE, *NAMES])} FROM typed_groups")
    joined = signals.join(profile, signals["group_id"] == profile["__g"], "left").drop("__g")
    return joined.select("group_id", "mi", *SIGNALS, *PROFILE, *NAMES)


def typed_signals(frame: pd.DataFrame) -> pd.DataFrame:
    """A pandas batch from Spark with the signal dtypes of :func:`churnkit.signals.build.finish`
    (Arrow gives a count with nulls as float)."""
    for name, sig in SIGNALS.items():
        if name in frame:
            frame[name] = frame[name].astype("Int64" if sig.kind == "int" else "float64")
    return frame


def excluded_frame(dataset, month: int):
    """Every group of ``groups`` not scored for ``month``: month, group_id, group_name, reason and
    a sentence, in group_id order (:func:`churnkit.population.population`'s rules)."""
    label = format_month(month)
    end = (pd.Timestamp(year=month // 12, month=month % 12 + 1, day=1) + pd.offsets.MonthEnd(0)).strftime("%Y-%m-%d")
    have = set(dataset.columns.get("groups", []))
    name = "g.group_name" if "group_name" in have else "CAST(NULL AS STRING)"
    opened = "g.opened" if "opened" in have else "CAST(NULL AS DATE)"
    churn = "c.churn_month" if dataset.has("churn") and "churn_month" in dataset.columns.get("churn", []) else "CAST(NULL AS STRING)"
    join_churn = "LEFT JOIN (SELECT group_id AS cg, churn_month FROM typed_churn) c ON g.group_id = c.cg" if "c." in churn else ""
    churned = f"({churn} IS NOT NULL AND {churn} <= '{label}')"
    late = f"(NOT {churned} AND {opened} IS NOT NULL AND {opened} > DATE '{end}')"
    sql = f"""
        SELECT '{label}' AS month, g.group_id, {name} AS group_name,
               CASE WHEN {churned} THEN 'churned' WHEN {late} THEN 'not_yet_opened'
                    WHEN a.ag IS NULL THEN 'no_active_lines' END AS reason,
               {churn} AS churn_month, date_format({opened}, 'yyyy-MM-dd') AS opened
        FROM typed_groups g
        LEFT JOIN (SELECT DISTINCT group_id AS ag FROM typed_billing WHERE month = '{label}') a ON g.group_id = a.ag
        {join_churn}"""
    rows = dataset.spark.sql(sql)
    rows = rows.filter(rows["reason"].isNotNull()).orderBy("group_id")
    return rows.mapInPandas(_details, EXCLUDED)


def _details(batches):
    for frame in batches:
        detail = [REASONS[r].format(churn=c, opened=o) for r, c, o in zip(frame["reason"], frame["churn_month"], frame["opened"])]
        out = frame[["month", "group_id", "group_name", "reason"]].copy()
        out["detail"] = detail
        yield out
