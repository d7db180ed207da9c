"""Build the signal table for one or more scoring months, on DuckDB (default) or Spark."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import ibis
import pandas as pd

from churnkit.errors import UsageError
from churnkit.months import format_month
from churnkit.signals.frame import wide
from churnkit.signals.registry import SIGNALS, Settings
from churnkit.signals.sources import from_frames, scan_parquet

ENGINES = ("duckdb", "spark")


def connect(engine: str = "duckdb"):
    """An Ibis backend: in-process DuckDB, or Spark (local mode unless a session is configured)."""
    if engine == "duckdb":
        return ibis.duckdb.connect()
    if engine == "spark":
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        # Spark's Python workers must run this interpreter (the venv with pandas), not `python3` on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        from pyspark.sql import SparkSession

        session = (
            SparkSession.builder.appName("churnkit")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        return ibis.pyspark.connect(session)
    raise UsageError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def signal_expr(tables: dict, months: list[int], settings: Settings | None = None) -> ibis.Table:
    """The Ibis expression of the signal table: group_id, month, then every registered signal."""
    settings = settings or Settings()
    w = wide(tables, sorted(set(months)), settings)
    cols = {name: sig.func(w, settings) for name, sig in SIGNALS.items()}
    return w.select(group_id=w.group_id, mi=w.mi, **cols)


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
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
    return _finish(con.execute(expr))


def build_signals_from_parquet(data_dir: Path, months: list[int], settings: Settings | None = None,
                               con=None) -> pd.DataFrame:
    """Signals computed by scanning a parquet data directory in place (no pandas load of inputs)."""
    con = con or connect("duckdb")
    expr = signal_expr(scan_parquet(con, data_dir), months, settings)
    return _finish(con.execute(expr))
