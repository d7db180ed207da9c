"""The data contract's rules as engine aggregates over the typed views of a data directory.

Every rule of one table is counted in a single scan of that table (``count_if`` per rule, and
the link to ``groups`` joined in the same pass); duplicate keys take one grouped pass; usage
without billing one anti-join; churned groups still billed one aggregate of billing. Only a rule
that fails is queried again, for its first offending keys and the files they come from. So a
valid province costs a few scans of each line table, and nothing but counts and a handful of
keys ever comes back to Python.

One rule runner (:func:`check_rows`) for DuckDB and Spark: it asks of the engine only
``execute(sql).fetchall()``, and takes the few SQL forms that differ from a
:class:`~churnkit.dialect.Dialect`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pandas as pd

from churnkit.contract import EVENT_TABLES, TABLES, TableSpec
from churnkit.dialect import DUCKDB, Dialect
from churnkit.io import SOURCE_COLUMN
from churnkit.typed import q

EXAMPLES = 3
LINE_TABLES = ("billing", "usage")

FIXES = {
    "ge": "values must be >= {ge}; correct the export",
    "isin": "allowed values are {isin}",
    "not_nullable": "the column may not be empty; fill it or drop the rows",
    "unique": "each key may appear once; remove the duplicated rows (conflicting copies must be resolved at the source)",
    "type": "store numbers as numbers (no text, units or thousands separators)",
    "month": "write months as YYYY-MM or a date on the first of the month",
    "date": "write dates as ISO dates (YYYY-MM-DD)",
    "integer": "counts must be whole numbers",
}
UNREADABLE = {"month": ("are not months", "month"), "date": ("are not dates", "date"),
              "float": ("are not numbers", "type"), "int": ("are not numbers", "type")}


@dataclass
class Problem:
    table: str
    column: str
    what: str
    count: int
    examples: list[str]
    fix: str
    files: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        where = f" in {', '.join(self.files[:2])}" if self.files else ""
        eg = f" (e.g. {'; '.join(self.examples)})" if self.examples else ""
        return f"{self.table}.{self.column}: {self.count} row(s) {self.what}{where}{eg}; fix: {self.fix}"


@dataclass
class Rule:
    """One rule of one table: a SQL condition on its typed view and the message if rows meet it."""

    column: str
    condition: str
    what: str
    fix: str
    order: tuple = ()  # where the problem goes in the list (range, set and emptiness checks by column)


def example_keys(spec: TableSpec, columns) -> list[str]:
    keys = [c for c in (spec.key or ("group_id",)) if c in columns]
    if "group_id" in columns and "group_id" not in keys:
        keys.append("group_id")
    return keys


def examples(db, view: str, spec: TableSpec, columns, condition: str, count: int) -> tuple[list[str], list[str]]:
    """The first offending keys (in file order, then key order) and the files holding offending rows."""
    keys = example_keys(spec, columns)
    shown = []
    if keys:
        cols = ", ".join(q(k) for k in keys)
        rows = db.execute(f"SELECT {cols} FROM (SELECT {cols}, min({SOURCE_COLUMN}) AS s FROM {view} WHERE {condition} "
                          f"GROUP BY ALL) ORDER BY s, {cols} LIMIT {EXAMPLES}").fetchall()
        shown = [" ".join(f"{k}={_show(v)}" for k, v in zip(keys, row)) for row in rows]
    files = [r[0] for r in db.execute(f"SELECT DISTINCT {SOURCE_COLUMN} FROM {view} WHERE {condition} "
                                      f"ORDER BY 1 LIMIT 2").fetchall() if r[0] is not None]
    return shown, files


def _show(value) -> str:
    if value is None:
        return "<NA>"
    if hasattr(value, "strftime") and not isinstance(value, str):
        return f"{value:%Y-%m-%d}"
    return str(value)


def column_rules(spec: TableSpec, types: dict[str, str]) -> list[Rule]:
    """Typing and schema rules of a table's present columns, in the order they are reported:
    unreadable values column by column, then range, set and emptiness checks by column name."""
    from churnkit.typed import is_float

    rules, schema = [], []
    for col in spec.columns:
        if col.name not in types:
            continue
        c = q(col.name)
        if col.kind == "id" and is_float(types[col.name]):
            rules.append(Rule(col.name, f"{c} IS NOT NULL", "stored as floating-point numbers, which lose digits of long ids",
                              "store identifiers as text"))
        if col.kind in UNREADABLE:
            what, fix = UNREADABLE[col.kind]
            rules.append(Rule(col.name, q(f"__bad_{col.name}"), what, FIXES[fix]))
        if col.kind == "int":
            num = q(f"__num_{col.name}")
            rules.append(Rule(col.name, f"{num} IS NOT NULL AND {num} <> round({num})", "are not whole numbers",
                              FIXES["integer"]))
        if col.ge is not None:
            schema.append(Rule(col.name, f"{c} < {col.ge}", f"are below {col.ge:g}", FIXES["ge"].format(ge=col.ge),
                               (col.name, "greater_than_or_equal_to")))
        if col.isin is not None:
            allowed = ", ".join("'" + v + "'" for v in col.isin)
            schema.append(Rule(col.name, f"{c} IS NOT NULL AND {c} NOT IN ({allowed})", "hold values outside the allowed set",
                               FIXES["isin"].format(isin=", ".join(col.isin)), (col.name, "isin")))
        if not col.nullable:
            bad = f" AND NOT {q('__bad_' + col.name)}" if col.kind in UNREADABLE else ""
            schema.append(Rule(col.name, f"{c} IS NULL{bad}", "are empty", FIXES["not_nullable"], (col.name, "not_nullable")))
    return rules + sorted(schema, key=lambda r: r.order)


def link_rules(spec: TableSpec, types: dict[str, str], groups_ok: bool, last_day: str | None) -> list[Rule]:
    """Rules that look beyond the row: unknown groups, off-net above all forwards, late events."""
    rules = []
    if groups_ok and spec.fk_groups and "group_id" in types:
        rules.append(Rule("group_id", "group_id IS NOT NULL AND __known IS NULL", "name groups not in table groups",
                          "add the groups to groups or drop the rows"))
    if spec.name == "usage" and {"forwarded_offnet_calls", "forwarded_calls"} <= set(types):
        rules.append(Rule("forwarded_offnet_calls", "forwarded_offnet_calls > forwarded_calls", "exceed forwarded_calls",
                          "off-net forwards are a part of all forwards; correct the counts"))
    if spec.name in EVENT_TABLES and last_day is not None and "date" in types:
        rules.append(Rule("date", f"date > DATE '{last_day}'", f"are dated after the last billing month {last_day[:7]}",
                          "events cannot be later than the data export; correct the dates"))
    return rules


def count_rules(db, view: str, rules: list[Rule]) -> list[int]:
    """Every rule counted in one scan of ``view``."""
    if not rules:
        return []
    counts = ", ".join(f"count_if({r.condition})" for r in rules)
    return [int(v or 0) for v in db.execute(f"SELECT {counts} FROM {view}").fetchall()[0]]


def duplicate_problems(db, view: str, spec: TableSpec, columns: list[str], dialect: Dialect = DUCKDB) -> list[Problem]:
    """Rows sharing a key: keys whose copies are all alike (identical) apart from keys whose copies differ."""
    key = ", ".join(q(k) for k in spec.key)
    body = ", ".join(q(c) for c in columns)
    row = f"{dialect.hash}({body})"
    stats = f"""
        SELECT {key}, count(*) AS n, CASE WHEN min({row}) = max({row}) THEN 1 ELSE 2 END AS variants
        FROM {view} GROUP BY {key} HAVING count(*) > 1"""
    db.execute(dialect.keep.format(name="__dups", query=stats))
    out = []
    try:
        for kind, test in (("identical", "variants = 1"), ("conflicting", "variants > 1")):
            n = db.execute(f"SELECT coalesce(sum(n), 0) FROM __dups WHERE {test}").fetchall()[0][0]
            if not n:
                continue
            join = " AND ".join(f"t.{q(k)} IS NOT DISTINCT FROM d.{q(k)}" for k in spec.key)
            rows = f"(SELECT t.* FROM {view} t JOIN (SELECT * FROM __dups WHERE {test}) d ON {join})"
            shown, files = examples(db, rows, spec, columns, "true", int(n))
            out.append(Problem(spec.name, "+".join(spec.key), f"share a key with another row ({kind} duplicates)", int(n),
                               shown, FIXES["unique"], files))
    finally:
        db.execute(dialect.drop.format(name="__dups"))
    return out


def suspect_keys(union: str, key: str, where: str = "") -> str:
    """The aggregate of line keys behind :func:`line_key_counts`: ``union`` gives each row's
    ``key`` and its table tag ``t`` (billing 0, usage 1); counted per table, the keys held more
    than once, and the usage keys with no billing row."""
    return (f"SELECT count_if((n > 2) OR (n = 2 AND lo = 0 AND hi = 0)), count_if((n > 2) OR (n = 2 AND lo = 1)), "
            f"count_if(hi = 1 AND (n = 1 OR lo = 1 OR n > 2)) FROM "
            f"(SELECT {key}, count(*) AS n, min(t) AS lo, max(t) AS hi FROM ({union}){where} GROUP BY {key})")


def key_counts(totals: list[int], tables: list[str], passes: int) -> dict[str, int]:
    """The per-table totals of :func:`suspect_keys` by name."""
    return {"billing": totals[0], "usage": totals[1], "orphans": totals[2] if len(tables) == 2 else 0, "passes": passes}


KEY_BYTES = 16  # rows x KEY_BYTES beyond DuckDB's memory limit: the key check runs in hash ranges


def line_key_counts(db, tables: list[str], memory_bytes: float | None = None) -> dict[str, int]:
    """One aggregate over the (month, member_id) keys of billing and usage together: per table the
    keys held more than once, and the usage keys with no billing row. Keys are hashed to 64 bits
    (a clash among a province's lines is about as likely as 1 in 30,000), so a nonzero count is
    only a suspicion, confirmed by the exact queries before anything is reported.

    Each key keeps a count and the smallest and largest table tag (billing 0, usage 1): a key is
    suspect when it has more than two rows, two rows from one table, or one usage row. When the
    keys are many for DuckDB's memory limit, the key space is cut into hash ranges checked one
    after the other (each a pass over the two key columns) instead of one aggregate spilling to
    disk (measured at 200,000 groups: one pass 29 s, two 26 s, four 61 s)."""
    rows = sum(db.execute(f"SELECT count(*) FROM win_{t}").fetchall()[0][0] for t in tables)
    memory = memory_bytes or memory_limit_bytes(db)
    passes = max(1, math.ceil(rows * KEY_BYTES / memory)) if memory else 1
    parts = [f"SELECT hash(month, member_id) AS k, {int(t == 'usage')}::UTINYINT AS t FROM typed_{t}" for t in tables]
    union = " UNION ALL ".join(parts)
    totals = [0, 0, 0]
    for i in range(passes):
        where = f" WHERE k % {passes} = {i}" if passes > 1 else ""
        row = db.execute(suspect_keys(union, "k", where)).fetchall()[0]
        totals = [t + int(v or 0) for t, v in zip(totals, row)]
    return key_counts(totals, tables, passes)


_UNITS = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def memory_limit_bytes(db) -> float | None:
    """DuckDB's memory limit in bytes (it reports it as text such as '953.6 MiB')."""
    text = db.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    match = re.match(r"^\s*([\d.]+)\s*([A-Za-z]+)\s*$", str(text))
    if not match or match.group(2).upper() not in _UNITS:
        return None
    return float(match.group(1)) * _UNITS[match.group(2).upper()]


def usage_without_billing(db, usage: str, billing: str) -> tuple[int, str]:
    """Usage rows with no billing row for the same month and line: their count and the condition
    that finds them again."""
    condition = (f"NOT EXISTS (SELECT 1 FROM {billing} b WHERE b.month = u.month AND b.member_id = u.member_id)")
    n = db.execute(f"SELECT count(*) FROM {usage} u WHERE {condition}").fetchall()[0][0]
    return int(n), condition


def churned_still_billed(db, churn: str, billing: str) -> tuple[int, str]:
    """Churn rows of groups with billing on or after their churn_month."""
    late = (f"SELECT b.group_id FROM {billing} b JOIN {churn} c ON b.group_id = c.group_id "
            f"WHERE c.churn_month IS NOT NULL AND b.month >= c.churn_month")
    condition = f"group_id IN (SELECT DISTINCT group_id FROM ({late}))"
    n = db.execute(f"SELECT count(*) FROM {churn} WHERE {condition}").fetchall()[0][0]
    return int(n), condition


def check_rows(db, columns: dict[str, list[str]], types: dict[str, dict[str, str]], coverage: list[str], count_keys,
               problems: list[Problem], dialect: Dialect = DUCKDB) -> None:
    """Every row rule of the contract over the views ``typed_<name>`` of the tables in
    ``columns`` (their present contract columns; ``types``: the columns' stored types), problems
    added to ``problems`` in the contract's order. ``count_keys(db, tables)`` is the engine's
    aggregate of the line keys (:func:`line_key_counts` on DuckDB); ``coverage``, the billing
    months held. Only ``db.execute(sql).fetchall()`` is asked of ``db``."""
    groups_ok = "groups" in columns
    last_day = f"{pd.Period(coverage[-1], 'M').end_time:%Y-%m-%d}" if coverage else None
    lines = [t for t in LINE_TABLES if t in columns and {"month", "member_id"} <= set(columns[t])]
    suspects = count_keys(db, lines) if lines else {}
    suspects["churn_table"] = int("churn" in columns and "billing" in columns and "churn_month" in columns["churn"])
    links: list[Problem] = []
    for spec in TABLES.values():
        if spec.name in columns:
            links.extend(check_table(db, spec, columns[spec.name], types[spec.name], problems, groups_ok, last_day,
                                     suspects, dialect))
        if spec.name == "groups":
            groups_ok = groups_ok and not any(p.table == "groups" and p.column == "group_id" for p in problems)
    problems.extend(cross_table(db, columns, links, suspects.get("orphans", 1), suspects.get("churned_billed", 1)))


def check_table(db, spec: TableSpec, columns: list[str], types: dict[str, str], problems: list[Problem], groups_ok: bool,
                last_day: str | None, suspects: dict[str, int], dialect: Dialect = DUCKDB) -> list[Problem]:
    """Column and link rules of one table, counted in one scan; returns its link problems
    (reported after every table's own problems)."""
    view = f"typed_{spec.name}"
    types = {c: types[c] for c in columns}
    own = column_rules(spec, types)
    links = link_rules(spec, types, groups_ok and spec.name != "groups", last_day)
    joins, extra = [], []
    if any(r.condition.endswith("__known IS NULL") for r in links):
        joins.append("LEFT JOIN (SELECT DISTINCT group_id AS __known FROM typed_groups) g ON t.group_id = g.__known")
    if spec.name == "billing" and suspects.get("churn_table"):
        # billed on or after the group's churn month: counted in this same scan, named exactly later
        joins.append("LEFT JOIN (SELECT group_id AS __cg, churn_month AS __cm FROM typed_churn) c ON t.group_id = c.__cg")
        extra.append("__cm IS NOT NULL AND month IS NOT NULL AND month >= __cm")
    picked = ", ".join(["t.*", *(["g.__known"] if any("__known" in j for j in joins) else []),
                        *(["c.__cm"] if extra else [])])
    source = f"(SELECT {picked} FROM {view} t {' '.join(joins)})" if joins else view
    counts = count_rules(db, source, own + links + [Rule("", c, "", "") for c in extra])
    if extra:
        suspects["churned_billed"] = counts.pop()
    found = []
    for rule, n in zip(own + links, counts):
        if n:
            shown, files = examples(db, source, spec, columns, rule.condition, n)
            found.append((rule in links, Problem(spec.name, rule.column, rule.what, n, shown, rule.fix, files)))
    problems.extend(p for is_link, p in found if not is_link)
    if spec.key and all(k in columns for k in spec.key) and suspects.get(spec.name, 1):
        problems.extend(duplicate_problems(db, view, spec, columns, dialect))
    return [p for is_link, p in found if is_link]


def cross_table(db, columns: dict, links: list[Problem], orphans: int = 1, churned_billed: int = 1) -> list[Problem]:
    """Link problems in the contract's order: unknown groups, usage without billing, off-net
    forwards, late events, churned groups still billed."""
    order = {"name groups not in table groups": 0, "exceed forwarded_calls": 2}
    out = [p for p in links if order.get(p.what) == 0]
    if "usage" in columns and "billing" in columns and orphans:
        n, condition = usage_without_billing(db, "typed_usage", "typed_billing")
        if n:
            spec = TABLES["usage"]
            shown, files = examples(db, "typed_usage u", spec, columns["usage"], condition, n)
            out.append(Problem("usage", "member_id", "have no billing row for the same month and line", n, shown,
                               "a line is active only with a billing row; add the billing rows or drop the usage rows", files))
    out.extend(p for p in links if order.get(p.what) == 2)
    out.extend(p for p in links if p.what.startswith("are dated after"))
    if "churn" in columns and "billing" in columns and churned_billed:
        n, condition = churned_still_billed(db, "typed_churn", "typed_billing")
        if n:
            shown, files = examples(db, "typed_churn", TABLES["churn"], columns["churn"], condition, n)
            out.append(Problem("churn", "churn_month", "have billing rows on or after their churn_month", n, shown,
                               "churn_month is the first month with no billing rows; correct it", files))
    return out


__all__ = ["LINE_TABLES", "Problem", "Rule", "TABLES", "check_rows", "check_table", "column_rules", "count_rules",
           "cross_table", "duplicate_problems", "examples", "link_rules"]
