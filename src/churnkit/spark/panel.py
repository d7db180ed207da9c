"""The training panel built on Spark: :func:`churnkit.features.training_panel` for a cluster.

Signals at every usable snapshot month, the label over the horizon and the profile are computed
by Spark (the same Ibis expressions as on DuckDB). When the training months hold more snapshots
than ``max_rows``, every churner snapshot is kept and the others are sampled by Spark, by a
seeded hash of (group, month), each kept one weighted 1 / rate; validation and test months beyond
``evaluation_rows`` are sampled alike and unweighted (as on DuckDB). Only the kept snapshots come back to the driver, for LightGBM. Spark's hash is
not DuckDB's, so the two engines keep different (equally random) samples.
"""

from __future__ import annotations

import ibis
import pandas as pd

from churnkit.errors import DataError
from churnkit.features import (EVALUATION_ROWS, PROFILE, TRAINING_ROWS, month_indexes, sample_filter, sample_rate,
                               usable_months, weighed)
from churnkit.signals.build import finish, signal_expr
from churnkit.signals.registry import SIGNALS, Settings
from churnkit.signals.sources import from_dataset
from churnkit.spark.session import dataframe
from churnkit.validate import TEXT


def training_panel(dataset, horizon: int = 3, settings: Settings | None = None, sample_months: list[int] | None = None,
                   max_rows: int = TRAINING_ROWS, seed: int = 7, evaluation_rows: int = EVALUATION_ROWS) -> pd.DataFrame:
    """Features at every usable snapshot month with ``label`` (and ``weight`` when sampled), as
    :func:`churnkit.features.training_panel` returns them."""
    if not dataset.has("churn"):
        raise DataError(f"{dataset.data_dir}: training needs the churn table (group_id, churn_month); add churn.parquet or churn.csv")
    months = usable_months(month_indexes(dataset), horizon)
    if not months:
        raise DataError(f"{dataset.data_dir}: no month M with M + {horizon} inside the data; training needs a longer history")
    sample_months = sorted(set(sample_months or []))
    rate = sample_rate(dataset, [m for m in months if m in set(sample_months)], max_rows)
    other_rate = sample_rate(dataset, [m for m in months if m not in set(sample_months)], evaluation_rows)
    tables = from_dataset(dataset)
    expr = signal_expr(tables, months, settings or Settings())
    churn = tables["churn"].select(c_group="group_id", churn_mi="churn_mi")
    e = expr.left_join(churn, expr.group_id == churn.c_group)
    label = ((e.churn_mi > e.mi) & (e.churn_mi <= e.mi + horizon)).fill_null(False)
    e = e.mutate(label=label.ifelse(1, 0))
    if rate < 1.0 or other_rate < 1.0:
        e = e.filter(sample_filter(e, e.label == 1, sample_months, rate, other_rate, seed))
    have = set(dataset.columns.get("groups", []))
    groups = dataset.typed("groups")
    profile = groups.select(p_group=groups.group_id, **{c: groups[c] if c in have else ibis.null("string") for c in PROFILE})
    e = e.left_join(profile, e.group_id == profile.p_group)
    rows = dataframe(dataset.con, e.select("group_id", "mi", *SIGNALS, *PROFILE, "label")).toPandas()
    rows = rows.sort_values(["mi", "group_id"], kind="stable").reset_index(drop=True)
    frame = finish(rows[["group_id", "mi", *SIGNALS]].copy())
    frame["group_id"] = frame["group_id"].astype(object)  # as DuckDB's panel has it (object, not str)
    for col in PROFILE:
        frame[col] = rows[col].astype(TEXT)
    frame["label"] = rows["label"].astype(int).to_numpy()
    if rate >= 1.0 and other_rate >= 1.0:
        frame.attrs["sample"] = {"rate": 1.0}
        return frame
    return weighed(frame, rows["mi"].isin(sample_months).to_numpy(), rate, other_rate, sample_months, seed)
