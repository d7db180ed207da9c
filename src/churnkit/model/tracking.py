"""MLflow tracking: the only module that imports mlflow.

Default tracking URI ``sqlite:///mlflow.db`` in the working directory (the file store is
deprecated); ``--tracking-uri`` or ``MLFLOW_TRACKING_URI`` override it. Each training run logs
its parameters, data fingerprint, every metric, the lift, calibration and SHAP figures and the
LightGBM model with its signature. A run whose model beats the rule baseline on the test months
is registered as ``churnkit`` and given the alias ``champion``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
import warnings

import numpy as np
import pandas as pd

from churnkit.errors import StorageError
from churnkit.model import lgbm, plots

DEFAULT_URI = "sqlite:///mlflow.db"
MODEL_NAME = "churnkit"
EXPERIMENT = "churnkit"


def tracking_uri(explicit: str | None = None) -> str:
    return explicit or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI


def artifact_location(uri: str) -> str | None:
    """Artifacts of a sqlite store go beside the database (``mlartifacts/``), not into ./mlruns."""
    if uri.startswith("sqlite:///"):
        return (Path(uri[len("sqlite:///"):]).resolve().parent / "mlartifacts").as_uri()
    return None


def _flat(prefix: str, metrics: dict) -> dict[str, float]:
    return {f"{prefix}_{k}": float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and np.isfinite(v)}


def log_training_run(fitted, manifest: dict, result: dict, X_test: pd.DataFrame, y_test, champion: bool,
                     uri: str | None = None) -> str:
    """Log one training run; return its run id."""
    import mlflow

    # mlflow.set_tracking_uri also writes MLFLOW_TRACKING_URI into os.environ: put it back, so a
    # later run in the same process without an explicit uri resolves it afresh.
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    try:
        return _log_training_run(fitted, manifest, result, X_test, y_test, champion, uri)
    finally:
        mlflow.set_tracking_uri(previous)


def _log_training_run(fitted, manifest: dict, result: dict, X_test: pd.DataFrame, y_test, champion: bool,
                      uri: str | None = None) -> str:
    import matplotlib.pyplot as plt
    import mlflow
    from mlflow.models import infer_signature

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    try:
        mlflow.set_tracking_uri(tracking_uri(uri))
        if mlflow.get_experiment_by_name(EXPERIMENT) is None:
            mlflow.create_experiment(EXPERIMENT, artifact_location=artifact_location(tracking_uri(uri)))
        mlflow.set_experiment(EXPERIMENT)
    except Exception as exc:  # an unreachable or unwritable store
        raise StorageError(f"MLflow tracking store {tracking_uri(uri)!r} is not usable ({str(exc).splitlines()[0]}); "
                           "pass --tracking-uri or --no-track") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mlflow.start_run() as run:
            mlflow.log_params({**{f"lgbm_{k}": v for k, v in manifest["settings"].items()},
                               **{f"signal_{k}": v for k, v in manifest["signal_settings"].items()},
                               "horizon": manifest["horizon"], "calibration": manifest["calibration"]["method"],
                               "best_iteration": manifest["best_iteration"],
                               **{f"{k}_months": ",".join(v) for k, v in manifest["months"].items()},
                               **{f"data_{k}": v for k, v in manifest["data"].items()}})
            mlflow.log_metrics({**_flat("test", result["model"]), **_flat("baseline", result["baseline"])})
            mlflow.log_dict(manifest, "manifest.json")
            proba = fitted.calibrator(lgbm.raw_score(fitted.booster, X_test))
            for name, fig in (("lift.png", plots.lift_figure(result["lift"])),
                              ("calibration.png", plots.calibration_figure(y_test, proba)),
                              ("shap_summary.png", plots.shap_summary_figure(lgbm.contributions(fitted.booster, X_test), X_test))):
                mlflow.log_figure(fig, name)
                plt.close(fig)
            sample = X_test.head(5)
            signature = infer_signature(sample, fitted.booster.predict(sample, raw_score=True))
            info = mlflow.lightgbm.log_model(fitted.booster, name="model", signature=signature,
                                             registered_model_name=MODEL_NAME if champion else None)
            mlflow.set_tag("champion", str(champion).lower())
            if champion and info.registered_model_version is not None:
                mlflow.MlflowClient().set_registered_model_alias(MODEL_NAME, "champion", info.registered_model_version)
            return run.info.run_id
