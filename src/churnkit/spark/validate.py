"""A data directory opened and checked on Spark: :func:`churnkit.validate.load_dataset` for a
cluster.

The tables are read by Spark (:mod:`churnkit.spark.read`) and typed in Spark SQL
(:mod:`churnkit.spark.typed`) into the same views as on DuckDB: ``all_<name>`` (every row),
``typed_<name>`` (the rows in scope). The contract's rules are the ones :mod:`churnkit.checks`
defines, run as Spark aggregates (one scan per table for its column and link rules, one
aggregate of the line keys, exact queries only for a rule that fails), so a broken directory
fails with the same messages and exit codes on either engine. Nothing but counts and a handful
of example keys comes back to the driver.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import pandas as pd

from churnkit.checks import Problem, Rule, column_rules, count_rules, examples, link_rules
from churnkit.contract import TABLES, TableSpec
from churnkit.errors import ChurnkitError, StorageError, UsageError
from churnkit.io import SOURCE_COLUMN
from churnkit.months import format_month
from churnkit.spark.read import Source, SparkTable, open_tables
from churnkit.spark.session import SparkSQL, ibis_backend, session
from churnkit.spark.typed import select_list
from churnkit.typed import q
from churnkit.validate import LINE_TABLES, ValidationFailed, _cross_table


@dataclass
class SparkDataset:
    """A validated data directory whose tables are Spark views (``typed_<name>``)."""

    data_dir: str
    spark: object
    con: object  # Ibis over the session
    present: list[str]
    months: list[str]
    coverage: list[str]
    columns: dict[str, list[str]]
    warnings: list[str] = field(default_factory=list)
    window: tuple[str, str] | None = None
    summary: dict = field(default_factory=dict)
    engine: str = "spark"

    def has(self, name: str) -> bool:
        return name in self.present

    @property
    def db(self) -> SparkSQL:
        return SparkSQL(self.spark)

    def typed(self, name: str):
        """A table's typed view as an Ibis table."""
        return self.con.table(f"typed_{name}")

    def frame(self, name: str):
        """A table's typed view as a Spark DataFrame (without the source column)."""
        return self.spark.table(f"typed_{name}").drop(SOURCE_COLUMN, *[c for c in self.spark.table(f"typed_{name}").columns
                                                                         if c.startswith("__")])


def load_dataset(data, encoding: str | None = None, window: tuple[int, int] | None = None, spark=None,
                 survey: bool = False) -> SparkDataset:
    """Open ``data`` (a folder Spark reads, or ``catalog:DATABASE``) on Spark and check it; raise
    ValidationFailed listing every problem, as :func:`churnkit.validate.load_dataset` does."""
    if encoding is not None:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UsageError(f"--encoding {encoding!r} is not a known encoding; try gb18030, gbk or utf-8") from None
    spark = spark or session()
    source = Source.parse(data)
    tables = open_tables(spark, source, list(TABLES), encoding)
    scope = (format_month(window[0]), format_month(window[1])) if window is not None else None
    try:
        return _validate(spark, source.given, tables, scope, survey)
    except ChurnkitError:
        raise
    except Exception as exc:  # Spark's and py4j's error classes
        raise read_error(exc, tables) from None


def read_error(exc: Exception, tables: dict[str, SparkTable]) -> Exception:
    """A Spark read failure that names one of the files as a one-line StorageError, else as it is."""
    message = str(exc)
    first = next((line.strip() for line in message.splitlines() if line.strip()), type(exc).__name__)
    for table in tables.values():
        for label, shown in zip(table.labels, table.files):
            if label in message:
                if label.lower().endswith(".parquet"):
                    return StorageError(f"{shown}: not a readable parquet file ({first[:200]}); the file is truncated or "
                                        "corrupt, export it again")
                return StorageError(f"{shown}: not a well-formed CSV ({first[:200]}); export it again")
    return exc


def _type_view(db: SparkSQL, raw: SparkTable, spec: TableSpec, problems: list[Problem], warnings: list[str],
               scope) -> list[str] | None:
    missing = [c for c in spec.required_columns if c not in raw.columns]
    if missing:
        rows = db.execute(f"SELECT count(*) FROM {raw.view}").fetchall()[0][0]
        for name in missing:
            close = difflib.get_close_matches(name, list(raw.columns), n=1)
            fix = f"rename column {close[0]!r} to {name!r}" if close else f"add column {name!r}"
            problems.append(Problem(spec.name, name, "missing: the column is required", int(rows), [], fix, sorted(raw.labels)[:2]))
        return None
    known = {c.name for c in spec.columns}
    extra = [c for c in raw.columns if c not in known]
    if extra:
        warnings.append(f"{spec.name}: ignoring unknown column(s) {', '.join(extra)}")
    items = select_list(list(spec.columns), raw.columns)
    db.execute(f"CREATE OR REPLACE TEMP VIEW all_{spec.name} AS SELECT {', '.join(items)}, {SOURCE_COLUMN} FROM {raw.view}")
    where = ""
    if scope is not None and spec.name in LINE_TABLES:
        where = f" WHERE month IS NULL OR month BETWEEN '{scope[0]}' AND '{scope[1]}'"
    db.execute(f"CREATE OR REPLACE TEMP VIEW typed_{spec.name} AS SELECT * FROM all_{spec.name}{where}")
    return [c.name for c in spec.columns if c.name in raw.columns]


def _validate(spark, data_dir: str, tables: dict[str, SparkTable], scope, survey: bool) -> SparkDataset:
    db = SparkSQL(spark)
    problems: list[Problem] = []
    warnings: list[str] = []
    columns: dict[str, list[str]] = {}
    for spec in TABLES.values():
        raw = tables.get(spec.name)
        if raw is None:
            if spec.required:
                problems.append(Problem(spec.name, "*", "missing: the table is required", 0, [],
                                        f"add {spec.name}.parquet, {spec.name}.csv or a folder {spec.name}/ to {data_dir}"))
            continue
        cols = _type_view(db, raw, spec, problems, warnings, scope)
        if cols is not None:
            columns[spec.name] = cols
    coverage = []
    if "billing" in columns:
        coverage = [r[0] for r in db.execute("SELECT DISTINCT month FROM all_billing WHERE month IS NOT NULL ORDER BY 1").fetchall()]
    for name in ("groups", "billing"):
        if name in columns and not (scope is not None and name == "billing" and coverage):
            if not spark.table(f"typed_{name}").take(1):
                raw = tables[name]
                problems.append(Problem(name, "*", "present, but the table has no rows", 0, [],
                                        f"export {name} again with its rows", raw.labels[:2]))
                columns.pop(name)
    groups_ok = "groups" in columns
    last_day = f"{pd.Period(coverage[-1], 'M').end_time:%Y-%m-%d}" if coverage else None
    lines = [t for t in LINE_TABLES if t in columns and {"month", "member_id"} <= set(columns[t])]
    suspects = line_key_counts(db, lines) if lines else {}
    suspects["churn_table"] = int("churn" in columns and "billing" in columns and "churn_month" in columns["churn"])
    links: list[Problem] = []
    for spec in TABLES.values():
        if spec.name in columns:
            links.extend(_check_table(db, spec, tables[spec.name], columns[spec.name], problems, groups_ok, last_day, suspects))
        if spec.name == "groups":
            groups_ok = groups_ok and not any(p.table == "groups" and p.column == "group_id" for p in problems)
    problems.extend(_cross_table(db, columns, links, suspects.get("orphans", 1), suspects.get("churned_billed", 1)))
    if problems:
        raise ValidationFailed(data_dir, problems)
    if "contracts" not in columns and "contract_end" in columns.get("groups", []):
        warnings.append("groups: months_to_contract_end comes from the static contract_end snapshot "
                        "(no contracts table); for past months it may show later renewals")
    months = [m for m in coverage if scope is None or scope[0] <= m <= scope[1]]
    summary = _summary(db, columns) if survey else {}
    return SparkDataset(data_dir, spark, ibis_backend(spark), list(columns), months, coverage, columns, warnings, scope,
                        summary)


def _check_table(db: SparkSQL, spec: TableSpec, raw: SparkTable, columns: list[str], problems: list[Problem],
                 groups_ok: bool, last_day: str | None, suspects: dict[str, int]) -> list[Problem]:
    """Column and link rules of one table counted in one scan (as churnkit.validate does on
    DuckDB); returns its link problems, reported after every table's own problems."""
    view = f"typed_{spec.name}"
    types = {c: raw.columns[c] for c in columns}
    own = column_rules(spec, types)
    links = link_rules(spec, types, groups_ok and spec.name != "groups", last_day)
    joins, extra = [], []
    if any(r.condition.endswith("__known IS NULL") for r in links):
        joins.append("LEFT JOIN (SELECT DISTINCT group_id AS __known FROM typed_groups) g ON t.group_id = g.__known")
    if spec.name == "billing" and suspects.get("churn_table"):
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
        problems.extend(duplicate_problems(db, view, spec, columns))
    return [p for is_link, p in found if is_link]


def line_key_counts(db: SparkSQL, tables: list[str]) -> dict[str, int]:
    """One aggregate over the (month, member_id) keys of billing and usage together, exact (as
    :func:`churnkit.checks.line_key_counts` counts them on DuckDB): per table the keys held more
    than once, and the usage keys with no billing row."""
    union = " UNION ALL ".join(f"SELECT month, member_id, {int(t == 'usage')} AS t FROM typed_{t}" for t in tables)
    row = db.execute(f"SELECT count_if((n > 2) OR (n = 2 AND lo = 0 AND hi = 0)), count_if((n > 2) OR (n = 2 AND lo = 1)), "
                     f"count_if(hi = 1 AND (n = 1 OR lo = 1 OR n > 2)) FROM (SELECT month, member_id, count(*) AS n, "
                     f"min(t) AS lo, max(t) AS hi FROM ({union}) GROUP BY month, member_id)").fetchall()[0]
    totals = [int(v or 0) for v in row]
    return {"billing": totals[0], "usage": totals[1], "orphans": totals[2] if len(tables) == 2 else 0, "passes": 1}


def duplicate_problems(db: SparkSQL, view: str, spec: TableSpec, columns: list[str]) -> list[Problem]:
    """Rows sharing a key: identical copies apart from conflicting ones (same messages as
    :func:`churnkit.checks.duplicate_problems`)."""
    from churnkit.checks import FIXES

    key = ", ".join(q(k) for k in spec.key)
    body = ", ".join(q(c) for c in columns)
    dups = db.sql(f"SELECT {key}, count(*) AS n, CASE WHEN min(xxhash64({body})) = max(xxhash64({body})) THEN 1 ELSE 2 END "
                  f"AS variants FROM {view} GROUP BY {key} HAVING count(*) > 1").persist()
    dups.createOrReplaceTempView("__dups")
    out = []
    try:
        for kind, test in (("identical", "variants = 1"), ("conflicting", "variants > 1")):
            n = db.execute(f"SELECT coalesce(sum(n), 0) FROM __dups WHERE {test}").fetchall()[0][0]
            if not n:
                continue
            join = " AND ".join(f"t.{q(k)} <=> d.{q(k)}" for k in spec.key)
            rows = f"(SELECT t.* FROM {view} t JOIN (SELECT * FROM __dups WHERE {test}) d ON {join})"
            shown, files = examples(db, rows, spec, columns, "true", int(n))
            out.append(Problem(spec.name, "+".join(spec.key), f"share a key with another row ({kind} duplicates)", int(n),
                               shown, FIXES["unique"], files))
    finally:
        db.spark.catalog.dropTempView("__dups")
        dups.unpersist()
    return out


def _summary(db: SparkSQL, columns: dict) -> dict:
    """Rows, distinct groups and months (or event months) per table, one aggregate each."""
    out = {}
    for name, cols in columns.items():
        date = TABLES[name].date_column
        parts = ["count(*)", "count(DISTINCT group_id)" if "group_id" in cols else "NULL"]
        parts.append({"month": "collect_set(month)", "date": "collect_set(date_format(date, 'yyyy-MM'))"}.get(date, "NULL"))
        rows, groups, months = db.execute(f"SELECT {', '.join(parts)} FROM typed_{name}").fetchall()[0]
        out[name] = {"rows": int(rows), "groups": None if groups is None else int(groups),
                     "months": sorted(m for m in (months or []) if m is not None)}
    return out


def survey(data, encoding: str | None = None, spark=None):
    """``churnkit validate --engine spark``: every table checked, and the summary per table."""
    from churnkit.survey import Survey, summarise

    dataset = load_dataset(data, encoding, spark=spark, survey=True)
    return Survey(summarise(dataset), dataset.warnings)


def latest_month(data, encoding: str | None = None, spark=None) -> str | None:
    """The last readable month of billing (``--month latest``), from its month column alone."""
    from churnkit.spark.typed import typed

    spark = spark or session()
    tables = open_tables(spark, Source.parse(data), ["billing"], encoding)
    raw = tables.get("billing")
    if raw is None or "month" not in raw.columns:
        return None
    month = typed(TABLES["billing"].column("month"), raw.columns["month"])
    try:
        return spark.sql(f"SELECT max({month}) FROM {raw.view}").collect()[0][0]
    except Exception as exc:  # Spark's and py4j's error classes
        raise read_error(exc, tables) from None
