"""The feature table: signals plus the group profile, for one month or a panel of months.

This is the one place that turns a validated :class:`~churnkit.validate.Dataset` into the table
the model reads, and that stores builds under ``features/`` (one parquet file per month).
"""

from __future__ import annotations

from pathlib import Path

import ibis
import numpy as np
import pandas as pd

from churnkit.errors import DataError, UsageError
from churnkit.io import write_frame
from churnkit.months import format_month, parse_month
from churnkit.signals.build import finish, stored_signals
from churnkit.signals.build import signals_in_parts
from churnkit.signals.build import signals_of as build_signals
from churnkit.signals.frame import LOOKBACK_MONTHS
from churnkit.signals.registry import Settings
from churnkit.validate import Dataset

PROFILE = ("industry", "region", "value_tier")
TRAINING_ROWS = 3_000_000  # training snapshots beyond which non-churners are sampled (see training_panel)
EVALUATION_ROWS = 1_000_000  # snapshots of the other months (validation, test) beyond which all are sampled alike
WEIGHT = "weight"


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
    return with_profile(dataset, build_signals(dataset, months, settings, engine=engine))


def with_profile(dataset: Dataset, signals: pd.DataFrame) -> pd.DataFrame:
    """The signal table with each group's profile columns (industry, region, value tier)."""
    groups = dataset["groups"]
    profile = groups[["group_id", *[c for c in PROFILE if c in groups.columns]]].copy()
    for col in PROFILE:
        if col not in profile:
            profile[col] = None
    return signals.merge(profile, on="group_id", how="left", validate="many_to_one")


def features_in_parts(dataset: Dataset, parts: list[list[int]], settings: Settings | None = None,
                      engine: str = "duckdb"):
    """:func:`build_features` for each list of months in ``parts``, one frame per part as it is
    built; the monthly aggregates of billing and usage are computed once for all parts (the
    report's month and its backtest months: one pass over the line tables, not one per part)."""
    for months in parts:
        for month in months:
            check_month(dataset, month)
    for frame in signals_in_parts(dataset, parts, settings, engine=engine):
        yield with_profile(dataset, frame)


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


def training_panel(dataset: Dataset, horizon: int = 3, settings: Settings | None = None, engine: str = "duckdb",
                   sample_months: list[int] | None = None, max_rows: int = TRAINING_ROWS, seed: int = 7,
                   evaluation_rows: int = EVALUATION_ROWS) -> pd.DataFrame:
    """Features at every usable snapshot month with the churn label over ``horizon`` months.

    When the snapshots of ``sample_months`` (the training months) number more than ``max_rows``,
    every churner snapshot is kept and the others are sampled in the engine, by a seeded hash of
    (group, month), at the rate that brings them to about ``max_rows``; the kept non-churners get
    the weight 1 / rate (column ``weight``), so the weighted panel stands for all of them. When
    the other months (validation and test: calibration and evaluation) hold more than
    ``evaluation_rows`` snapshots, they are sampled alike, churners and stayers at the same rate
    and unweighted, so that calibration and the reported metrics still read a true cross-section
    of those months. A dataset opened on Spark (:func:`churnkit.spark.load_dataset`) builds its
    panel there."""
    if getattr(dataset, "engine", "duckdb") == "spark":
        from churnkit.spark.panel import training_panel as on_spark

        return on_spark(dataset, horizon, settings, sample_months, max_rows, seed, evaluation_rows)
    if dataset.get("churn") is None:
        raise DataError(f"{dataset.data_dir}: training needs the churn table (group_id, churn_month); add churn.parquet or churn.csv")
    months = usable_months(month_indexes(dataset), horizon)
    if not months:
        raise DataError(f"{dataset.data_dir}: no month M with M + {horizon} inside the data; training needs a longer history")
    train_months = [m for m in months if m in set(sample_months or [])]
    rate = sample_rate(dataset, train_months, max_rows)
    other_rate = sample_rate(dataset, [m for m in months if m not in set(train_months)], evaluation_rows)
    if rate >= 1.0 and other_rate >= 1.0:
        frame = build_features(dataset, months, settings, engine)
        frame["label"] = labels(frame, dataset.get("churn"), horizon)
        frame.attrs["sample"] = {"rate": 1.0}
        return frame
    frame = _sampled_features(dataset, months, settings, engine, train_months, rate, other_rate, seed, horizon)
    frame["label"] = labels(frame, dataset.get("churn"), horizon)
    return weighed(frame, frame["month"].map(parse_month).isin(set(train_months)).to_numpy(), rate, other_rate,
                   train_months, seed)


def weighed(frame: pd.DataFrame, in_training, rate: float, other_rate: float, train_months: list[int],
            seed: int) -> pd.DataFrame:
    """A sampled panel with its ``weight`` (1 / rate for the kept stayers of the training months,
    1 elsewhere) and what it says of itself in ``attrs["sample"]`` (the bundle's ``training_sample``)."""
    sampled = np.asarray(in_training) & (frame["label"] == 0).to_numpy()
    frame[WEIGHT] = np.where(sampled, 1.0 / rate, 1.0)
    frame.attrs["sample"] = {"rate": rate, "months": [format_month(m) for m in sorted(train_months)], "seed": seed,
                             "kept_rows": int(len(frame)), "evaluation_rate": other_rate}
    return frame


def sample_rate(dataset: Dataset, months: list[int], max_rows: int) -> float:
    """The share of snapshots to keep so that ``months`` give about ``max_rows`` (1.0: keep all);
    counted in the engine from the active groups of each month."""
    if not months:
        return 1.0
    listed = ", ".join(f"'{format_month(m)}'" for m in months)
    rows = dataset.db.execute(f"SELECT count(*) FROM (SELECT DISTINCT group_id, month FROM typed_billing "
                              f"WHERE month IN ({listed}))").fetchall()[0][0]
    return 1.0 if rows <= max_rows else max_rows / rows


def _sampled_features(dataset: Dataset, months: list[int], settings, engine: str, sample_months: list[int], rate: float,
                      other_rate: float, seed: int, horizon: int) -> pd.DataFrame:
    """build_features with the sampling applied in the engine: only kept rows come back."""
    if engine != "duckdb":
        raise UsageError("sampled training panels run on DuckDB; pass --engine duckdb for training at this scale")
    with stored_signals(dataset, settings or Settings()) as expr_of, expr_of(months) as (tables, expr):
        churn = tables["churn"].select(c_group="group_id", churn_mi="churn_mi")
        e = expr.left_join(churn, expr.group_id == churn.c_group)
        churner = (e.churn_mi > e.mi) & (e.churn_mi <= e.mi + horizon)
        keep = sample_filter(e, churner.fill_null(False), sample_months, rate, other_rate, seed)
        return with_profile(dataset, finish(dataset.con.execute(e.filter(keep).drop("c_group", "churn_mi"))))


def sample_filter(e, churner, sample_months: list[int], rate: float, other_rate: float, seed: int):
    """The kept snapshots, as an Ibis condition on ``e`` (group_id, mi): in ``sample_months`` every
    churner and a ``rate`` share of the others, elsewhere an ``other_rate`` share of all; each by
    a seeded hash of (group, month), so the same seed keeps the same rows."""
    key = e.group_id.concat(ibis.literal(":"), e.mi.cast("string"), ibis.literal(f":{seed}")).hash()
    draw = (key % 1_000_000).abs()
    training = e.mi.isin(list(sample_months))
    kept_in_training = churner | (draw < int(round(min(rate, 1.0) * 1_000_000)))
    kept_elsewhere = draw < int(round(min(other_rate, 1.0) * 1_000_000))
    return (training & kept_in_training) | (~training & kept_elsewhere)
