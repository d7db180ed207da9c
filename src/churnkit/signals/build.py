"""Build the signal table for one or more scoring months, on DuckDB (default) or Spark."""

from __future__ import annotations

import contextlib

import ibis
import pandas as pd

from churnkit.engine import connect
from churnkit.months import format_month
from churnkit.signals.frame import base, wide
from churnkit.signals.registry import SIGNALS, Settings
from churnkit.signals.sources import from_dataset, from_frames, spark_tables

def signal_expr(tables: dict, months: list[int], settings: Settings | None = None, keep=None, based=None) -> ibis.Table:
    """The Ibis expression of the signal table: group_id, month, then every registered signal."""
    settings = settings or Settings()
    w = wide(tables, sorted(set(months)), settings, keep, based)
    cols = {name: sig.func(w, settings) for name, sig in SIGNALS.items()}
    return w.select(group_id=w.group_id, mi=w.mi, **cols)


def finish(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_values(["mi", "group_id"], kind="stable").reset_index(drop=True)
    frame.insert(1, "month", frame.pop("mi").map(format_month))
    frame["group_id"] = frame["group_id"].astype(str)
    for name, sig in SIGNALS.items():
        frame[name] = frame[name].astype("Int64" if sig.kind == "int" else "float64")
    return frame[["group_id", "month", *SIGNALS]]


def build_signals(frames: dict[str, pd.DataFrame], months: list[int], settings: Settings | None = None,
                  engine: str = "duckdb", con=None) -> pd.DataFrame:
    """Signals for every scored group and each month index in ``months`` from validated frames."""
    con = con or connect(engine)
    # DuckDB reads pandas categoricals as they are; other backends get them as text
    expr = signal_expr(from_frames(frames, categories=con.name == "duckdb"), months, settings)
    return finish(con.execute(expr))


@contextlib.contextmanager
def stored(con, prefix: str = "__signals"):
    """A ``keep`` for :func:`churnkit.signals.frame.wide` on DuckDB: each intermediate table is
    computed once into a temporary table (DuckDB spills those to disk under its memory limit)
    and dropped afterwards."""
    names: list[str] = []

    def keep(table: ibis.Table) -> ibis.Table:
        name = f"{prefix}_{len(names)}"
        names.append(name)
        return con.create_table(name, table, temp=True, overwrite=True)

    try:
        yield keep
    finally:
        for name in names:
            con.con.execute(f"DROP TABLE IF EXISTS {name}").fetchall()


def signals_of(dataset, months: list[int], settings: Settings | None = None, engine: str = "duckdb",
               con=None) -> pd.DataFrame:
    """Signals for every scored group and each month index in ``months``, computed in the engine
    from a validated dataset's tables; only the group-level result comes back. With
    ``engine="spark"`` Spark reads the dataset's tables in scope from parquet (see
    :func:`churnkit.signals.sources.spark_tables`); nothing passes through the driver."""
    if engine == "duckdb":
        return list(signals_in_parts(dataset, [months], settings))[0]
    con = con or connect(engine)
    return finish(con.execute(signal_expr(spark_tables(dataset, con), months, settings)))


def signals_in_parts(dataset, parts: list[list[int]], settings: Settings | None = None, engine: str = "duckdb"):
    """:func:`signals_of` for each list of months in ``parts``, one frame per part as it is
    built (so that memory holds one part's signals at a time). On DuckDB the monthly aggregates
    of billing and usage are computed once for all parts: one pass over the line tables,
    however many parts."""
    if engine != "duckdb":
        for months in parts:
            yield signals_of(dataset, months, settings, engine)
        return
    settings = settings or Settings()
    with stored_signals(dataset, settings) as expr_of:
        for months in parts:
            with expr_of(months) as (tables, expr):
                yield finish(dataset.con.execute(expr))


@contextlib.contextmanager
def stored_signals(dataset, settings: Settings):
    """On DuckDB: ``expr_of(months)``, a context giving the dataset's tables and the signal
    expression of ``months`` built over monthly aggregates of billing and usage stored once (and
    each month's intermediate tables stored while its context is open). One query over the raw
    line tables for many months holds far more than the engine's memory limit at province scale;
    stored tables spill to disk instead."""
    con = dataset.con
    tables = from_dataset(dataset)
    with stored(con, "__signals_base") as keep_base:
        based = base(tables, settings, keep_base)

        @contextlib.contextmanager
        def expr_of(months: list[int]):
            with stored(con) as keep:
                yield tables, signal_expr(tables, months, settings, keep, based)

        yield expr_of
