"""The feature table: signals plus the group profile, for one month or a panel of months.

This is the one place that turns a validated :class:`~churnkit.validate.Dataset` into the table
the model reads, and that stores builds under ``features/`` (one parquet file per month).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from churnkit.errors import DataError, UsageError
from churnkit.io import write_frame
from churnkit.months import format_month, parse_month
from churnkit.signals.build import signals_of as build_signals
from churnkit.signals.frame import LOOKBACK_MONTHS
from churnkit.signals.registry import Settings
from churnkit.validate import Dataset

PROFILE = ("industry", "region", "value_tier")


def scoring_window(month: int) -> tuple[int, int]:
    """The months of billing and usage that the signals of ``month`` read."""
    return month - LOOKBACK_MONTHS, month


def month_indexes(dataset: Dataset) -> list[int]:
    """Month indexes present in billing, sorted."""
    return [parse_month(m) for m in dataset.months]


def check_month(dataset: Dataset, month: int) -> None:
    """Refuse a scoring month with no billing rows, naming it and the months available."""
    months = dataset.coverage
    if format_month(month) not in set(dataset.months):
        raise DataError(
            f"{dataset.data_dir}: billing has no rows for month {format_month(month)} "
            f"(data cover {months[0]}..{months[-1]}); export that month or choose another --month"
        )


def build_features(dataset: Dataset, months: list[int], settings: Settings | None = None,
                   engine: str = "duckdb") -> pd.DataFrame:
    """Signals and profile columns for every scored group and month in ``months``, built in the
    engine; one row per group and month comes back."""
    for month in months:
        check_month(dataset, month)
    if dataset.window is not None:
        if format_month(min(months) - LOOKBACK_MONTHS) < dataset.window[0] or format_month(max(months)) > dataset.window[1]:
            raise UsageError(f"the data were loaded for {dataset.window[0]}..{dataset.window[1]} only; "
                             f"signals for {format_month(min(months))} need {LOOKBACK_MONTHS} months of history")
    signals = build_signals(dataset, months, settings, engine=engine)
    groups = dataset["groups"]
    profile = groups[["group_id", *[c for c in PROFILE if c in groups.columns]]].copy()
    for col in PROFILE:
        if col not in profile:
            profile[col] = None
    return signals.merge(profile, on="group_id", how="left", validate="many_to_one")


def store_features(frame: pd.DataFrame, store: Path) -> list[Path]:
    """Write one parquet file per month under ``store`` (e.g. ``features/2026-10.parquet``)."""
    paths = []
    for month, part in frame.groupby("month", sort=True):
        paths.append(write_frame(part.reset_index(drop=True), Path(store) / f"{month}.parquet"))
    return paths


def labels(frame: pd.DataFrame, churn: pd.DataFrame | None, horizon: int) -> pd.Series:
    """1 when the group churns in (M, M + horizon], else 0 (data contract, "Labels")."""
    if churn is None:
        churn = pd.DataFrame({"group_id": pd.Series([], dtype=object), "churn_month": pd.Series([], dtype=object)})
    cm = frame[["group_id"]].merge(churn[["group_id", "churn_month"]], on="group_id", how="left")["churn_month"]
    churn_mi = cm.map(lambda m: parse_month(m) if isinstance(m, str) else None).astype("Float64")
    mi = frame["month"].map(parse_month).astype("Float64").to_numpy()
    y = (churn_mi.to_numpy() > mi) & (churn_mi.to_numpy() <= mi + horizon)
    return pd.Series(pd.array(y, dtype="boolean").fillna(False).astype(int), index=frame.index, name="label")


def usable_months(all_months: list[int], horizon: int) -> list[int]:
    """Snapshot months whose label window ends within the data (M + horizon <= last month)."""
    if not all_months:
        return []
    last = max(all_months)
    return [m for m in sorted(all_months) if m + horizon <= last]


def training_panel(dataset: Dataset, horizon: int = 3, settings: Settings | None = None,
                   engine: str = "duckdb") -> pd.DataFrame:
    """Features at every usable snapshot month with the churn label over ``horizon`` months."""
    if dataset.get("churn") is None:
        raise DataError(f"{dataset.data_dir}: training needs the churn table (group_id, churn_month); add churn.parquet or churn.csv")
    months = usable_months(month_indexes(dataset), horizon)
    if not months:
        raise DataError(f"{dataset.data_dir}: no month M with M + {horizon} inside the data; training needs a longer history")
    frame = build_features(dataset, months, settings, engine)
    frame["label"] = labels(frame, dataset.get("churn"), horizon)
    return frame
