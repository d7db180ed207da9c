"""Training: an out-of-time LightGBM with calibration, on churnkit's panel or any feature table.

``train`` is what ``churnkit train`` runs: build the panel of snapshot months, split it by month
(see split.py), fit LightGBM with early stopping on the validation months, calibrate on the same
validation months, evaluate beside the rule baseline on the test months; then refit the model
that scores on every usable month with the trees the evaluation chose, calibrated on rows it did
not learn from (see refit.py); write the bundle and log the run to MLflow. ``train_table`` does
the fitting and evaluation for a table a data scientist brings: an id, a label and feature columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from churnkit.campaign.table import read_retention
from churnkit.drift import reference as drift_reference
from churnkit.errors import DataError
from churnkit.features import PROFILE, TRAINING_ROWS, WEIGHT, month_indexes, training_panel, usable_months
from churnkit.model import lgbm
from churnkit.model.bundle import save_bundle
from churnkit.model.calibration import DEFAULT, Calibrator, decile_calibration, fit_calibrator
from churnkit.model.evaluation import beats_baseline, compare
from churnkit.model.metrics import evaluate
from churnkit.model.refit import DEFAULT_SOURCE, thinned
from churnkit.model.refit import refit as refit_model
from churnkit.model.split import Split, out_of_time_split
from churnkit.model.treatment import DEFAULT_MODE, treatment_aware
from churnkit.months import format_month, parse_month
from churnkit.signals.frame import LOOKBACK_MONTHS
from churnkit.signals.registry import SIGNALS, Settings, family_of
from churnkit.uplift.store import uplift_parts
from churnkit.uplift.training import fit_uplift
from churnkit.validate import Dataset


@dataclass
class Fitted:
    """A fitted model: booster, calibration, the ordered features and categorical levels."""

    booster: object
    calibrator: Calibrator
    features: list[str]
    levels: dict[str, list[str]]
    evaluation: dict = field(default_factory=dict)

    def raw(self, frame: pd.DataFrame) -> np.ndarray:
        return lgbm.raw_score(self.booster, lgbm.matrix(frame, self.features, self.levels))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.calibrator(self.raw(frame))


def fit_calibrated(train: pd.DataFrame, valid: pd.DataFrame, label: str, features: list[str], categorical: list[str],
                   settings: lgbm.ModelSettings, calibration: str = DEFAULT) -> Fitted:
    """LightGBM on ``train`` with early stopping on ``valid``; calibration fitted on ``valid``."""
    for part, name in ((train, "training"), (valid, "validation")):
        if part[label].nunique() < 2:
            raise DataError(f"the {name} rows hold a single class of {label!r}; both churners and stayers are needed")
    levels = lgbm.category_levels(train, categorical)
    Xtr, Xva = lgbm.matrix(train, features, levels), lgbm.matrix(valid, features, levels)
    weight = train[WEIGHT] if WEIGHT in train.columns else None
    booster = lgbm.fit(Xtr, train[label], Xva, valid[label], settings, weight=weight)
    raw_valid = lgbm.raw_score(booster, Xva)
    calibrator = fit_calibrator(raw_valid, valid[label].to_numpy(), calibration,
                                weight=valid[WEIGHT].to_numpy() if WEIGHT in valid.columns else None)
    return Fitted(booster, calibrator, features, levels)


def train_table(frame: pd.DataFrame, label: str, id: str | None = None, features: list[str] | None = None,
                categorical: list[str] | None = None, time: str | None = None, test: pd.DataFrame | None = None,
                horizon: int = 0, valid_fraction: float = 0.2, settings: lgbm.ModelSettings | None = None,
                calibration: str = DEFAULT, n_boot: int = 200, seed: int = 7) -> Fitted:
    """Train and evaluate on any feature table.

    With ``time`` (a sortable column such as a snapshot month), validation and test rows are the
    latest periods, separated by ``horizon`` periods; otherwise validation rows are a stratified
    random ``valid_fraction`` of ``frame`` and the test rows are ``test`` (if given). Text columns
    are treated as categorical unless ``categorical`` says otherwise.
    """
    settings = settings or lgbm.ModelSettings(seed=seed)
    if label not in frame.columns:
        raise DataError(f"label column {label!r} not in the table (columns: {', '.join(map(str, frame.columns[:10]))}...)")
    excluded = {label, id, time}
    features = features or [c for c in frame.columns if c not in excluded]
    if categorical is None:
        categorical = [c for c in features if not pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]
    y = pd.to_numeric(frame[label], errors="coerce")
    if y.isna().any() or not set(y.unique()) <= {0, 1}:
        raise DataError(f"label column {label!r} must hold only 0 and 1")
    frame = frame.assign(**{label: y.astype(int)})
    if time is not None:
        periods = sorted(frame[time].unique())
        split = out_of_time_split(list(range(len(periods))), horizon)
        index = frame[time].map({p: i for i, p in enumerate(periods)})
        train, valid = frame[index.isin(split.train)], frame[index.isin(split.valid)]
        test = frame[index.isin(split.test)] if test is None else test
    else:
        train, valid = train_test_split(frame, test_size=valid_fraction, stratify=frame[label], random_state=seed)
    fitted = fit_calibrated(train, valid, label, features, categorical, settings, calibration)
    if test is not None and len(test):
        yt = pd.to_numeric(test[label], errors="coerce").astype(int).to_numpy()
        fitted.evaluation = evaluate(yt, fitted.predict_proba(test), n_boot=n_boot, seed=seed)
    return fitted


TUNING_GRID = (
    {"num_leaves": 7, "max_depth": 3},
    {"num_leaves": 15, "max_depth": 5},
    {"num_leaves": 15, "max_depth": 5, "min_child_samples": 100},
    {"num_leaves": 31, "max_depth": 6},
)


def tune(train: pd.DataFrame, valid: pd.DataFrame, label: str, features: list[str], categorical: list[str],
         base: lgbm.ModelSettings) -> tuple[lgbm.ModelSettings, list[dict]]:
    """Time-aware tuning: each candidate of TUNING_GRID trains on the training months and is judged by
    its best log loss on the validation months; the test months are never read. The grid keeps to
    small trees because exact SHAP for every scored group grows with trees x leaves x depth."""
    from dataclasses import replace

    trials = []
    for candidate in TUNING_GRID:
        settings = replace(base, **candidate)
        levels = lgbm.category_levels(train, categorical)
        booster = lgbm.fit(lgbm.matrix(train, features, levels), train[label],
                           lgbm.matrix(valid, features, levels), valid[label], settings,
                           weight=train[WEIGHT] if WEIGHT in train.columns else None)
        trials.append({**candidate, "valid_logloss": float(booster.best_score["valid_0"]["binary_logloss"]),
                       "trees": int(booster.best_iteration or booster.current_iteration())})
    best = min(range(len(trials)), key=lambda i: (trials[i]["valid_logloss"], i))
    return replace(base, **TUNING_GRID[best]), trials


def model_features(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The model's features: every registered signal, then the profile categoricals."""
    categorical = [c for c in PROFILE if c in frame.columns and frame[c].notna().any()]
    return [*SIGNALS, *categorical], categorical


def _drift_reference(panel: pd.DataFrame, train_months: list[int], first_month: int) -> dict:
    """Drift bins over the training months whose signal history lies wholly inside the data. Months
    closer to the data's start see no history (every 3- and 6-month change null, every line "new");
    no scoring month looks like that, so they would flag drift every month that retraining cannot
    cure. With no such month, every training month is used."""
    full = [m for m in train_months if m - LOOKBACK_MONTHS >= first_month] or list(train_months)
    rows = panel[panel["month"].map(parse_month).isin(full)]
    return drift_reference(rows, list(SIGNALS), [format_month(m) for m in full])


@dataclass
class TrainResult:
    bundle: Path
    split: Split
    evaluation: dict
    champion: bool
    rows: int
    run_id: str | None = None
    warnings: list[str] = field(default_factory=list)
    uplift: dict = field(default_factory=dict)  # with a retention table: the targeting policy and why


def fingerprint(panel: pd.DataFrame) -> dict:
    digest = pd.util.hash_pandas_object(panel[["group_id", "month", "label"]], index=False).to_numpy()
    return {"months": f"{panel['month'].min()}..{panel['month'].max()}", "groups": int(panel["group_id"].nunique()),
            "rows": int(len(panel)), "hash": f"{int(np.bitwise_xor.reduce(digest)) & (2**64 - 1):016x}"}


def train(dataset: Dataset, horizon: int = 3, out: Path = Path("models/latest"), settings: lgbm.ModelSettings | None = None,
          signal_settings: Settings | None = None, calibration: str = DEFAULT, tracking_uri: str | None = None,
          track: bool = True, engine: str = "duckdb", n_boot: int = 200, test_months: int = 2, valid_months: int = 2,
          tune_grid: bool = False, progress=None, max_rows: int = TRAINING_ROWS, refit: bool = False,
          refit_calibration: str = DEFAULT_SOURCE, treatment: str = DEFAULT_MODE) -> TrainResult:
    """Build the panel, fit, calibrate, evaluate beside the baseline, save the bundle, log to MLflow.
    With ``refit`` the model that scores is refitted on every usable month (see refit.py); it is off
    by default: on the simulations it ranked no better, and every backtest month becomes in-sample.
    With a ``retention`` table the risk model learns what happens without contact (``treatment``,
    see treatment.py) and the uplift model is trained beside it (churnkit.uplift.training)."""
    settings = settings or lgbm.ModelSettings()
    signal_settings = signal_settings or Settings()
    step = progress or (lambda message: None)
    months = usable_months(month_indexes(dataset), horizon)
    split = out_of_time_split(months, horizon, valid_months=valid_months, test_months=test_months)
    step("building the training panel")
    panel = training_panel(dataset, horizon, signal_settings, engine, sample_months=split.train, max_rows=max_rows, seed=settings.seed)
    retention = read_retention(dataset.data_dir)
    full_panel = panel
    panel, treatment_record = treatment_aware(panel, retention, horizon, treatment)
    mi = panel["month"].map(parse_month)
    parts = {name: panel[mi.isin(getattr(split, name))] for name in ("train", "valid", "test")}
    features, categorical = model_features(panel)
    if lgbm.UNTREATED in panel.columns:  # treatment as a feature; scoring predicts as untreated (0)
        features = [*features, lgbm.UNTREATED]
    trials = []
    if tune_grid:
        step("tuning on the validation months")
        settings, trials = tune(parts["train"], parts["valid"], "label", features, categorical, settings)
    step("fitting LightGBM")
    fitted = fit_calibrated(parts["train"], parts["valid"], "label", features, categorical, settings, calibration)
    step("evaluating on the test months")
    test = parts["test"]
    prob_test = fitted.predict_proba(test)
    result = compare(test, test["label"].to_numpy(), prob_test, n_boot=n_boot)
    result["deciles"] = decile_calibration(test["label"].to_numpy(), prob_test)
    champion = beats_baseline(result)
    trees = int(fitted.booster.best_iteration or fitted.booster.current_iteration())
    evaluation = {"months": {name: [format_month(m) for m in getattr(split, name)] for name in ("train", "valid", "test")},
                  "trees": trees, "calibration": fitted.calibrator.to_dict(),
                  "test_deciles": result["deciles"].to_dict(orient="records")}
    scoring = fitted
    months_used = dict(evaluation["months"])
    if refit:
        step("refitting on every usable month")
        rows = thinned(panel, split.train, float(panel.attrs.get("sample", {}).get("rate", 1.0)), seed=settings.seed)
        done = refit_model(rows, months, "label", features, categorical, settings, trees, horizon, calibration,
                           refit_calibration, carried=fitted.calibrator, carried_months=split.valid)
        scoring = Fitted(done.booster, done.calibrator, features, done.levels)
        evaluation["refit"] = done.describe()
        months_used.update(refit=evaluation["refit"]["months"], calibration=evaluation["refit"]["calibration_months"])
    manifest = {
        "features": [{"name": f, "family": family_of(f)} for f in features],
        "categorical": scoring.levels,
        "calibration": scoring.calibrator.to_dict(),
        "horizon": horizon,
        "months": months_used,
        "metrics": {"model": result["model"], "baseline": result["baseline"]},
        "settings": settings.to_dict(),
        "tuning": trials,
        "signal_settings": {k: getattr(signal_settings, k) for k in Settings.names()},
        "data": fingerprint(panel),
        "training_sample": panel.attrs.get("sample", {}),
        "best_iteration": int(scoring.booster.best_iteration or scoring.booster.current_iteration()),
        "evaluation": evaluation,
        "drift_reference": _drift_reference(panel, split.train, min(month_indexes(dataset))),
        "treatment": treatment_record,
    }
    uplift_model, files = None, {}
    if retention is not None:
        step("training the uplift model on the retention waves")
        signals = [f for f in features if f != lgbm.UNTREATED]
        uplift_model, uplift_record = fit_uplift(full_panel, retention, horizon, signals, categorical)
        manifest["uplift"], files = uplift_parts(uplift_model, uplift_record)
    step("writing the bundle")
    path = save_bundle(scoring.booster, manifest, out, extra=files)
    run_id = None
    if track:
        step("logging the run to MLflow")
        from churnkit.model.tracking import log_training_run

        X_test = lgbm.matrix(test, features, fitted.levels)
        run_id = log_training_run(fitted, manifest, result, X_test, test["label"].to_numpy(), champion, tracking_uri,
                                  scoring_booster=scoring.booster)
        if uplift_model is not None:
            from churnkit.model.tracking import log_uplift_run

            log_uplift_run(uplift_model, manifest["uplift"], tracking_uri, parent_run_id=run_id)
    warnings = list(dataset.warnings)
    uplift = {} if retention is None else {"policy": manifest["uplift"]["policy"], "reason": manifest["uplift"].get("reason"),
                                           "treated_snapshots": treatment_record["treated_snapshots"], "treatment": treatment}
    return TrainResult(path, split, result, champion, len(panel), run_id, warnings, uplift)
