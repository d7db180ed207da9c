"""The ``retention`` table of the data directory (data contract, version 2).

One row per group per wave, keyed by (``wave``, ``group_id``). ``churnkit campaign plan`` writes
the decision columns, ``churnkit campaign import`` fills the managers' columns; the outcome is
never stored here, it is read from ``churn``. churnkit writes the table as
``DATA_DIR/retention.parquet``; it reads a ``retention.csv`` or a ``retention/`` folder too, but
then refuses to write over it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from churnkit.errors import DataError
from churnkit.io import SOURCE_COLUMN, read_table, table_files

PLAN_COLUMNS = [
    "wave", "group_id", "assignment", "assignment_probability", "stratum", "churn_probability",
    "expected_loss", "reason_1", "recommended_action", "script_id", "model_version", "account_manager",
]
MANAGER_COLUMNS = ["contacted", "action_taken", "script_used", "offer", "offer_cost", "note"]
COLUMNS = PLAN_COLUMNS + MANAGER_COLUMNS
TEXT = ["wave", "group_id", "assignment", "stratum", "reason_1", "recommended_action", "script_id", "model_version",
        "account_manager", "action_taken", "script_used", "offer", "note"]
NUMBERS = ["assignment_probability", "churn_probability", "expected_loss", "offer_cost"]
ASSIGNMENTS = ("treat", "holdout")
TAKEN = ("visit", "call", "care", "none")


def table_path(data_dir: Path) -> Path:
    """Where churnkit writes the table."""
    return Path(data_dir) / "retention.parquet"


def empty() -> pd.DataFrame:
    return typed(pd.DataFrame({c: [] for c in COLUMNS}))


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The contract's columns in order, with stable types (text as pandas strings, dates as dates)."""
    out = pd.DataFrame(index=frame.index)
    for col in COLUMNS:
        values = frame[col] if col in frame.columns else pd.Series([None] * len(frame), index=frame.index)
        if col in NUMBERS:
            out[col] = pd.to_numeric(values, errors="coerce").astype("float64")
        elif col == "contacted":
            out[col] = pd.to_datetime(values, errors="coerce").dt.date.astype(object).where(lambda s: s.notna(), None)
        else:
            out[col] = values.astype("string").where(values.notna(), pd.NA)
    return out.sort_values(["wave", "group_id"], kind="stable").reset_index(drop=True)


def read_retention(data_dir: Path) -> pd.DataFrame | None:
    """The data directory's retention table, checked (key, assignments, probabilities); None when absent."""
    raw = read_table(Path(data_dir), "retention")
    if raw is None:
        return None
    raw = raw.drop(columns=[SOURCE_COLUMN], errors="ignore")
    where = f"{Path(data_dir)}: table retention"
    missing = [c for c in PLAN_COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(f"{where} lacks column(s) {', '.join(missing)}; it must hold the columns of data contract v2 "
                        "(plan a wave with `churnkit campaign plan` to create it)")
    frame = typed(raw)
    twice = frame.duplicated(["wave", "group_id"], keep=False)
    if twice.any():
        first = frame[twice].iloc[0]
        raise DataError(f"{where}: (wave, group_id) ({first['wave']}, {first['group_id']}) appears more than once; "
                        "keep one row per group per wave")
    odd = ~frame["assignment"].isin(ASSIGNMENTS)
    if odd.any():
        raise DataError(f"{where}: assignment {frame.loc[odd, 'assignment'].iloc[0]!r} in wave {frame.loc[odd, 'wave'].iloc[0]}; "
                        "use treat or holdout")
    bad = ~frame["assignment_probability"].between(0, 1)
    if bad.any():
        raise DataError(f"{where}: assignment_probability must lie in 0..1 (group {frame.loc[bad, 'group_id'].iloc[0]})")
    return frame


def writable(data_dir: Path) -> Path:
    """The path to write the table to, refusing when it is held in another form (CSV or a folder)."""
    files = table_files(Path(data_dir), "retention")
    target = table_path(data_dir)
    if files and files != [target]:
        raise DataError(f"{Path(data_dir)}: table retention is held as {files[0].name}; churnkit writes retention.parquet, "
                        "convert the table to retention.parquet (same columns) and remove the other file")
    return target


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    out = typed(frame)
    out.to_parquet(path, index=False)
