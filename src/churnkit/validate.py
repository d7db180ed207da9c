"""Opening a data directory: engine tables scanned in place, checked against the data contract.

``load_dataset`` opens every table as a DuckDB view over its files (:mod:`churnkit.scan`), types
its columns in the engine (:mod:`churnkit.typed`) and runs every rule of the contract as engine
aggregates (:mod:`churnkit.checks`). It either returns a :class:`Dataset`, whose tables stay in
the engine, or raises one :class:`ValidationFailed` listing every problem, each naming the
table, the column, how many rows, the first offending keys, the files and the fix.

Only group-level tables come back to Python: ``groups`` and ``churn`` (one row per group), and
what the commands aggregate per group and month. Line tables (billing, usage) never do.
"""

from __future__ import annotations

import difflib
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import ibis
import pandas as pd

from churnkit.checked import CheckRecord, fingerprint
from churnkit.checks import LINE_TABLES, Problem, check_rows, line_key_counts
from churnkit.contract import TABLES, TableSpec
from churnkit.dialect import DUCKDB, Dialect
from churnkit.engine import EngineSettings, connect
from churnkit.errors import DataError, UsageError
from churnkit.io import SOURCE_COLUMN
from churnkit.months import format_month
from churnkit.scan import RawTable, Scan, open_scan, read_error
from churnkit.typed import select_list, typed

TEXT = "string[pyarrow]"  # compact text columns; identifiers are never numbers
GROUP_LEVEL = ("groups", "churn")  # at most one row per group: fetched into pandas


class ValidationFailed(DataError):
    """A DataError that carries every problem found."""

    def __init__(self, data_dir: Path, problems: list[Problem]):
        self.problems = problems
        first = str(problems[0])
        more = f" (and {len(problems) - 1} more problem(s); run `churnkit validate {data_dir}` to list all)" if len(problems) > 1 else ""
        super().__init__(f"{data_dir}: {first}{more}")


@dataclass
class Dataset:
    """A validated data directory, its tables in the engine.

    ``con`` is the Ibis backend; ``typed(name)`` is a table's typed view (months ``YYYY-MM``
    text, dates DATE, identifiers text), restricted to the window for billing and usage.
    ``dataset["groups"]`` and ``dataset["churn"]`` are pandas frames (one row per group).
    """

    data_dir: Path
    con: object
    present: list[str]
    frames: dict[str, pd.DataFrame]
    months: list[str]  # billing months in scope (within the window, if one was given)
    coverage: list[str]  # billing months in the data directory, whether in scope or not
    warnings: list[str] = field(default_factory=list)
    window: tuple[str, str] | None = None
    summary: dict = field(default_factory=dict)  # per table: rows, groups, months (for `churnkit validate`)
    scan: Scan | None = None
    spill: Path | None = None  # the engine's spill folder (scratch files of a command go there too)

    def __post_init__(self) -> None:
        if self.scan is not None:
            weakref.finalize(self, self.scan.close)

    @property
    def db(self):
        return self.con.con

    def typed(self, name: str) -> ibis.Table:
        return self.con.table(f"typed_{name}")

    def has(self, name: str) -> bool:
        return name in self.present

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name in self.frames:
            return self.frames[name]
        if name not in self.present:
            raise KeyError(name)
        return self.fetch(name)

    def get(self, name: str) -> pd.DataFrame | None:
        return self[name] if name in self.present else None

    def fetch(self, name: str) -> pd.DataFrame:
        """A table as a typed pandas frame: for inspecting small data (tests, notebooks). The
        commands never call it on line tables."""
        return _pandas(self.db.sql(f"SELECT * EXCLUDE ({SOURCE_COLUMN}) FROM typed_{name}").to_arrow_table(), TABLES[name])

    def to_frames(self) -> dict[str, pd.DataFrame]:
        return {name: self[name] for name in self.present}


def _pandas(table, spec: TableSpec) -> pd.DataFrame:
    if hasattr(table, "read_all"):
        table = table.read_all()
    frame = table.to_pandas()
    frame = frame[[c for c in frame.columns if not c.startswith("__")]]
    for col in spec.columns:
        if col.name not in frame:
            continue
        if col.kind in ("id", "text", "month"):
            frame[col.name] = frame[col.name].astype(TEXT)
        elif col.kind == "date":
            frame[col.name] = pd.to_datetime(frame[col.name]).astype("datetime64[ns]")
        elif col.kind == "int":
            frame[col.name] = frame[col.name].astype("Int64")
        else:
            frame[col.name] = frame[col.name].astype("float64")
    return frame


def type_views(db, raw, spec: TableSpec, views: dict[str, str], problems: list[Problem], warnings: list[str],
               trusted: bool = False, dialect: Dialect = DUCKDB) -> list[str] | None:
    """Create the typed views of table ``raw`` (``views``: each new view's name and the raw view
    it reads); the table's present contract columns, or None when a required column is missing.
    ``raw`` is a :class:`~churnkit.scan.RawTable` or its Spark twin (``view``, ``columns``, ``labels``)."""
    columns = [c for c in raw.columns]
    missing = [c for c in spec.required_columns if c not in columns]
    if missing:
        rows = db.execute(f"SELECT count(*) FROM {raw.view}").fetchall()[0][0]
        for name in missing:
            close = difflib.get_close_matches(name, columns, n=1)
            fix = f"rename column {close[0]!r} to {name!r}" if close else f"add column {name!r}"
            problems.append(Problem(spec.name, name, "missing: the column is required", int(rows), [], fix, sorted(raw.labels)[:2]))
        return None
    known = {c.name for c in spec.columns}
    extra = [c for c in columns if c not in known]
    if extra:
        warnings.append(f"{spec.name}: ignoring unknown column(s) {', '.join(extra)}")
    items, _ = select_list(list(spec.columns), raw.columns, trusted, dialect)
    for view, source in views.items():
        db.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {', '.join(items)}, {SOURCE_COLUMN} FROM {source}")
    return [c.name for c in spec.columns if c.name in raw.columns]


def scope_view(db, name: str, source: str, window: tuple[str, str] | None) -> None:
    """``typed_<name>``: the rows of ``source`` in scope (billing and usage within the window;
    unreadable months kept)."""
    where = ""
    if window is not None and name in LINE_TABLES:
        where = f" WHERE month IS NULL OR month BETWEEN '{window[0]}' AND '{window[1]}'"
    db.execute(f"CREATE OR REPLACE TEMP VIEW typed_{name} AS SELECT * FROM {source}{where}")


def missing_table(spec: TableSpec, data_dir) -> Problem:
    """A required table with no file in the data directory."""
    return Problem(spec.name, "*", "missing: the table is required", 0, [],
                   f"add {spec.name}.parquet, {spec.name}.csv or a folder {spec.name}/ to {data_dir}")


def empty_problem(spec: TableSpec, raw) -> Problem:
    """A table whose files hold no rows."""
    return Problem(spec.name, "*", "present, but the table has no rows", 0, [], f"export {spec.name} again with its rows",
                   raw.labels[:2])


def months_in_scope(columns: dict, coverage: list[str], scope, warnings: list[str]) -> list[str]:
    """The billing months in scope, once every check passed; warns of the static contract ends."""
    if "contracts" not in columns and "contract_end" in columns.get("groups", []):
        warnings.append("groups: months_to_contract_end comes from the static contract_end snapshot "
                        "(no contracts table); for past months it may show later renewals")
    return [m for m in coverage if scope is None or scope[0] <= m <= scope[1]]


def load_dataset(data_dir: Path, encoding: str | None = None, window: tuple[int, int] | None = None,
                 engine: EngineSettings | None = None, con=None, survey: bool = False, recheck: bool = False) -> Dataset:
    """Open ``data_dir`` in the engine and check it; raise ValidationFailed listing all problems.

    ``window`` (two month indexes) keeps only the billing and usage rows of those months, for a
    job that needs no more (scoring one month reads six months of history): the work then grows
    with the window, not with the length of the history. Rows outside it are not checked;
    ``churnkit validate`` checks everything. ``survey`` also counts rows, groups and months per
    table for the summary ``churnkit validate`` prints, and checks every row (as ``recheck``):
    otherwise files that passed these checks before, unchanged, are not checked again.
    """
    data_dir = Path(data_dir)
    if encoding is not None:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UsageError(f"--encoding {encoding!r} is not a known encoding; try gb18030, gbk or utf-8") from None
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: no such data directory; pass the folder holding groups, billing and usage")
    engine = engine or EngineSettings.from_env()
    con = con or connect("duckdb", engine)
    db = con.con
    scope = (format_month(window[0]), format_month(window[1])) if window is not None else None
    scan = open_scan(db, data_dir, list(TABLES), encoding, dict.fromkeys(LINE_TABLES, scope) if scope else None)
    try:
        record = CheckRecord(engine.cache_dir, data_dir)
        files = {name: table.files for name, table in scan.tables.items()}
        print_ = fingerprint(files, encoding) if record.path is not None else ""
        trusted = bool(print_) and not (survey or recheck) and record.covers(print_, scope)
        dataset = _validate(con, db, scan, data_dir, window, survey, trusted)
        if print_ and not trusted:
            record.remember(print_, scope)
    except duckdb.Error as exc:
        scan.close()
        raise read_error(exc, [p for t in scan.tables.values() for p in t.files]) from None
    except BaseException:
        scan.close()
        raise
    dataset.spill = engine.spill_folder()
    return dataset


def _validate(con, db, scan: Scan, data_dir: Path, window, survey: bool, trusted: bool = False) -> Dataset:
    """Type every table and check its rows (``trusted``: these files passed these row checks
    before, unchanged; only the cheap checks of columns and empty tables run)."""
    problems: list[Problem] = []
    warnings: list[str] = []
    columns: dict[str, list[str]] = {}
    for spec in TABLES.values():
        raw = scan.tables.get(spec.name)
        if raw is None:
            if spec.required:
                problems.append(missing_table(spec, data_dir))
            continue
        views = {f"all_{spec.name}": raw.view, f"win_{spec.name}": raw.window_view or raw.view}
        cols = type_views(db, raw, spec, views, problems, warnings, trusted)
        if cols is not None:
            columns[spec.name] = cols
    scope = (format_month(window[0]), format_month(window[1])) if window is not None else None
    coverage = []
    if "billing" in columns:
        coverage = [r[0] for r in db.execute("SELECT DISTINCT month FROM all_billing WHERE month IS NOT NULL ORDER BY 1").fetchall()]
    for name in columns:
        scope_view(db, name, f"win_{name}", scope)
    for name in ("groups", "billing"):
        if name in columns and not (scope is not None and name == "billing" and coverage):
            if db.execute(f"SELECT count(*) FROM (SELECT 1 FROM typed_{name} LIMIT 1)").fetchall()[0][0] == 0:
                problems.append(empty_problem(TABLES[name], scan.tables[name]))
                columns.pop(name)
    if not (trusted and not problems):
        types = {name: scan.tables[name].columns for name in columns}
        check_rows(db, columns, types, coverage, line_key_counts, problems)
    if problems:
        raise ValidationFailed(data_dir, problems)
    frames = {name: _pandas(db.sql(f"SELECT * EXCLUDE ({SOURCE_COLUMN}) FROM typed_{name}").to_arrow_table(), TABLES[name])
              for name in GROUP_LEVEL if name in columns}
    months = months_in_scope(columns, coverage, scope, warnings)
    summary = table_summary(db, columns) if survey else {}
    return Dataset(data_dir, con, list(columns), frames, months, coverage, warnings, scope, summary, scan)


def table_summary(db, columns: dict, dialect: Dialect = DUCKDB) -> dict:
    """Rows, distinct groups and months (or event months) per table, one aggregate each."""
    out = {}
    for name, cols in columns.items():
        date = TABLES[name].date_column
        parts = ["count(*)", "count(DISTINCT group_id)" if "group_id" in cols else "NULL"]
        if date == "month":
            parts.append(dialect.distinct_list("month"))
        elif date == "date":
            parts.append(dialect.distinct_list(dialect.month_of("date")))
        else:
            parts.append("NULL")
        rows, groups, months = db.execute(f"SELECT {', '.join(parts)} FROM typed_{name}").fetchall()[0]
        out[name] = {"rows": int(rows), "groups": None if groups is None else int(groups),
                     "months": sorted(m for m in (months or []) if m is not None)}
    return out


def latest_month(data_dir: Path, encoding: str | None = None, engine: EngineSettings | None = None) -> str | None:
    """The last readable month of billing (``--month latest``), from the month column alone."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: no such data directory; pass the folder holding groups, billing and usage")
    con = connect("duckdb", engine or EngineSettings.from_env())
    scan = open_scan(con.con, data_dir, ["billing"], encoding)
    try:
        raw = scan.tables.get("billing")
        if raw is None or "month" not in raw.columns:
            return None
        month = typed(TABLES["billing"].column("month"), raw.columns["month"])
        return con.con.execute(f"SELECT max({month}) FROM (SELECT month FROM {raw.view})").fetchall()[0][0]
    except duckdb.Error as exc:
        raise read_error(exc, raw.files) from None
    finally:
        scan.close()
