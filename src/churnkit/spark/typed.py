"""The typed view's select list in Spark SQL: :mod:`churnkit.typed` for Spark.

The same columns as on DuckDB (typed values, ``__bad_<col>`` flags for values present but
unreadable, ``__num_<col>`` for the whole-number check), so the data contract's rules in
:mod:`churnkit.checks` read them unchanged. Months are ``YYYY-MM`` text, dates DATE, numbers
DOUBLE or BIGINT, identifiers and text STRING with an empty cell read as missing.
"""

from __future__ import annotations

from churnkit.contract import Column
from churnkit.typed import is_float, q

NUMERIC = ("TINYINT", "SMALLINT", "INT", "BIGINT", "FLOAT", "DOUBLE")


def _numeric(sql_type: str) -> bool:
    t = sql_type.upper()
    return t in NUMERIC or t.startswith("DECIMAL")


def _dated(sql_type: str) -> bool:
    return sql_type.upper().startswith(("DATE", "TIMESTAMP"))


def present(column: str, sql_type: str) -> str:
    """The value is there (not null, not NaN, not blank text)."""
    c = q(column)
    if is_float(sql_type):
        return f"({c} IS NOT NULL AND NOT isnan({c}))"
    if _numeric(sql_type) or _dated(sql_type):
        return f"({c} IS NOT NULL)"
    return f"({c} IS NOT NULL AND trim(CAST({c} AS STRING)) <> '')"


def _day(text: str) -> str:
    return f"try_to_timestamp(substr({text}, 1, 10), 'yyyy-MM-dd')"


def _month(c: str, sql_type: str) -> str:
    if _dated(sql_type):
        return f"CASE WHEN day({c}) = 1 THEN date_format({c}, 'yyyy-MM') END"
    s = f"trim(CAST({c} AS STRING))"
    return (f"CASE WHEN {s} RLIKE '^[0-9]{{4}}-(0[1-9]|1[0-2])$' THEN {s} "
            f"WHEN day({_day(s)}) = 1 THEN date_format({_day(s)}, 'yyyy-MM') END")


def _date(c: str, sql_type: str) -> str:
    t = sql_type.upper()
    if t == "DATE":
        return c
    if t.startswith("TIMESTAMP"):
        return f"CAST({c} AS DATE)"
    return f"CAST({_day(f'trim(CAST({c} AS STRING))')} AS DATE)"


def _number(c: str, sql_type: str) -> str:
    if is_float(sql_type):
        return f"CASE WHEN isnan({c}) THEN NULL ELSE CAST({c} AS DOUBLE) END"
    if _numeric(sql_type):
        return f"CAST({c} AS DOUBLE)"
    return f"try_cast(trim(CAST({c} AS STRING)) AS DOUBLE)"


def typed(col: Column, sql_type: str) -> str:
    """The typed value of contract column ``col`` stored as ``sql_type``."""
    c = q(col.name)
    if col.kind in ("id", "text"):
        if sql_type.upper() == "STRING":
            return f"NULLIF({c}, '')"
        if is_float(sql_type):
            return f"CASE WHEN isnan({c}) THEN NULL ELSE CAST({c} AS STRING) END"
        return f"CAST({c} AS STRING)"
    if col.kind == "month":
        return _month(c, sql_type)
    if col.kind == "date":
        return _date(c, sql_type)
    return _number(c, sql_type)


def select_list(columns: list[Column], types: dict[str, str]) -> list[str]:
    """The typed view's select list, as :func:`churnkit.typed.select_list` builds it for DuckDB."""
    items = []
    for col in columns:
        if col.name not in types:
            continue
        sql_type = types[col.name]
        value = typed(col, sql_type)
        if col.kind == "int":
            items.append(f"{value} AS {q('__num_' + col.name)}")
            items.append(f"CAST(round({value}) AS BIGINT) AS {q(col.name)}")
        else:
            items.append(f"{value} AS {q(col.name)}")
        if col.kind in ("month", "date", "float", "int"):
            items.append(f"({present(col.name, sql_type)} AND ({value}) IS NULL) AS {q('__bad_' + col.name)}")
    return items
