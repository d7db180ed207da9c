"""SQL that types the columns of a raw table view as the data contract says, in the engine.

Each contract column becomes a typed value and, for months, dates and numbers, a flag marking a
value that was present but unreadable (so it is reported as unreadable, not as empty). Months are
``YYYY-MM`` text, dates are DATE, numbers DOUBLE or BIGINT, identifiers and text the engine's
text type with an empty cell read as missing. Floating NaN is missing, as pandas has it. One text
for DuckDB and Spark: where their SQL differs it comes from a :class:`~churnkit.dialect.Dialect`.
"""

from __future__ import annotations

from churnkit.contract import Column
from churnkit.dialect import DUCKDB, Dialect

FLOATS = ("FLOAT", "DOUBLE", "REAL")


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def _is(sql_type: str, kinds) -> bool:
    t = sql_type.upper()
    return t in kinds or t.startswith("DECIMAL")


def is_float(sql_type: str) -> bool:
    return sql_type.upper() in FLOATS


def _dated(sql_type: str) -> bool:
    return sql_type.upper().startswith(("DATE", "TIMESTAMP"))


def present(column: str, sql_type: str, dialect: Dialect = DUCKDB) -> str:
    """The value is there (not null, not NaN, not blank text)."""
    c = q(column)
    if is_float(sql_type):
        return f"({c} IS NOT NULL AND NOT isnan({c}))"
    if _is(sql_type, dialect.numeric) or _dated(sql_type):
        return f"({c} IS NOT NULL)"
    return f"({c} IS NOT NULL AND trim(CAST({c} AS {dialect.text})) <> '')"


def _month(c: str, sql_type: str, dialect: Dialect, trusted: bool = False) -> str:
    t = sql_type.upper()
    if trusted and t == dialect.text:
        # rows that passed the checks: a 7-character value can only be a well-formed YYYY-MM (a
        # date needs 8 or more, and trimmed blanks would leave fewer than 7), so the common case
        # costs one length test instead of eight string tests a row
        return f"CASE WHEN length({c}) = 7 THEN {c} ELSE ({_month(c, sql_type, dialect)}) END"
    if t == "DATE" or t.startswith("TIMESTAMP"):
        return f"CASE WHEN day({c}) = 1 THEN {dialect.month_of(c)} END"
    s = f"trim(CAST({c} AS {dialect.text}))"
    d = dialect.day(s)
    return f"CASE WHEN {dialect.is_month(s)} THEN {s} WHEN day({d}) = 1 THEN {dialect.month_of(d)} END"


def _date(c: str, sql_type: str, dialect: Dialect) -> str:
    t = sql_type.upper()
    if t == "DATE":
        return c
    if t.startswith("TIMESTAMP"):
        return f"CAST({c} AS DATE)"
    return f"CAST({dialect.day(f'trim(CAST({c} AS {dialect.text}))')} AS DATE)"


def _number(c: str, sql_type: str, dialect: Dialect) -> str:
    if is_float(sql_type):
        return f"CASE WHEN isnan({c}) THEN NULL ELSE CAST({c} AS DOUBLE) END"
    if _is(sql_type, dialect.numeric):
        return f"CAST({c} AS DOUBLE)"
    return f"TRY_CAST(trim(CAST({c} AS {dialect.text})) AS DOUBLE)"


def typed(col: Column, sql_type: str, trusted: bool = False, dialect: Dialect = DUCKDB) -> str:
    """The typed value of contract column ``col`` stored as ``sql_type`` (before range checks);
    ``trusted``: the rows passed the contract's checks before (cheaper forms, same values)."""
    c = q(col.name)
    if col.kind in ("id", "text"):
        if sql_type.upper() == dialect.text:
            return f"NULLIF({c}, '')"
        if is_float(sql_type):
            return f"CASE WHEN isnan({c}) THEN NULL ELSE CAST({c} AS {dialect.text}) END"
        return f"CAST({c} AS {dialect.text})"
    if col.kind == "month":
        return _month(c, sql_type, dialect, trusted)
    if col.kind == "date":
        return _date(c, sql_type, dialect)
    return _number(c, sql_type, dialect)


def select_list(columns: list[Column], types: dict[str, str], trusted: bool = False,
                dialect: Dialect = DUCKDB) -> tuple[list[str], list[str]]:
    """The typed view's select list (typed values, ``__bad_<col>`` flags, raw numbers for the
    whole-number check) and the names of the flags."""
    items, flags = [], []
    for col in columns:
        if col.name not in types:
            continue
        sql_type = types[col.name]
        value = typed(col, sql_type, trusted, dialect)
        if col.kind == "int":
            items.append(f"{value} AS {q('__num_' + col.name)}")
            items.append(f"CAST(round({value}) AS BIGINT) AS {q(col.name)}")
        else:
            items.append(f"{value} AS {q(col.name)}")
        if col.kind in ("month", "date", "float", "int"):
            flag = f"__bad_{col.name}"
            items.append(f"({present(col.name, sql_type, dialect)} AND ({value}) IS NULL) AS {q(flag)}")
            flags.append(flag)
    return items, flags
