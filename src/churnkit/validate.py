"""Validation of a data directory against the data contract, at load time.

``load_dataset`` reads every table, types its columns, checks it with pandera (lazily, so every
failure is collected) and checks the links between tables. It either returns a typed
:class:`Dataset` or raises one :class:`~churnkit.errors.DataError` that lists every problem,
each naming the table, the column, how many rows and the first offending keys.
"""

from __future__ import annotations

import codecs
import difflib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pandera.pandas as pa

from churnkit.contract import EVENT_TABLES, TABLES, Column, TableSpec
from churnkit.errors import DataError, UsageError
from churnkit.io import SOURCE_COLUMN, MonthWindow, read_table, table_files
from churnkit.months import format_month

EXAMPLES = 3

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
class Dataset:
    """The validated tables of a data directory: typed pandas frames keyed by table name.

    ``month`` columns are ``YYYY-MM`` text, dates are ``datetime64``, identifiers are text.
    """

    data_dir: Path
    tables: dict[str, pd.DataFrame]
    warnings: list[str] = field(default_factory=list)
    window: tuple[str, str] | None = None  # billing and usage hold only these months (see load_dataset)
    first_active: pd.DataFrame | None = None  # with a window: each group's first billing month in all the data
    history: list[str] | None = None  # with a window: every billing month in all the data

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def get(self, name: str) -> pd.DataFrame | None:
        return self.tables.get(name)

    @property
    def months(self) -> list[str]:
        """Billing months loaded (within the window, if one was given)."""
        return sorted(self.tables["billing"]["month"].unique())

    @property
    def coverage(self) -> list[str]:
        """Billing months in the data directory, whether loaded or not."""
        return self.history if self.history is not None else self.months


class ValidationFailed(DataError):
    """A DataError that carries every problem found."""

    def __init__(self, data_dir: Path, problems: list[Problem]):
        self.problems = problems
        first = str(problems[0])
        more = f" (and {len(problems) - 1} more problem(s); run `churnkit validate {data_dir}` to list all)" if len(problems) > 1 else ""
        super().__init__(f"{data_dir}: {first}{more}")


def _examples(frame: pd.DataFrame, mask: pd.Series, spec: TableSpec) -> tuple[list[str], list[str]]:
    rows = frame.loc[mask]
    keys = [c for c in (spec.key or ("group_id",)) if c in rows.columns]
    if "group_id" in rows.columns and "group_id" not in keys:
        keys = [*keys, "group_id"]
    head = rows.drop_duplicates(keys).head(EXAMPLES) if keys else rows.head(EXAMPLES)
    examples = [" ".join(f"{k}={row[k]}" for k in keys) for _, row in head.iterrows()]
    files = sorted(rows[SOURCE_COLUMN].dropna().unique().tolist()) if SOURCE_COLUMN in rows else []
    return examples, files


def _problem(spec, frame, mask, column, what, fix) -> Problem:
    examples, files = _examples(frame, mask, spec)
    return Problem(spec.name, column, what, int(mask.sum()), examples, fix, files)


TEXT = "string[pyarrow]"  # compact text columns; identifiers are never numbers


def _month_text(value) -> str | None:
    """'YYYY-MM', 'YYYY-MM-01' or a first-of-month date -> 'YYYY-MM'; None when it is none of those."""
    text = str(value).strip()
    if len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit() and 1 <= int(text[5:]) <= 12:
        return text
    stamp = pd.to_datetime(text[:10], format="%Y-%m-%d", errors="coerce")
    if pd.isna(stamp) or stamp.day != 1:
        return None
    return f"{stamp:%Y-%m}"


def _by_unique(values: pd.Series, func) -> pd.Series:
    """Apply ``func`` once per distinct value (months and dates repeat millions of times)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([func(u) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=values.index)


def _present(raw: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_datetime64_any_dtype(raw):
        return raw.notna()
    return raw.notna() & (raw.astype(TEXT).str.strip() != "").fillna(False).astype(bool)


def _type_column(spec: TableSpec, frame: pd.DataFrame, col: Column, problems: list[Problem]) -> pd.Series | None:
    """Type one column in place; return the rows whose value was present but unreadable (already reported)."""
    raw = frame[col.name]
    if col.kind in ("id", "text"):
        if col.kind == "id" and pd.api.types.is_float_dtype(raw):
            problems.append(_problem(spec, frame, raw.notna(), col.name, "stored as floating-point numbers, which lose digits of long ids",
                                     "store identifiers as text"))
        text = raw.astype(TEXT)
        blank = text.str.len() == 0
        frame[col.name] = text.where(~blank.fillna(False).astype(bool), pd.NA) if blank.any() else text
        return
    present = _present(raw)
    if col.kind == "month":
        parsed = _by_unique(raw, _month_text).astype(TEXT)
        bad = present & parsed.isna()
        if bad.any():
            problems.append(_problem(spec, frame, bad, col.name, "are not months", FIXES["month"]))
        frame[col.name] = parsed
        return bad
    elif col.kind == "date":
        parsed = pd.to_datetime(_by_unique(raw, lambda v: str(v).strip()[:10]), format="%Y-%m-%d", errors="coerce")
        bad = present & parsed.isna()
        if bad.any():
            problems.append(_problem(spec, frame, bad, col.name, "are not dates", FIXES["date"]))
        frame[col.name] = parsed.astype("datetime64[ns]")
        return bad
    else:  # float / int
        parsed = raw.astype("float64") if pd.api.types.is_numeric_dtype(raw) else pd.to_numeric(raw, errors="coerce").astype("float64")
        bad = present & parsed.isna()
        if bad.any():
            problems.append(_problem(spec, frame, bad, col.name, "are not numbers", FIXES["type"]))
        if col.kind == "int":
            frac = parsed.notna() & (parsed != parsed.round())
            if frac.any():
                problems.append(_problem(spec, frame, frac, col.name, "are not whole numbers", FIXES["integer"]))
            frame[col.name] = parsed.round().astype("Int64")
        else:
            frame[col.name] = parsed
        return bad


def _schema(spec: TableSpec, columns: list[str]) -> pa.DataFrameSchema:
    cols = {}
    for col in spec.columns:
        if col.name not in columns:
            continue
        checks = []
        if col.ge is not None:
            checks.append(pa.Check.ge(col.ge))
        if col.isin is not None:
            checks.append(pa.Check.isin(list(col.isin)))
        cols[col.name] = pa.Column(nullable=col.nullable, checks=checks)
    unique = [k for k in spec.key if k in columns] if spec.key else None
    return pa.DataFrameSchema(cols, unique=unique if unique else None, report_duplicates="all")


def _duplicate_problems(spec: TableSpec, frame: pd.DataFrame) -> list[Problem]:
    """Rows sharing a key: keys whose copies are all alike (identical) apart from keys whose copies differ (conflicting)."""
    key = list(spec.key)
    dups = frame.duplicated(key, keep=False)
    body = frame.loc[dups].drop(columns=[SOURCE_COLUMN], errors="ignore")
    distinct = body.drop_duplicates()
    clash = {tuple(k) for k in distinct.loc[distinct.duplicated(key, keep=False), key].itertuples(index=False, name=None)}
    conflicting = pd.Series(False, index=frame.index)
    conflicting.loc[body.index] = [tuple(k) in clash for k in body[key].itertuples(index=False, name=None)]
    out = []
    for kind, mask in (("identical", dups & ~conflicting), ("conflicting", conflicting)):
        if mask.any():
            out.append(_problem(spec, frame, mask, "+".join(key), f"share a key with another row ({kind} duplicates)", FIXES["unique"]))
    return out


def _check_schema(spec: TableSpec, frame: pd.DataFrame, problems: list[Problem], unreadable: dict[str, pd.Series] | None = None) -> None:
    unreadable = unreadable or {}
    keys_checked = False
    try:
        _schema(spec, list(frame.columns)).validate(frame, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        for (column, check), group in cases.groupby(["column", "check"], sort=True, dropna=False):
            index = group["index"].dropna().astype(int).unique()
            mask = pd.Series(False, index=frame.index)
            mask.loc[index] = True
            check = str(check)
            if check.startswith("greater_than_or_equal_to"):
                what, fix = f"are below {spec.column(column).ge:g}", FIXES["ge"].format(ge=spec.column(column).ge)
            elif check.startswith("isin"):
                what, fix = "hold values outside the allowed set", FIXES["isin"].format(isin=", ".join(spec.column(column).isin))
            elif check == "not_nullable":
                if column in unreadable:  # unreadable values were reported as such, not as empty
                    mask &= ~unreadable[column]
                    if not mask.any():
                        continue
                what, fix = "are empty", FIXES["not_nullable"]
            elif "unique" in check or "duplicate" in check or column == spec.name or str(column) in ("None", "nan"):
                # pandera reports a key once per key column: report the duplicates once
                if not keys_checked:
                    problems.extend(_duplicate_problems(spec, frame))
                keys_checked = True
                continue
            else:
                what, fix = f"fail check {check}", "correct the values"
            problems.append(_problem(spec, frame, mask, str(column), what, fix))


def _read_and_type(data_dir: Path, spec: TableSpec, encoding: str | None, problems: list[Problem], warnings: list[str],
                   window: MonthWindow | None = None):
    frame = read_table(data_dir, spec.name, encoding, window if spec.date_column == "month" else None)
    if frame is None:
        if spec.required:
            problems.append(Problem(spec.name, "*", "missing: the table is required", 0, [],
                                    f"add {spec.name}.parquet, {spec.name}.csv or a folder {spec.name}/ to {data_dir}"))
        return None
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    missing = [c for c in spec.required_columns if c not in frame.columns]
    if missing:
        for name in missing:
            close = difflib.get_close_matches(name, [c for c in frame.columns if c != SOURCE_COLUMN], n=1)
            fix = f"rename column {close[0]!r} to {name!r}" if close else f"add column {name!r}"
            problems.append(Problem(spec.name, name, "missing: the column is required", len(frame), [], fix,
                                    sorted(frame[SOURCE_COLUMN].unique().tolist())[:2]))
        return None
    known = {c.name for c in spec.columns} | {SOURCE_COLUMN}
    extra = [c for c in frame.columns if c not in known]
    if extra:
        warnings.append(f"{spec.name}: ignoring unknown column(s) {', '.join(extra)}")
        frame = frame.drop(columns=extra)
    if frame.empty and spec.name in ("groups", "billing") and not (window is not None and window.seen):
        problems.append(Problem(spec.name, "*", "present, but the table has no rows", 0, [],
                                f"export {spec.name} again with its rows",
                                [str(p.relative_to(data_dir)) for p in table_files(data_dir, spec.name)][:2]))
        return None
    unreadable = {}
    for col in spec.columns:
        if col.name in frame.columns:
            bad = _type_column(spec, frame, col, problems)
            if bad is not None and bad.any():
                unreadable[col.name] = bad
    _check_schema(spec, frame, problems, unreadable)
    return frame


def _line_month_keys(rows: pd.DataFrame, reference: pd.DataFrame) -> np.ndarray:
    """For each (month, member_id) of ``rows``: whether it occurs in ``reference`` (a DuckDB anti-join:
    hashing tens of millions of line ids is what DuckDB does fast)."""
    con = duckdb.connect()
    try:
        con.register("r", pd.DataFrame({"month": rows["month"], "member_id": rows["member_id"], "row": np.arange(len(rows))}))
        con.register("b", reference[["month", "member_id"]])
        missing = con.execute(
            "SELECT row FROM r ANTI JOIN b ON r.month::VARCHAR = b.month::VARCHAR AND r.member_id = b.member_id"
        ).fetchnumpy()["row"]
    finally:
        con.close()
    found = np.ones(len(rows), dtype=bool)
    found[np.asarray(missing, dtype=np.int64)] = False
    return found


def _check_links(tables: dict[str, pd.DataFrame], problems: list[Problem], last_month: str | None = None) -> None:
    groups = tables.get("groups")
    if groups is not None and not any(p.table == "groups" and p.column == "group_id" for p in problems):
        known = groups["group_id"].dropna().unique()
        for name, frame in tables.items():
            if TABLES[name].fk_groups and "group_id" in frame:
                mask = frame["group_id"].notna() & ~frame["group_id"].isin(known)
                if mask.any():
                    problems.append(_problem(TABLES[name], frame, mask, "group_id", "name groups not in table groups",
                                             "add the groups to groups or drop the rows"))
    billing, usage = tables.get("billing"), tables.get("usage")
    if billing is not None and usage is not None:
        mask = pd.Series(~_line_month_keys(usage, billing), index=usage.index)
        if mask.any():
            problems.append(_problem(TABLES["usage"], usage, mask, "member_id", "have no billing row for the same month and line",
                                     "a line is active only with a billing row; add the billing rows or drop the usage rows"))
    if usage is not None and {"forwarded_offnet_calls", "forwarded_calls"} <= set(usage):
        mask = (usage["forwarded_offnet_calls"] > usage["forwarded_calls"]).fillna(False).astype(bool)
        if mask.any():
            problems.append(_problem(TABLES["usage"], usage, mask, "forwarded_offnet_calls", "exceed forwarded_calls",
                                     "off-net forwards are a part of all forwards; correct the counts"))
    if last_month is None and billing is not None and billing["month"].notna().any():
        last_month = max(billing["month"].dropna())
    if last_month is not None:
        last = pd.Period(last_month, "M").end_time.normalize()
        for name in EVENT_TABLES:
            frame = tables.get(name)
            if frame is not None and len(frame):
                mask = (frame["date"] > last).fillna(False).astype(bool)
                if mask.any():
                    problems.append(_problem(TABLES[name], frame, mask, "date",
                                             f"are dated after the last billing month {last:%Y-%m}",
                                             "events cannot be later than the data export; correct the dates"))
    churn = tables.get("churn")
    if churn is not None and billing is not None:
        rows = billing.loc[billing["group_id"].isin(churn["group_id"].dropna().unique()), ["group_id", "month"]]
        rows = rows.dropna().astype({"group_id": TEXT, "month": TEXT})
        last = rows.groupby("group_id")["month"].max().rename("last_month").reset_index()
        merged = churn.merge(last, on="group_id").dropna(subset=["churn_month"])
        late = merged["last_month"] >= merged["churn_month"]
        if late.any():
            bad = churn["group_id"].isin(merged.loc[late, "group_id"])
            problems.append(_problem(TABLES["churn"], churn, bad, "churn_month", "have billing rows on or after their churn_month",
                                     "churn_month is the first month with no billing rows; correct it"))


def load_dataset(data_dir: Path, encoding: str | None = None, window: tuple[int, int] | None = None) -> Dataset:
    """Read and validate every table of ``data_dir``; raise ValidationFailed listing all problems.

    ``window`` (two month indexes) keeps only the billing and usage rows of those months, for a
    job that needs no more (scoring one month reads six months of history): memory and time then
    grow with the window, not with the length of the history. Rows outside it are not validated;
    ``churnkit validate`` checks everything.
    """
    data_dir = Path(data_dir)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise UsageError(f"--encoding {encoding!r} is not a known encoding; try gb18030, gbk or utf-8") from None
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: no such data directory; pass the folder holding groups, billing and usage")
    problems: list[Problem] = []
    warnings: list[str] = []
    tables = {}
    scope = None
    if window is not None:
        scope = {name: MonthWindow(format_month(window[0]), format_month(window[1]), track_groups=name == "billing")
                 for name in ("billing", "usage")}
    for spec in TABLES.values():
        frame = _read_and_type(data_dir, spec, encoding, problems, warnings, scope.get(spec.name) if scope else None)
        if frame is not None:
            tables[spec.name] = frame
    last_month = max(scope["billing"].seen) if scope and scope["billing"].seen else None
    _check_links(tables, problems, last_month)  # also after column problems: validate lists every problem at once
    if problems:
        raise ValidationFailed(data_dir, problems)
    for frame in tables.values():
        frame.drop(columns=[SOURCE_COLUMN], inplace=True)
    if "contracts" not in tables and "groups" in tables and "contract_end" in tables["groups"]:
        warnings.append("groups: months_to_contract_end comes from the static contract_end snapshot "
                        "(no contracts table); for past months it may show later renewals")
    if scope is None:
        return Dataset(data_dir, tables, warnings)
    first = scope["billing"].first_months()
    return Dataset(data_dir, tables, warnings, (scope["billing"].first, scope["billing"].last), first,
                   sorted(scope["billing"].seen))
