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
from churnkit.checks import Problem, Rule, column_rules, count_rules, duplicate_problems, examples, link_rules
from churnkit.checks import churned_still_billed, line_key_counts, usage_without_billing
from churnkit.contract import TABLES, TableSpec
from churnkit.engine import EngineSettings, connect
from churnkit.errors import DataError, UsageError
from churnkit.io import SOURCE_COLUMN
from churnkit.months import format_month
from churnkit.scan import RawTable, Scan, open_scan, read_error
from churnkit.typed import select_list, typed

TEXT = "string[pyarrow]"  # compact text columns; identifiers are never numbers
LINE_TABLES = ("billing", "usage")
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


def _type_view(db, raw: RawTable, spec: TableSpec, problems: list[Problem], warnings: list[str],
               trusted: bool = False) -> list[str] | None:
    """Create ``typed_<name>`` over ``raw_<name>``; None when a required column is missing."""
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
    items, _ = select_list(list(spec.columns), raw.columns, trusted)
    db.execute(f"CREATE OR REPLACE TEMP VIEW all_{spec.name} AS SELECT {', '.join(items)}, {SOURCE_COLUMN} FROM {raw.view}")
    db.execute(f"CREATE OR REPLACE TEMP VIEW win_{spec.name} AS SELECT {', '.join(items)}, {SOURCE_COLUMN} "
               f"FROM {raw.window_view or raw.view}")
    return [c.name for c in spec.columns if c.name in raw.columns]


def _scope(db, name: str, window: tuple[str, str] | None) -> None:
    """``typed_<name>``: the rows in scope (billing and usage within the window; unreadable months kept)."""
    where = ""
    if window is not None and name in LINE_TABLES:
        where = f" WHERE month IS NULL OR month BETWEEN '{window[0]}' AND '{window[1]}'"
    db.execute(f"CREATE OR REPLACE TEMP VIEW typed_{name} AS SELECT * FROM win_{name}{where}")


def _check_table(db, spec: TableSpec, columns: list[str], problems: list[Problem], groups_ok: bool,
                 last_day: str | None, suspects: dict[str, int]) -> list[Problem]:
    """Column and link rules of one table, counted in one scan; returns its link problems
    (reported after every table's own problems)."""
    view = f"typed_{spec.name}"
    types = {c: "" for c in columns}
    raw_types = db.execute(f"DESCRIBE raw_{spec.name}").fetchall()
    types = {row[0]: row[1] for row in raw_types if row[0] in columns}
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
        problems.extend(duplicate_problems(db, view, spec, columns))
    return [p for is_link, p in found if is_link]


def _empty_problem(spec: TableSpec, raw: RawTable) -> Problem:
    return Problem(spec.name, "*", "present, but the table has no rows", 0, [], f"export {spec.name} again with its rows",
                   raw.labels[:2])


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
                problems.append(Problem(spec.name, "*", "missing: the table is required", 0, [],
                                        f"add {spec.name}.parquet, {spec.name}.csv or a folder {spec.name}/ to {data_dir}"))
            continue
        cols = _type_view(db, raw, spec, problems, warnings, trusted)
        if cols is not None:
            columns[spec.name] = cols
    scope = (format_month(window[0]), format_month(window[1])) if window is not None else None
    coverage = []
    if "billing" in columns:
        coverage = [r[0] for r in db.execute("SELECT DISTINCT month FROM all_billing WHERE month IS NOT NULL ORDER BY 1").fetchall()]
    for name in columns:
        _scope(db, name, scope)
    for name in ("groups", "billing"):
        if name in columns and not (scope is not None and name == "billing" and coverage):
            if db.execute(f"SELECT count(*) FROM (SELECT 1 FROM typed_{name} LIMIT 1)").fetchall()[0][0] == 0:
                problems.append(_empty_problem(TABLES[name], scan.tables[name]))
                columns.pop(name)
    groups_ok = "groups" in columns
    links: list[Problem] = []
    last_day = None
    if coverage:
        last = pd.Period(coverage[-1], "M").end_time
        last_day = f"{last:%Y-%m-%d}"
    if not (trusted and not problems):
        lines = [t for t in LINE_TABLES if t in columns and {"month", "member_id"} <= set(columns[t])]
        suspects = line_key_counts(db, lines) if lines else {}
        suspects["churn_table"] = int("churn" in columns and "billing" in columns and "churn_month" in columns["churn"])
        for spec in TABLES.values():
            if spec.name in columns:
                links.extend(_check_table(db, spec, columns[spec.name], problems, groups_ok, last_day, suspects))
            if spec.name == "groups":
                groups_ok = groups_ok and not any(p.table == "groups" and p.column == "group_id" for p in problems)
        problems.extend(_cross_table(db, columns, links, suspects.get("orphans", 1), suspects.get("churned_billed", 1)))
    if problems:
        raise ValidationFailed(data_dir, problems)
    frames = {name: _pandas(db.sql(f"SELECT * EXCLUDE ({SOURCE_COLUMN}) FROM typed_{name}").to_arrow_table(), TABLES[name])
              for name in GROUP_LEVEL if name in columns}
    if "contracts" not in columns and "contract_end" in columns.get("groups", []):
        warnings.append("groups: months_to_contract_end comes from the static contract_end snapshot "
                        "(no contracts table); for past months it may show later renewals")
    months = [m for m in coverage if scope is None or scope[0] <= m <= scope[1]]
    summary = _summary(db, columns) if survey else {}
    return Dataset(data_dir, con, list(columns), frames, months, coverage, warnings, scope, summary, scan)


def _cross_table(db, columns: dict, links: list[Problem], orphans: int = 1, churned_billed: int = 1) -> list[Problem]:
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


def _summary(db, columns: dict) -> dict:
    """Rows, distinct groups and months (or event months) per table, one aggregate each."""
    out = {}
    for name, cols in columns.items():
        date = TABLES[name].date_column
        parts = ["count(*)", "count(DISTINCT group_id)" if "group_id" in cols else "NULL"]
        if date == "month":
            parts.append("list(DISTINCT month)")
        elif date == "date":
            parts.append("list(DISTINCT strftime(date, '%Y-%m'))")
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
