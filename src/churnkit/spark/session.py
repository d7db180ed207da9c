"""The Spark session churnkit runs in, and plain SQL on it.

Under ``spark-submit`` (YARN, Kubernetes, a standalone master) the session is the one the
submitter configured; run as a plain command, :func:`session` starts local mode. Either way
churnkit sets only what its SQL needs: UTC, and double-quoted identifiers (ANSI SQL), so the data
contract's rules (:mod:`churnkit.checks`) are the same text on DuckDB and on Spark.

:class:`SparkSQL` gives the rules the two calls they make of a DuckDB connection,
``execute(sql).fetchall()``, so :func:`churnkit.checks.count_rules` and
:func:`churnkit.checks.examples` run on Spark unchanged.
"""

from __future__ import annotations

import os
import sys


def session():
    """The active Spark session, or a new one (local mode unless ``spark-submit`` or
    ``SPARK_MASTER`` says otherwise), set up for churnkit's SQL."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is None:
        builder = SparkSession.builder.appName("churnkit").config("spark.ui.showConsoleProgress", "false")
        if os.environ.get("SPARK_MASTER"):
            builder = builder.master(os.environ["SPARK_MASTER"])
        active = builder.getOrCreate()
        active.sparkContext.setLogLevel("ERROR")
    if not active.sparkContext.getConf().contains("spark.sql.shuffle.partitions"):
        # Spark's default of 200 shuffle partitions costs seconds per query on a small cluster; a
        # cluster that sets its own keeps it
        active.conf.set("spark.sql.shuffle.partitions", str(max(4, 2 * active.sparkContext.defaultParallelism)))
    active.conf.set("spark.sql.session.timeZone", "UTC")
    active.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")  # toPandas of the training panel
    active.conf.set("spark.sql.ansi.enabled", "true")
    active.conf.set("spark.sql.ansi.doubleQuotedIdentifiers", "true")
    return active


def ibis_backend(spark):
    """Ibis over ``spark``, for the signal expressions."""
    import ibis

    return ibis.pyspark.connect(spark)


def dataframe(con, expr):
    """An Ibis expression as a Spark DataFrame (lazy: nothing runs until an action)."""
    con._run_pre_execute_hooks(expr)
    return con._session.sql(con.compile(expr))


class _Rows:
    def __init__(self, rows):
        self._rows = rows

    def fetchall(self) -> list[tuple]:
        return self._rows


class SparkSQL:
    """``execute(sql).fetchall()`` on a Spark session: rows as tuples."""

    def __init__(self, spark):
        self.spark = spark

    def execute(self, sql: str, params=None) -> _Rows:
        if params:
            raise TypeError("SparkSQL takes no parameters; inline literals")
        return _Rows([tuple(row) for row in self.spark.sql(sql).collect()])

    def sql(self, sql: str):
        return self.spark.sql(sql)
