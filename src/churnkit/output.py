"""The scored file (data contract, "Output: the scored file, version 1") written safely.

CSV for people (UTF-8 with BOM so Excel shows Chinese; text cells that Excel would run as a
formula are prefixed with an apostrophe), a parquet twin for machines, and the excluded list.
All files are first written under temporary names and only then renamed into place, so a crash
or a full disk leaves the previous month's files untouched and nothing partial behind.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from churnkit.errors import StorageError
from churnkit.io import write_all

SCORED_COLUMNS = [
    "month", "group_id", "group_name", "account_manager", "value_tier", "active_lines", "spend",
    "churn_probability", "risk_rank", "risk_decile", "expected_loss", "action",
    "reason_1", "reason_1_impact", "reason_1_text", "reason_2", "reason_2_impact", "reason_2_text",
    "reason_3", "reason_3_impact", "reason_3_text", "script_id", "script_title", "script_steps",
]
EXCLUDED_COLUMNS = ["month", "group_id", "group_name", "reason", "detail"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DECIMALS = {"spend": 2, "churn_probability": 4, "expected_loss": 2, "base_probability": 4,
            "reason_1_impact": 4, "reason_2_impact": 4, "reason_3_impact": 4, "churn_reduction": 4, "saved_value": 2}


def escape_cell(value):
    """Prefix text that a spreadsheet would evaluate (=, +, -, @, tab, CR) with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def for_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy safe to open in Excel: text columns escaped, numbers untouched."""
    safe = frame.copy()
    for col in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[col]):
            safe[col] = safe[col].astype(object).map(escape_cell)
    return safe


def round_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col, n in DECIMALS.items():
        if col in out:
            out[col] = out[col].astype("float64").round(n)
    return out


def _csv(frame: pd.DataFrame, path: Path) -> None:
    for_spreadsheet(frame).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")


def _parquet(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False)


def excluded_path(out: Path) -> Path:
    out = Path(out)
    return out.with_name(f"{out.stem}.excluded.csv")


def write_scored(scored: pd.DataFrame, excluded: pd.DataFrame, out: Path) -> list[Path]:
    """Write ``out`` (CSV), its parquet twin and ``<stem>.excluded.csv``, all or nothing: every
    file is written and flushed under a temporary name before the first one is renamed into place."""
    out = Path(out)
    return write_all([(out, lambda tmp: _csv(scored, tmp)), (out.with_suffix(".parquet"), lambda tmp: _parquet(scored, tmp)),
                      (excluded_path(out), lambda tmp: _csv(excluded, tmp))])


def write_scored_batches(batches, excluded: pd.DataFrame, out: Path) -> list[Path]:
    """Write the scored table arriving as an iterable of frames (in rank order) to ``out`` (CSV),
    its parquet twin and the excluded list, all or nothing, holding one batch at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from churnkit.io import atomic_path, commit_all

    out = Path(out)
    staged = []
    try:
        with atomic_path(out, commit=False) as csv_tmp, atomic_path(out.with_suffix(".parquet"), commit=False) as pq_tmp:
            writer = None
            try:
                for i, frame in enumerate(batches):
                    try:
                        if i == 0:
                            _csv(frame, csv_tmp)  # the header (with the BOM) and the first batch
                        else:
                            with open(csv_tmp, "a", encoding="utf-8", newline="") as fh:
                                for_spreadsheet(frame).to_csv(fh, index=False, header=False, lineterminator="\r\n")
                    except OSError as exc:  # name the CSV, not the parquet twin written alongside
                        raise StorageError(f"{out}: cannot write ({exc.strerror or exc}); nothing was changed there, "
                                           "free space or choose another --out") from None
                    table = pa.Table.from_pandas(frame, preserve_index=False)
                    if writer is None:
                        schema = table.schema
                        writer = pq.ParquetWriter(pq_tmp, schema)
                    writer.write_table(table.cast(schema))
            finally:
                if writer is not None:
                    writer.close()
        staged += [(csv_tmp, out), (pq_tmp, out.with_suffix(".parquet"))]
        with atomic_path(excluded_path(out), commit=False) as ex_tmp:
            _csv(excluded, ex_tmp)
        staged.append((ex_tmp, excluded_path(out)))
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    commit_all(staged)
    return [out, out.with_suffix(".parquet"), excluded_path(out)]
