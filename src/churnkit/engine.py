"""The engines a data directory opens on: in-process DuckDB (default) or Spark, through Ibis.

DuckDB gets a memory limit and a spill folder, so a month bigger than memory spills to disk
instead of failing. Both are settings with defaults, overridable by option or environment:

- ``CHURNKIT_MEMORY_LIMIT`` (``--memory-limit``): DuckDB's memory limit, e.g. ``2GB``; default
  ``1GB``, enough for a province on one machine with the rest of the process.
- ``CHURNKIT_TEMP_DIR`` (``--temp-dir``): where DuckDB spills; default ``churnkit-spill`` in the
  system's temporary folder.
- ``CHURNKIT_THREADS`` (``--threads``): worker threads; default every core.
- ``CHURNKIT_CACHE_DIR``: where the record of passed checks is kept (see
  :mod:`churnkit.checked`); default ``churnkit`` in ``XDG_CACHE_HOME`` or ``~/.cache``; ``off``
  keeps none.

Nothing is read from the environment at import time: :meth:`EngineSettings.from_env` does it
when a command asks.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import ibis

from churnkit.errors import UsageError

ENGINES = ("duckdb", "spark")
DEFAULT_MEMORY_LIMIT = "1GB"
_SIZE = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class EngineSettings:
    """How the engine may use the machine."""

    memory_limit: str = DEFAULT_MEMORY_LIMIT
    temp_dir: Path | None = None
    threads: int | None = None
    cache_dir: Path | None = None  # the record of passed checks (None: every load checks every row)

    @classmethod
    def from_env(cls, memory_limit: str | None = None, temp_dir: Path | None = None,
                 threads: int | None = None, environ=None) -> "EngineSettings":
        """Options first, then ``CHURNKIT_*`` environment variables, then the defaults."""
        env = os.environ if environ is None else environ
        limit = memory_limit or env.get("CHURNKIT_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
        if not _SIZE.match(str(limit)):
            raise UsageError(f"memory limit {limit!r} is not a size; write it like 2GB or 500MB")
        folder = temp_dir or (Path(env["CHURNKIT_TEMP_DIR"]) if env.get("CHURNKIT_TEMP_DIR") else None)
        count = threads if threads is not None else (int(env["CHURNKIT_THREADS"]) if env.get("CHURNKIT_THREADS") else None)
        if count is not None and count < 1:
            raise UsageError(f"threads must be at least 1, not {count}")
        return cls(str(limit).replace(" ", ""), Path(folder) if folder else None, count, _cache_dir(env))

    def spill_folder(self) -> Path:
        return Path(self.temp_dir) if self.temp_dir else Path(tempfile.gettempdir()) / "churnkit-spill"

    def with_limit(self, memory_limit: str) -> "EngineSettings":
        return replace(self, memory_limit=memory_limit)


def _cache_dir(env) -> Path | None:
    value = env.get("CHURNKIT_CACHE_DIR")
    if value is None:
        base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "churnkit"
    return None if value.strip().lower() in ("", "off", "none") else Path(value)


def connect(engine: str = "duckdb", settings: EngineSettings | None = None):
    """An Ibis backend: in-process DuckDB with its memory limit and spill folder, or Spark (local
    mode unless a session is already configured)."""
    settings = settings or EngineSettings()
    if engine == "duckdb":
        folder = settings.spill_folder()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"temp dir {folder}: cannot create it ({exc.strerror}); pass another --temp-dir") from None
        con = ibis.duckdb.connect()
        raw = con.con
        raw.execute(f"SET memory_limit = '{settings.memory_limit}'")
        raw.execute(f"SET temp_directory = '{str(folder).replace(chr(39), chr(39) * 2)}'")
        raw.execute("SET preserve_insertion_order = false")
        if settings.threads:
            raw.execute(f"SET threads = {int(settings.threads)}")
        return con
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


def duckdb_of(con):
    """The raw DuckDB connection behind an Ibis DuckDB backend."""
    return con.con


def record_batches(con, expr, batch_size: int = 100_000):
    """Stream an Ibis expression's rows as Arrow record batches.

    Ibis 12's ``to_pyarrow_batches`` calls ``fetch_record_batch``, which DuckDB 2 removed from
    execute results; on DuckDB the compiled SQL is streamed with ``to_arrow_reader`` instead."""
    if con.name == "duckdb":
        return con.con.sql(str(con.compile(expr))).to_arrow_reader(batch_size)
    return con.to_pyarrow_batches(expr, chunk_size=batch_size)


MemoryError_ = duckdb.OutOfMemoryException


def out_of_memory(exc: Exception) -> str:
    """One line for a DuckDB out-of-memory failure: what happened and the two ways out."""
    first = str(exc).splitlines()[0] if str(exc) else "out of memory"
    return (f"the engine ran out of memory ({first}); raise --memory-limit (or CHURNKIT_MEMORY_LIMIT), "
            "and give --temp-dir (or CHURNKIT_TEMP_DIR) a folder with free space to spill to")
