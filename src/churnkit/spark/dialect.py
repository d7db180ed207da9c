"""Spark SQL's spelling of the forms :class:`churnkit.dialect.Dialect` names.

With it the typed views (:func:`churnkit.typed.select_list`) and the data contract's rules
(:mod:`churnkit.checks`) are built on Spark from the same text as on DuckDB: the same columns
(typed values, ``__bad_<col>`` flags for values present but unreadable, ``__num_<col>`` for the
whole-number check), months ``YYYY-MM`` text, dates DATE, numbers DOUBLE or BIGINT, identifiers
and text STRING with an empty cell read as missing.
"""

from __future__ import annotations

from churnkit.dialect import Dialect

SPARK = Dialect(
    text="STRING",
    numeric=("TINYINT", "SMALLINT", "INT", "BIGINT", "FLOAT", "DOUBLE"),
    day=lambda text: f"try_to_timestamp(substr({text}, 1, 10), 'yyyy-MM-dd')",
    month_of=lambda value: f"date_format({value}, 'yyyy-MM')",
    is_month=lambda s: f"{s} RLIKE '^[0-9]{{4}}-(0[1-9]|1[0-2])$'",
    hash="xxhash64",
    # a temporary view of the rows, cached; dropping the view uncaches it
    keep="CACHE TABLE {name} AS {query}",
    drop="DROP VIEW IF EXISTS {name}",
    distinct_list=lambda value: f"collect_set({value})",
)
