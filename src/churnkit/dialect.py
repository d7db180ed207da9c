"""Where DuckDB's SQL and Spark SQL spell a thing differently, and DuckDB's spelling.

The typed views (:mod:`churnkit.typed`) and the data contract's rules (:mod:`churnkit.checks`)
are one text on both engines (identifiers double-quoted: churnkit's Spark session sets ANSI
quoting). The few forms that differ (the text type, reading a date out of text, a date as
``YYYY-MM``, a well-formed month test, a 64-bit hash, a scratch table, a distinct list) come from
a :class:`Dialect`: :data:`DUCKDB` here, ``SPARK`` in :mod:`churnkit.spark.dialect`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    """The SQL forms one engine spells its own way (each callable takes and returns SQL)."""

    text: str  # the text type, as the engine names it in a schema
    numeric: tuple[str, ...]  # number types as the engine names them (DECIMAL(p, s) always counts)
    day: Callable[[str], str]  # the first ten characters of a text read as YYYY-MM-DD, else NULL
    month_of: Callable[[str], str]  # a date or timestamp as YYYY-MM text
    is_month: Callable[[str], str]  # a trimmed text is a well-formed YYYY-MM
    hash: str  # a function hashing its arguments to 64 bits
    keep: str  # statement keeping the rows of {query} as the scratch table {name}
    drop: str  # statement discarding the scratch table {name}
    distinct_list: Callable[[str], str]  # the distinct values of an expression as one list


def _duckdb_is_month(s: str) -> str:
    # plain string tests, three times cheaper than a regular expression on 300 M rows
    digit = [f"substr({s}, {i}, 1) BETWEEN '0' AND '9'" for i in (1, 2, 3, 4, 6, 7)]
    return f"length({s}) = 7 AND substr({s}, 5, 1) = '-' AND {' AND '.join(digit)} AND substr({s}, 6, 2) BETWEEN '01' AND '12'"


DUCKDB = Dialect(
    text="VARCHAR",
    numeric=("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
             "FLOAT", "DOUBLE", "REAL"),
    day=lambda text: f"TRY_STRPTIME(substr({text}, 1, 10), '%Y-%m-%d')",
    month_of=lambda value: f"strftime({value}, '%Y-%m')",
    is_month=_duckdb_is_month,
    hash="hash",
    keep="CREATE OR REPLACE TEMP TABLE {name} AS {query}",
    drop="DROP TABLE IF EXISTS {name}",
    distinct_list=lambda value: f"list(DISTINCT {value})",
)
