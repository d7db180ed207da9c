"""LightGBM: the feature matrix, fitting with early stopping, raw scores and exact TreeSHAP.

No class re-weighting (``is_unbalance`` / ``scale_pos_weight`` distort probabilities);
categorical profile columns (industry, region, value tier) are handled natively, with their
levels fixed at training time and stored in the bundle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from churnkit.errors import ModelError

# Treatment-aware training (model/treatment.py): 1 for a snapshot a retention contact may have
# changed. Scoring predicts what happens without contact, so a table without it reads 0.
UNTREATED = "contacted_in_window"


@dataclass(frozen=True)
class ModelSettings:
    """Hyperparameters. Capacity is kept small on purpose: exact TreeSHAP for every scored group
    costs about trees x leaves x depth, and on the sample the validation months prefer 7 leaves at
    depth 3 to 15 or 31 leaves (log loss 0.1141 vs 0.1154 and 0.1152), at half the SHAP time
    (see README, "Model", and benchmarks/bench_score.py). A seeded search of 16 wider settings on
    validation months (benchmarks/tune_model.py) found none better on ``make eval-model``'s six
    later months (lift and AUC within their paired intervals, the bigger trees at 3-12x the SHAP
    time), so these stay."""

    num_leaves: int = 7
    max_depth: int = 3
    learning_rate: float = 0.05
    n_estimators: int = 300
    early_stopping_rounds: int = 40
    min_child_samples: int = 40
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    lambda_l2: float = 1.0
    seed: int = 7
    threads: int = 2
    interaction: str = "none"  # "family": every tree splits on the signals of one reason family only
    monotone: bool = False  # risk forced to move in each signal's registered direction

    def constraints(self, features: list[str]) -> dict:
        """LightGBM's ``interaction_constraints`` / ``monotone_constraints`` for ``features`` (in
        model order), from the signal registry's families and directions."""
        from churnkit.signals.registry import SIGNALS, family_of

        out: dict = {}
        if self.interaction == "family":
            groups: dict[str, list[int]] = {}
            for i, name in enumerate(features):
                groups.setdefault(family_of(name), []).append(i)
            out["interaction_constraints"] = list(groups.values())
        elif self.interaction != "none":
            raise ModelError(f"unknown interaction setting {self.interaction!r}; choose none or family")
        if self.monotone:
            out["monotone_constraints"] = [SIGNALS[n].direction if n in SIGNALS else 0 for n in features]
            out["monotone_constraints_method"] = "advanced"
        return out

    def params(self) -> dict:
        return {
            "objective": "binary", "metric": "binary_logloss", "verbosity": -1,
            "num_leaves": self.num_leaves, "max_depth": self.max_depth, "learning_rate": self.learning_rate,
            "min_child_samples": self.min_child_samples, "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction, "bagging_freq": 1, "lambda_l2": self.lambda_l2,
            "seed": self.seed, "deterministic": True, "force_row_wise": True, "num_threads": self.threads,
        }

    def to_dict(self) -> dict:
        return asdict(self)


def category_levels(frame: pd.DataFrame, categorical: list[str]) -> dict[str, list[str]]:
    """Sorted levels of each categorical column as seen in training."""
    return {c: sorted(str(v) for v in frame[c].dropna().unique()) for c in categorical}


def matrix(frame: pd.DataFrame, features: list[str], levels: dict[str, list[str]]) -> pd.DataFrame:
    """The model's input: columns reordered by name to ``features``; categoricals with the training
    levels (unseen values become missing). A missing feature is a ModelError listing them, except
    the treatment flag (``UNTREATED``), which is 0 when absent: predicted as not contacted."""
    missing = [f for f in features if f not in frame.columns and f != UNTREATED]
    if missing:
        raise ModelError(f"the feature table lacks feature(s) the model needs: {', '.join(missing)}; "
                         "rebuild the features with the churnkit version that trained the model or retrain")
    X = pd.DataFrame(index=frame.index)
    for name in features:
        if name == UNTREATED and name not in frame.columns:
            X[name] = 0.0
            continue
        col = frame[name]
        if name in levels:
            X[name] = pd.Categorical(col.astype("string").astype(object).where(col.notna(), None), categories=levels[name])
        else:
            X[name] = pd.to_numeric(col, errors="coerce").astype("float64")
    return X


def fit(X_train: pd.DataFrame, y_train, X_valid: pd.DataFrame, y_valid, settings: ModelSettings,
        weight=None) -> lgb.Booster:
    """Train with early stopping on the (out-of-time) validation rows; ``weight`` undoes a sample
    of the training rows (1 / the sampling rate)."""
    cats = [c for c in X_train.columns if isinstance(X_train[c].dtype, pd.CategoricalDtype)]
    train = lgb.Dataset(X_train, label=np.asarray(y_train), weight=None if weight is None else np.asarray(weight, dtype=float),
                        categorical_feature=cats or "auto", free_raw_data=False)
    valid = lgb.Dataset(X_valid, label=np.asarray(y_valid), reference=train, categorical_feature=cats or "auto")
    return lgb.train(
        {**settings.params(), **settings.constraints(list(X_train.columns))}, train,
        num_boost_round=settings.n_estimators, valid_sets=[valid],
        callbacks=[lgb.early_stopping(settings.early_stopping_rounds, verbose=False)],
    )


def fit_rounds(X: pd.DataFrame, y, settings: ModelSettings, rounds: int, weight=None) -> lgb.Booster:
    """Train exactly ``rounds`` trees, no early stopping: the refit of a model whose number of
    trees an out-of-time evaluation already chose."""
    if rounds < 1:
        raise ModelError(f"a refit needs at least one tree, got {rounds}")
    cats = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    data = lgb.Dataset(X, label=np.asarray(y), weight=None if weight is None else np.asarray(weight, dtype=float),
                       categorical_feature=cats or "auto", free_raw_data=False)
    return lgb.train({**settings.params(), **settings.constraints(list(X.columns))}, data, num_boost_round=int(rounds))


def raw_score(booster: lgb.Booster, X: pd.DataFrame) -> np.ndarray:
    """Raw (log-odds) scores; feature names are checked against the model's."""
    return booster.predict(X, raw_score=True, validate_features=True, num_iteration=booster.best_iteration or None)


def contributions(booster: lgb.Booster, X: pd.DataFrame) -> np.ndarray:
    """Exact TreeSHAP: one column per feature plus the expected value last; rows sum to the raw score."""
    return booster.predict(X, pred_contrib=True, validate_features=True, num_iteration=booster.best_iteration or None)
