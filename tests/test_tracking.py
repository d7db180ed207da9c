"""MLflow tracking of a training run: parameters, metrics, figures, the model, the champion alias,
and which store is used (explicit uri, then $MLFLOW_TRACKING_URI, then ./mlflow.db)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from conftest import fresh_store

from churnkit.features import build_features
from churnkit.model import lgbm
from churnkit.model.bundle import load_bundle
from churnkit.model.tracking import DEFAULT_URI, EXPERIMENT, MODEL_NAME, tracking_uri
from churnkit.model.train import train
from churnkit.months import parse_month
from churnkit.validate import load_dataset

pytestmark = pytest.mark.slow

PNG = b"\x89PNG\r\n\x1a\n"
ONE_THREAD = lgbm.ModelSettings(threads=1)  # the default model, without OpenMP threads competing on a busy machine








@pytest.fixture(scope="module")
def dataset(model_sim_dir):
    return load_dataset(model_sim_dir)


def sqlite_uri(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def tracked(dataset, tmp_path_factory):
    """One training run logged to an explicit sqlite store, with a decoy in $MLFLOW_TRACKING_URI."""
    work = tmp_path_factory.mktemp("tracked")
    store = fresh_store(tmp_path_factory, work / "store" / "mlflow.db")
    decoy = work / "decoy" / "mlflow.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)  # the sqlite store keeps its artifacts under ./mlruns
        mp.setenv("MLFLOW_TRACKING_URI", sqlite_uri(decoy))
        result = train(dataset, horizon=3, out=work / "bundle", track=True, tracking_uri=sqlite_uri(store), n_boot=20,
                       settings=ONE_THREAD)
        env_after = os.environ.get("MLFLOW_TRACKING_URI")
    return result, store, decoy, work, env_after


@pytest.fixture(scope="module")
def client(tracked):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=sqlite_uri(tracked[1]))


@pytest.fixture(scope="module")
def run(tracked, client):
    result = tracked[0]
    assert result.run_id is not None
    return client.get_run(result.run_id)


def test_explicit_uri_is_used_and_the_environment_left_alone(tracked):
    result, store, decoy, work, env_after = tracked
    assert not decoy.parent.exists()  # $MLFLOW_TRACKING_URI lost to the explicit uri
    assert not (work / "mlflow.db").exists()
    assert env_after == sqlite_uri(decoy)  # mlflow did not leave its uri in the environment


def test_run_holds_params_and_metrics(tracked, run, client):
    result = tracked[0]
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == EXPERIMENT
    assert run.info.status == "FINISHED"
    metrics, params = run.data.metrics, run.data.params
    for name in ("roc_auc", "pr_auc", "top_decile_lift", "gini", "emp"):
        assert metrics[f"test_{name}"] == pytest.approx(result.evaluation["model"][name])
        assert metrics[f"baseline_{name}"] == pytest.approx(result.evaluation["baseline"][name])
    for name in ("brier", "ece", "roc_auc_lo", "roc_auc_hi"):
        assert f"test_{name}" in metrics
    assert metrics["test_n"] == metrics["baseline_n"] == result.evaluation["model"]["n"]
    manifest = load_bundle(result.bundle).manifest
    assert params["horizon"] == "3"
    assert params["calibration"] == "platt"
    assert params["test_months"] == "2026-02,2026-03"
    assert params["valid_months"] == "2025-10,2025-11"
    assert params["lgbm_num_leaves"] == str(manifest["settings"]["num_leaves"])
    assert params["best_iteration"] == str(manifest["best_iteration"])
    assert params["data_hash"] == manifest["data"]["hash"]
    assert run.data.tags["champion"] == str(result.champion).lower()


def test_run_holds_the_figures_and_manifest(run, client, tmp_path):
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"lift.png", "calibration.png", "shap_summary.png", "manifest.json"} <= names
    for name in ("lift.png", "calibration.png", "shap_summary.png"):
        local = Path(client.download_artifacts(run.info.run_id, name, str(tmp_path)))
        data = local.read_bytes()
        assert data.startswith(PNG) and len(data) > 5_000, name


def test_logged_model_is_the_bundled_scorer(tracked, run, client, dataset):
    """The run logs one model, the pyfunc scorer, whose bundle is the bundle folder's model; it
    returns calibrated probabilities (not LightGBM's raw ones) and the family impacts."""
    import mlflow

    from churnkit.model.pyfunc import OUTPUTS
    from churnkit.score import predict

    result = tracked[0]
    models = client.search_logged_models(experiment_ids=[run.info.experiment_id])
    logged = [m for m in models if m.source_run_id == run.info.run_id]
    assert len(logged) == 1
    model = mlflow.pyfunc.load_model(logged[0].artifact_location)
    bundle = load_bundle(result.bundle)
    frame = build_features(dataset, [parse_month("2026-03")]).head(200)
    got = model.predict(frame)
    assert list(got.columns) == list(OUTPUTS)
    prob, impacts, base = predict(bundle, frame)
    np.testing.assert_allclose(got["churn_probability"], prob, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got["base_probability"], base, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got[[f"impact_{f}" for f in impacts.columns]].to_numpy(), impacts.to_numpy(), rtol=0, atol=1e-12)


def test_champion_is_registered_with_its_alias(tracked, run, client):
    result = tracked[0]
    evaluation = result.evaluation
    beats = (evaluation["model"]["top_decile_lift"] > evaluation["baseline"]["top_decile_lift"]
             and evaluation["model"]["pr_auc"] > evaluation["baseline"]["pr_auc"])
    assert result.champion == beats
    assert beats, "on the simulated operator the model is expected to beat the rule baseline"
    version = client.get_model_version_by_alias(MODEL_NAME, "champion")
    assert version.run_id == run.info.run_id
    assert client.get_registered_model(MODEL_NAME).aliases == {"champion": version.version}


def test_tracking_uri_resolution(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri() == DEFAULT_URI == "sqlite:///mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere/mlflow.db")
    assert tracking_uri() == "sqlite:////elsewhere/mlflow.db"
    assert tracking_uri("http://mlflow.internal:5000") == "http://mlflow.internal:5000"


def test_environment_uri_is_honoured_without_an_explicit_one(dataset, tmp_path, tmp_path_factory, monkeypatch):
    from mlflow import MlflowClient

    store = fresh_store(tmp_path_factory, tmp_path / "from-env" / "mlflow.db")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", sqlite_uri(store))
    monkeypatch.chdir(tmp_path)
    result = train(dataset, horizon=3, out=tmp_path / "bundle", track=True, n_boot=0, settings=ONE_THREAD)
    assert not (tmp_path / "mlflow.db").exists()  # not the default store in the working directory
    run = MlflowClient(tracking_uri=sqlite_uri(store)).get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert "test_roc_auc" in run.data.metrics
