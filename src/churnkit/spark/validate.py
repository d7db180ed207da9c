"""A data directory opened and checked on Spark: :func:`churnkit.validate.load_dataset` for a
cluster.

The tables are read by Spark (:mod:`churnkit.spark.read`) and typed by the SQL DuckDB's views
are built from, in Spark's dialect (:mod:`churnkit.spark.dialect`), into the same views as on
DuckDB: ``all_<name>`` (every row), ``typed_<name>`` (the rows in scope). The contract's rules
are run by the one rule runner of :mod:`churnkit.checks` as Spark aggregates (one scan per table
for its column and link rules, one aggregate of the line keys, exact queries only for a rule
that fails), so a broken directory fails with the same messages and exit codes on either
engine. Nothing but counts and a handful of example keys comes back to the driver.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from churnkit.checks import Problem, check_rows, key_counts, suspect_keys
from churnkit.contract import TABLES
from churnkit.errors import ChurnkitError, StorageError, UsageError
from churnkit.io import SOURCE_COLUMN
from churnkit.months import format_month
from churnkit.spark.dialect import SPARK
from churnkit.spark.read import Source, SparkTable, open_tables
from churnkit.spark.session import SparkSQL, ibis_backend, session
from churnkit.validate import (ValidationFailed, empty_problem, missing_table, months_in_scope, scope_view, table_summary,
                               type_views)


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


def _validate(spark, data_dir: str, tables: dict[str, SparkTable], scope, survey: bool) -> SparkDataset:
    db = SparkSQL(spark)
    problems: list[Problem] = []
    warnings: list[str] = []
    columns: dict[str, list[str]] = {}
    for spec in TABLES.values():
        raw = tables.get(spec.name)
        if raw is None:
            if spec.required:
                problems.append(missing_table(spec, data_dir))
            continue
        cols = type_views(db, raw, spec, {f"all_{spec.name}": raw.view}, problems, warnings, dialect=SPARK)
        if cols is not None:
            scope_view(db, spec.name, f"all_{spec.name}", scope)
            columns[spec.name] = cols
    coverage = []
    if "billing" in columns:
        coverage = [r[0] for r in db.execute("SELECT DISTINCT month FROM all_billing WHERE month IS NOT NULL ORDER BY 1").fetchall()]
    for name in ("groups", "billing"):
        if name in columns and not (scope is not None and name == "billing" and coverage):
            if not spark.table(f"typed_{name}").take(1):
                problems.append(empty_problem(TABLES[name], tables[name]))
                columns.pop(name)
    types = {name: tables[name].columns for name in columns}
    check_rows(db, columns, types, coverage, line_key_counts, problems, SPARK)
    if problems:
        raise ValidationFailed(data_dir, problems)
    months = months_in_scope(columns, coverage, scope, warnings)
    summary = table_summary(db, columns, SPARK) if survey else {}
    return SparkDataset(data_dir, spark, ibis_backend(spark), list(columns), months, coverage, columns, warnings, scope,
                        summary)


def line_key_counts(db: SparkSQL, tables: list[str]) -> dict[str, int]:
    """One aggregate over the (month, member_id) keys of billing and usage together, exact (as
    :func:`churnkit.checks.line_key_counts` counts them on DuckDB): per table the keys held more
    than once, and the usage keys with no billing row."""
    union = " UNION ALL ".join(f"SELECT month, member_id, {int(t == 'usage')} AS t FROM typed_{t}" for t in tables)
    row = db.execute(suspect_keys(union, "month, member_id")).fetchall()[0]
    return key_counts([int(v or 0) for v in row], tables, 1)


def survey(data, encoding: str | None = None, spark=None):
    """``churnkit validate --engine spark``: every table checked, and the summary per table."""
    from churnkit.survey import Survey, summarise

    dataset = load_dataset(data, encoding, spark=spark, survey=True)
    return Survey(summarise(dataset), dataset.warnings)


def latest_month(data, encoding: str | None = None, spark=None) -> str | None:
    """The last readable month of billing (``--month latest``), from its month column alone."""
    from churnkit.typed import typed

    spark = spark or session()
    tables = open_tables(spark, Source.parse(data), ["billing"], encoding)
    raw = tables.get("billing")
    if raw is None or "month" not in raw.columns:
        return None
    month = typed(TABLES["billing"].column("month"), raw.columns["month"], dialect=SPARK)
    try:
        return spark.sql(f"SELECT max({month}) FROM {raw.view}").collect()[0][0]
    except Exception as exc:  # Spark's and py4j's error classes
        raise read_error(exc, tables) from None
