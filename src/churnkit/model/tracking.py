"""MLflow tracking: the only module that imports mlflow.

Default tracking URI ``sqlite:///mlflow.db`` in the working directory (the file store is
deprecated); ``--tracking-uri`` or ``MLFLOW_TRACKING_URI`` override it. Each training run logs
its parameters, data fingerprint, every metric, the lift, calibration and SHAP figures and the
model: the whole scorer as a pyfunc carrying the bundle (see pyfunc.py). A run whose model beats
the rule baseline on the test months is registered as ``churnkit`` and given the alias
``champion``. :func:`model_folder` turns ``--model models:/churnkit@champion`` back into a bundle
folder. Only this module and pyfunc.py import mlflow.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from churnkit.errors import ModelError, StorageError
from churnkit.model import lgbm
from churnkit.model.bundle import load_bundle, save_bundle

DEFAULT_URI = "sqlite:///mlflow.db"
MODEL_NAME = "churnkit"
EXPERIMENT = "churnkit"
MODEL_URI = "models:/"  # a --model resolved through the MLflow registry rather than as a folder


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
                     uri: str | None = None, scoring_booster=None) -> str:
    """Log one training run; return its run id. ``fitted`` is the evaluated model (figures of the
    test months); the logged scorer holds ``scoring_booster`` (the refit; default: the evaluated one)."""
    import mlflow

    # mlflow.set_tracking_uri also writes MLFLOW_TRACKING_URI into os.environ: put it back, so a
    # later run in the same process without an explicit uri resolves it afresh.
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    try:
        return _log_training_run(fitted, manifest, result, X_test, y_test, champion, uri,
                                 fitted.booster if scoring_booster is None else scoring_booster)
    finally:
        mlflow.set_tracking_uri(previous)


def _decile_metrics(deciles: pd.DataFrame | None) -> dict[str, float]:
    """test_decile{d}_{predicted,realised,lo,hi} and the count of deciles whose interval misses the prediction."""
    if deciles is None or deciles.empty:
        return {}
    out = {f"test_decile{int(r.decile)}_{k}": float(getattr(r, k)) for r in deciles.itertuples()
           for k in ("predicted", "realised", "lo", "hi")}
    out["test_deciles_outside_interval"] = float((~deciles["within"]).sum())
    return out


def _log_training_run(fitted, manifest: dict, result: dict, X_test: pd.DataFrame, y_test, champion: bool,
                      uri: str | None, scoring_booster) -> str:
    import matplotlib.pyplot as plt
    import mlflow

    from churnkit.model import plots, pyfunc

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
            mlflow.log_metrics({**_flat("test", result["model"]), **_flat("baseline", result["baseline"]),
                                **_decile_metrics(result.get("deciles"))})
            if result.get("deciles") is not None:
                mlflow.log_table(result["deciles"], "calibration_deciles.json")
            mlflow.log_dict(manifest, "manifest.json")
            proba = fitted.calibrator(lgbm.raw_score(fitted.booster, X_test))
            for name, fig in (("lift.png", plots.lift_figure(result["lift"])),
                              ("calibration.png", plots.calibration_figure(y_test, proba)),
                              *((("calibration_deciles.png", plots.decile_calibration_figure(result["deciles"])),)
                                if result.get("deciles") is not None else ()),
                              ("shap_summary.png", plots.shap_summary_figure(lgbm.contributions(fitted.booster, X_test), X_test))):
                mlflow.log_figure(fig, name)
                plt.close(fig)
            with tempfile.TemporaryDirectory(prefix="churnkit-bundle-") as tmp:
                # the same bytes as the bundle folder train() wrote: same booster, same manifest
                bundle_dir = save_bundle(scoring_booster, manifest, Path(tmp) / "bundle")
                counts = [c for c, t in pyfunc.input_types(load_bundle(bundle_dir)).items() if t == "long"]
                example = X_test[X_test[counts].notna().all(axis=1)].head(5)
                info = pyfunc.log_model(bundle_dir, registered_model_name=MODEL_NAME if champion else None,
                                        input_example=example if len(example) else None)
            mlflow.set_tag("champion", str(champion).lower())
            if champion and info.registered_model_version is not None:
                mlflow.MlflowClient().set_registered_model_alias(MODEL_NAME, "champion", info.registered_model_version)
            return run.info.run_id


def fetch_bundle(model_uri: str, dest: Path, uri: str | None = None) -> Path:
    """Download the churnkit model ``model_uri`` (``models:/NAME@ALIAS``, ``models:/NAME/VERSION``
    or a logged model's ``models:/m-...``), from the store ``uri`` into ``dest``; return its bundle folder.
    A store, model, version or alias that is not there is a ModelError naming the fix."""
    import mlflow
    from mlflow.exceptions import MlflowException
    from mlflow.store.artifact.utils.models import get_model_name_and_version

    from churnkit.model.pyfunc import bundle_folder

    store = tracking_uri(uri)
    fix = "pass --tracking-uri (or set MLFLOW_TRACKING_URI) to the store `churnkit train` registered it in"
    if store.startswith("sqlite:///") and not Path(store[len("sqlite:///"):]).is_file():
        raise ModelError(f"{model_uri}: no MLflow store at {store}; {fix}")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.ERROR)
    bar = os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR")
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"  # the CLI shows its own status line
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # resolved here with a client of this store: mlflow's models:/ download asks the global
            # registry uri (./mlflow.db unless set), and would create that database if absent
            client = mlflow.MlflowClient(tracking_uri=store, registry_uri=store)
            found = get_model_name_and_version(client, model_uri)
            source = (client.get_logged_model(found[0]).artifact_location if len(found) == 1
                      else client.get_model_version_download_uri(*found))
            local = mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=str(dest), tracking_uri=store)
    except MlflowException as exc:
        raise ModelError(f"{model_uri}: not found in {store} ({str(exc.message).splitlines()[0]}); "
                         f"train one with `churnkit train --tracking-uri {store}` (a run that beats the baseline "
                         f"becomes the champion) or {fix}") from None
    finally:
        if bar is None:
            os.environ.pop("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", None)
        else:
            os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = bar
    return bundle_folder(Path(local))


@contextmanager
def model_folder(model: str | Path, uri: str | None = None):
    """The bundle folder that ``--model`` names: the folder itself, or for a ``models:/`` URI the
    registered model's bundle, downloaded to a temporary folder that is removed afterwards. Either
    way it is then loaded, hash checks included, by ``load_bundle``."""
    if not str(model).startswith(MODEL_URI):
        yield Path(model)
        return
    with tempfile.TemporaryDirectory(prefix="churnkit-model-") as tmp:
        yield fetch_bundle(str(model), Path(tmp), uri)


UPLIFT_MODEL_NAME = "churnkit-uplift"


def log_uplift_run(model, record: dict, uri: str | None = None, parent_run_id: str | None = None) -> str:
    """Log the uplift model trained beside a risk model: its settings and evidence, the average
    effect, the later wave's Qini coefficient, top-decile uplift and Qini curve (figure), the effect
    bands, and its LightGBM models. A model whose policy is ``saved_value`` is registered as
    ``churnkit-uplift`` with the alias ``champion``. Tagged with the risk model's run."""
    import matplotlib.pyplot as plt
    import mlflow

    previous = os.environ.get("MLFLOW_TRACKING_URI")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    try:
        mlflow.set_tracking_uri(tracking_uri(uri))
        mlflow.set_experiment(EXPERIMENT)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with mlflow.start_run(run_name="uplift", tags={"churnkit.kind": "uplift", "churnkit.risk_run": parent_run_id or ""}) as run:
                evidence, calibration = record.get("evidence", {}), record.get("calibration", {})
                mlflow.log_params({**{f"uplift_{k}": v for k, v in model.settings.to_dict().items()},
                                   "uplift_policy": record["policy"], "uplift_waves": ",".join(record.get("waves", []))})
                evaluation = record.get("evaluation") or {}
                mlflow.log_metrics({**_flat("evidence", {k: v for k, v in evidence.items() if k in ("waves", "treated", "holdout")}),
                                    **_flat("uplift", calibration),
                                    **_flat("later_wave", {k: evaluation.get(k) for k in ("qini_coefficient", "top_decile_uplift", "uplift_all")
                                                           if evaluation.get(k) is not None})})
                mlflow.log_dict(record, "uplift.json")
                if evaluation.get("qini_curve"):
                    from churnkit.model import plots

                    fig = plots.qini_figure(evaluation["qini_curve"], evaluation["wave"])
                    mlflow.log_figure(fig, "qini.png")
                    plt.close(fig)
                infos = {role: mlflow.lightgbm.log_model(booster, name=f"uplift_{role}")
                         for role, booster in model.boosters().items()}
                mlflow.set_tag("uplift_policy", record["policy"])
                if record["policy"] == "saved_value" and "effect" in infos:
                    version = mlflow.register_model(infos["effect"].model_uri, UPLIFT_MODEL_NAME)
                    mlflow.MlflowClient().set_registered_model_alias(UPLIFT_MODEL_NAME, "champion", version.version)
                return run.info.run_id
    except Exception as exc:
        if isinstance(exc, (ModelError, StorageError)):
            raise
        raise StorageError(f"MLflow tracking store {tracking_uri(uri)!r}: the uplift run could not be logged "
                           f"({str(exc).splitlines()[0]}); pass --tracking-uri or --no-track") from None
    finally:
        mlflow.set_tracking_uri(previous)
