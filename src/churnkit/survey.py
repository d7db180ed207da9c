"""`churnkit validate`: check a whole data directory in the engine and summarise it.

Every table is checked where it lies (DuckDB scans the files; see :mod:`churnkit.checks`), so a
province's export is checked on one machine: memory follows DuckDB's limit, and a join or
aggregate bigger than that spills to the engine's temporary folder. The summary (rows, groups,
months and gap months per table) comes from one more aggregate per table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from churnkit.contract import TABLES
from churnkit.engine import EngineSettings
from churnkit.months import format_month, parse_month
from churnkit.validate import Dataset, load_dataset


@dataclass
class Survey:
    summary: pd.DataFrame
    warnings: list[str]


def summarise(dataset: Dataset) -> pd.DataFrame:
    """One row per table: rows, groups, first and last month, months covered and gap months."""
    counts = dataset.summary or load_dataset(dataset.data_dir, survey=True, con=None).summary
    rows = []
    for name in TABLES:
        if name not in counts:
            continue
        info = {"table": name, "rows": counts[name]["rows"], "groups": counts[name]["groups"]}
        months = counts[name]["months"]
        if months:
            idx = [parse_month(m) for m in months]
            gaps = sorted(set(range(idx[0], idx[-1] + 1)) - set(idx))
            info.update(first=months[0], last=months[-1], months=str(len(months)),
                        gaps=", ".join(format_month(g) for g in gaps))
        rows.append(info)
    return pd.DataFrame(rows)


def survey(data_dir: Path, encoding: str | None = None, engine: EngineSettings | None = None) -> Survey:
    """Validate every table of ``data_dir``; raise ValidationFailed listing all problems."""
    dataset = load_dataset(data_dir, encoding, engine=engine, survey=True)
    return Survey(summarise(dataset), dataset.warnings)
