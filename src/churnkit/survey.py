"""`churnkit validate`: check a whole data directory, a few months at a time, and summarise it.

Billing and usage are read in chunks of ``chunk_months`` calendar months (every check on them is
within a month: keys, usage without billing, unknown groups), so memory follows the chunk, not
the length of the history, and a province's export can be checked on one machine. Problems of
the line tables are added up across chunks; those of the other tables are reported once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from churnkit.contract import TABLES
from churnkit.errors import UsageError
from churnkit.io import table_months
from churnkit.months import format_month, parse_month
from churnkit.validate import Dataset, Problem, ValidationFailed, load_dataset

LINE_TABLES = tuple(name for name, spec in TABLES.items() if spec.date_column == "month")


@dataclass
class _Totals:
    rows: int = 0
    groups: set = field(default_factory=set)
    months: set = field(default_factory=set)
    has_groups: bool = False


@dataclass
class Survey:
    summary: pd.DataFrame
    warnings: list[str]
    chunks: int


def _add(totals: dict[str, _Totals], dataset: Dataset, first_chunk: bool) -> None:
    for name, frame in dataset.tables.items():
        if name not in LINE_TABLES and not first_chunk:
            continue
        t = totals.setdefault(name, _Totals())
        t.rows += len(frame)
        if "group_id" in frame:
            t.has_groups = True
            t.groups.update(frame["group_id"].dropna().astype(str).unique())
        date = TABLES[name].date_column
        if date == "month":
            t.months.update(frame["month"].dropna().astype(str).unique())
        elif date == "date" and len(frame):
            t.months.update(frame["date"].dropna().dt.strftime("%Y-%m").unique())


def _table(totals: dict[str, _Totals]) -> pd.DataFrame:
    rows = []
    for name in TABLES:
        if name not in totals:
            continue
        t = totals[name]
        info = {"table": name, "rows": t.rows, "groups": len(t.groups) if t.has_groups else None}
        if t.months:
            months = sorted(t.months)
            idx = [parse_month(m) for m in months]
            gaps = sorted(set(range(idx[0], idx[-1] + 1)) - set(idx))
            info.update(first=months[0], last=months[-1], months=str(len(months)),
                        gaps=", ".join(format_month(g) for g in gaps))
        rows.append(info)
    return pd.DataFrame(rows)


def summarise(dataset: Dataset) -> pd.DataFrame:
    """One row per table of a loaded dataset: rows, groups, months covered and gap months."""
    totals: dict[str, _Totals] = {}
    _add(totals, dataset, first_chunk=True)
    return _table(totals)


def _merge(problems: list[Problem], new: list[Problem]) -> None:
    """Add up line-table problems of the same kind; keep other tables' problems once."""
    for problem in new:
        same = next((p for p in problems if (p.table, p.column, p.what, p.fix) == (problem.table, problem.column, problem.what, problem.fix)), None)
        if same is None:
            problems.append(replace(problem))
        elif problem.table in LINE_TABLES:
            same.count += problem.count
            same.examples = (same.examples + problem.examples)[:3]
            same.files = sorted(set(same.files) | set(problem.files))


def survey(data_dir: Path, encoding: str | None = None, chunk_months: int = 3) -> Survey:
    """Validate every table of ``data_dir`` in chunks of months; raise ValidationFailed listing all problems."""
    if chunk_months < 1:
        raise UsageError(f"--chunk-months must be at least 1, not {chunk_months}")
    months = table_months(data_dir, "billing", encoding) if Path(data_dir).is_dir() else []
    if not months:  # nothing to chunk by: one pass reports whatever is wrong
        dataset = load_dataset(data_dir, encoding)
        return Survey(summarise(dataset), dataset.warnings, 1)
    lo, hi = parse_month(months[0]), parse_month(months[-1])
    windows = [(start, min(start + chunk_months - 1, hi)) for start in range(lo, hi + 1, chunk_months)]
    totals: dict[str, _Totals] = {}
    problems: list[Problem] = []
    warnings: list[str] = []
    for i, window in enumerate(windows):
        try:
            dataset = load_dataset(data_dir, encoding, window=window)
        except ValidationFailed as exc:
            _merge(problems, exc.problems)
            continue
        warnings.extend(w for w in dataset.warnings if w not in warnings)
        _add(totals, dataset, first_chunk=not totals)
    if problems:
        order = list(TABLES)
        problems.sort(key=lambda p: order.index(p.table) if p.table in order else len(order))  # stable
        raise ValidationFailed(Path(data_dir), problems)
    return Survey(_table(totals), warnings, len(windows))
