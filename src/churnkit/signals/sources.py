"""Input tables as Ibis tables on a backend, normalised for the signal builders.

Months and dates become a month index ``mi`` (year * 12 + month - 1) so that windows are
arithmetic on calendar months. The same normalisation serves a validated data directory's engine
tables (:func:`from_dataset`, what every command reads), the same tables read by Spark
(:func:`spark_tables`) and small pandas frames (:func:`from_frames`, for tests and notebooks).
"""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd

from churnkit.contract import TABLES
from churnkit.errors import DataError


def month_index(col: ibis.Value) -> ibis.Value:
    """Month index of a 'YYYY-MM[-DD]' string, a date or a timestamp column."""
    if col.type().is_string():
        return col.substr(0, 4).cast("int64") * 12 + col.substr(5, 2).cast("int64") - 1
    return col.year().cast("int64") * 12 + col.month().cast("int64") - 1


def _col(t: ibis.Table, name: str, dtype: str) -> ibis.Value:
    if name in t.columns:
        col = t[name].cast(dtype)
        if dtype == "float64":  # pandas' NaN reaches Spark as NaN, not null: unknown is null everywhere
            col = col.isnan().ifelse(ibis.null(dtype), col)
        return col
    return ibis.null(dtype)


def normalise(name: str, t: ibis.Table) -> ibis.Table:
    """Select and type the columns the builders read from table ``name``."""
    ids = {"group_id": t.group_id.cast("string")}
    if name == "billing":
        return t.select(**ids, member_id=t.member_id.cast("string"), mi=month_index(t.month),
                        charge=t.charge.cast("float64"), plan_fee=_col(t, "plan_fee", "float64"),
                        arrears=_col(t, "arrears", "float64"))
    if name == "usage":
        return t.select(**ids, member_id=t.member_id.cast("string"), mi=month_index(t.month),
                        call_count=t.call_count.cast("int64"), call_minutes=t.call_minutes.cast("float64"),
                        forwarded_calls=t.forwarded_calls.cast("int64"),
                        forwarded_offnet_calls=t.forwarded_offnet_calls.cast("int64"),
                        competitor_hotline_calls=t.competitor_hotline_calls.cast("int64"))
    if name == "groups":
        def mi_of(c):
            return month_index(t[c]) if c in t.columns else ibis.null("int64")
        return t.select(**ids, opened_mi=mi_of("opened").cast("int64"), contract_end_mi=mi_of("contract_end").cast("int64"))
    if name == "addons":
        return t.select(**ids, mi=month_index(t.date), action=t.action.cast("string"))
    if name == "complaints":
        return t.select(**ids, mi=month_index(t.date), category=t.category.cast("string"))
    if name == "intel":
        return t.select(**ids, mi=month_index(t.date), kind=t.kind.cast("string"))
    if name == "contracts":
        # start_day orders agreements that start in the same calendar month (the later start wins).
        return t.select(**ids, start_mi=month_index(t.start), end_mi=month_index(t.end), start_day=t.start.cast("date"))
    if name == "churn":
        return t.select(**ids, churn_mi=month_index(t.churn_month))
    if name == "first_active":
        return t.select(**ids, first_mi=month_index(t.first_month))
    raise KeyError(name)


REQUIRED = ("groups", "billing", "usage")
EMPTY = {
    "addons": {"group_id": "string", "mi": "int64", "action": "string"},
    "complaints": {"group_id": "string", "mi": "int64", "category": "string"},
    "intel": {"group_id": "string", "mi": "int64", "kind": "string"},
    "churn": {"group_id": "string", "churn_mi": "int64"},
}


def _empty(name: str) -> ibis.Table:
    schema = ibis.schema(EMPTY[name])
    return ibis.memtable(pd.DataFrame({c: pd.Series([], dtype=t.to_pandas()) for c, t in schema.items()}), schema=schema)


def _memtable(frame: pd.DataFrame, categories: bool = True) -> ibis.Table:
    """An Ibis memtable of ``frame``; columns are converted (on a shallow copy) only where needed.
    DuckDB reads pandas categoricals directly; other backends get plain text."""
    convert = {c: "string" for c in frame.columns
               if frame[c].dtype == object or (not categories and isinstance(frame[c].dtype, pd.CategoricalDtype))}
    convert.update({c: "datetime64[us]" for c in frame.columns if str(frame[c].dtype).startswith("datetime64")})
    if convert:
        frame = frame.copy(deep=False)
        for col, dtype in convert.items():
            frame[col] = frame[col].astype(dtype)
    return ibis.memtable(frame)


def from_frames(frames: dict[str, pd.DataFrame], categories: bool = True) -> dict[str, ibis.Table | None]:
    """Normalised Ibis tables from validated pandas frames. An absent or empty optional event or
    churn table becomes an empty table; an absent or empty contracts table is None (the signals
    then read groups.contract_end)."""
    out: dict[str, ibis.Table | None] = {}
    for name in TABLES:
        frame = frames.get(name)
        if frame is not None and (len(frame) or name in REQUIRED):
            out[name] = normalise(name, _memtable(frame, categories))
        elif name in REQUIRED:
            raise DataError(f"table {name!r} is required")
        else:
            out[name] = _empty(name) if name in EMPTY else None
    first = frames.get("first_active")  # each group's first active month, when billing holds a window only
    if first is not None:
        out["first_active"] = normalise("first_active", _memtable(first, categories))
    return out


def from_dataset(dataset, con=None) -> dict[str, ibis.Table | None]:
    """Normalised Ibis tables over a validated :class:`~churnkit.validate.Dataset`'s engine tables
    (billing and usage within its window). With a window, ``first_active`` holds each group's
    first billing month over the whole data directory, so tenure does not start at the window."""
    con = con or dataset.con
    out: dict[str, ibis.Table | None] = {}
    for name in TABLES:
        if dataset.has(name):
            out[name] = normalise(name, dataset.typed(name))
        elif name in REQUIRED:
            raise DataError(f"table {name!r} is required")
        else:
            out[name] = _empty(name) if name in EMPTY else None
    if dataset.window is not None:
        # a view (Ibis 12's con.sql needs fetch_arrow_table, gone from DuckDB 2 connections)
        dataset.db.execute("CREATE OR REPLACE TEMP VIEW first_active AS SELECT group_id, min(month) AS first_month "
                           "FROM all_billing WHERE month IS NOT NULL GROUP BY group_id").fetchall()
        out["first_active"] = normalise("first_active", con.table("first_active"))
    return out


def spark_tables(dataset, con) -> dict[str, ibis.Table | None]:
    """The dataset's typed tables in scope, written once by DuckDB as parquet into its spill
    folder and read back by Spark (a local session reads local files; a cluster needs that
    folder on shared storage)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="churnkit-spark-", dir=dataset.spill))
    out: dict[str, ibis.Table | None] = {}
    tables = dict.fromkeys(TABLES)
    for name in TABLES:
        if dataset.has(name):
            path = folder / f"{name}.parquet"
            dataset.db.execute(f"COPY (SELECT * EXCLUDE (__source__) FROM typed_{name}) TO '{path}' (FORMAT parquet)")
            tables[name] = con.read_parquet(str(path))
    if dataset.window is not None:
        path = folder / "first_active.parquet"
        dataset.db.execute(f"COPY (SELECT group_id, min(month) AS first_month FROM all_billing WHERE month IS NOT NULL "
                           f"GROUP BY group_id) TO '{path}' (FORMAT parquet)")
        out["first_active"] = normalise("first_active", con.read_parquet(str(path)))
    for name, table in tables.items():
        if table is not None:
            out[name] = normalise(name, table)
        elif name in REQUIRED:
            raise DataError(f"table {name!r} is required")
        else:
            out[name] = _empty(name) if name in EMPTY else None
    return out


__all__ = ["from_dataset", "from_frames", "month_index", "normalise", "spark_tables"]
