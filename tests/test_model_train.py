"""`churnkit train` end to end on a small simulated operator, and `train_table` on a plain table."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from conftest import MODEL_SIM
from typer.testing import CliRunner

from churnkit.cli import app
from churnkit.errors import DataError
from churnkit.families import FAMILIES
from churnkit.features import build_features, labels
from churnkit.model import lgbm
from churnkit.model.bundle import MANIFEST, MODEL_FILE, load_bundle
from churnkit.model.metrics import pr_auc, roc_auc, top_decile_lift
from churnkit.model.train import Fitted, train_table
from churnkit.months import parse_month
from churnkit.signals.registry import SIGNALS
from churnkit.simulate import simulate
from churnkit.validate import load_dataset

pytestmark = pytest.mark.slow







@pytest.fixture(scope="module")
def trained(model_sim_dir, tmp_path_factory):
    """`churnkit train --no-track --refit` run once, in an empty working directory."""
    work = tmp_path_factory.mktemp("train-cli")
    out = work / "models" / "latest"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        result = CliRunner().invoke(app, ["train", "--data", str(model_sim_dir), "--out", str(out), "--no-track", "--refit"])
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8")) if (out / MANIFEST).exists() else None
    return result, out, manifest, work


@pytest.fixture(scope="module")
def manifest_metrics_bundle(model_sim_dir, trained, tmp_path_factory):
    """The same training without the refit; its metrics equal the refitted run's."""
    from churnkit.model.train import train

    out = tmp_path_factory.mktemp("no-refit") / "model"
    train(load_dataset(model_sim_dir), out=out, track=False, refit=False)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["metrics"] == trained[2]["metrics"]
    assert "refit" not in manifest["months"] and "refit" not in manifest["evaluation"]
    return out, manifest


def test_cli_train_exits_0_and_writes_a_loadable_bundle(trained):
    result, out, manifest, work = trained
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, MODEL_FILE]
    assert manifest["model_sha256"] == hashlib.sha256((out / MODEL_FILE).read_bytes()).hexdigest()
    bundle = load_bundle(out)
    assert bundle.features == [f["name"] for f in manifest["features"]]
    # the summary names the test months and the verdict
    assert "2026-02..2026-03" in result.output
    assert "champion" in result.output
    # --no-track: no MLflow store appears in the working directory
    assert not (work / "mlflow.db").exists() and not (work / "mlruns").exists()


def test_manifest_lists_features_with_families_and_levels(trained):
    _, _, manifest, _ = trained
    names = [f["name"] for f in manifest["features"]]
    # every registered signal in registry order, then the profile categoricals the data hold
    assert names == [*SIGNALS, "industry", "region", "value_tier"]
    families = {f["name"]: f["family"] for f in manifest["features"]}
    assert set(families.values()) <= set(FAMILIES)
    assert families["industry"] == families["region"] == families["value_tier"] == "profile"
    assert families["member_change_3m"] == "member_loss"
    assert families["complaints_3m"] == "complaints"
    levels = manifest["categorical"]
    assert set(levels) == {"industry", "region", "value_tier"}
    assert levels["value_tier"] == ["A", "B", "C"]
    for values in levels.values():
        assert values == sorted(values) and len(values) == len(set(values)) > 1


def test_manifest_records_horizon_months_and_calibration(trained):
    _, _, manifest, _ = trained
    assert manifest["horizon"] == 3
    # data 2024-11..2026-06, horizon 3: snapshots up to 2026-03; test 2026-02..03,
    # validation 2026-02 - 3 = 2025-11 and the month before, training up to 2025-10 - 3 = 2025-07
    assert manifest["months"]["test"] == ["2026-02", "2026-03"]
    assert manifest["months"]["valid"] == ["2025-10", "2025-11"]
    assert manifest["months"]["train"] == [f"2024-{m}" for m in (11, 12)] + [f"2025-{m:02d}" for m in range(1, 8)]
    calibration = manifest["calibration"]
    assert calibration["method"] == "platt"
    assert calibration["a"] > 0  # probability increases with the raw score
    # groups scored at some snapshot (a few churn before the first one or open after the last)
    assert 0.9 * MODEL_SIM["groups"] < manifest["data"]["groups"] <= MODEL_SIM["groups"]
    assert manifest["data"]["months"] == "2024-11..2026-03"
    assert 1 <= manifest["best_iteration"] <= manifest["settings"]["n_estimators"]


def test_model_beats_the_rule_baseline_on_the_test_months(trained):
    _, _, manifest, _ = trained
    model, baseline = manifest["metrics"]["model"], manifest["metrics"]["baseline"]
    assert model["n"] == baseline["n"] and model["positives"] == baseline["positives"] >= 50
    assert model["top_decile_lift"] > baseline["top_decile_lift"]
    assert model["pr_auc"] > baseline["pr_auc"]
    assert model["roc_auc"] > max(baseline["roc_auc"], 0.65)
    assert model["top_decile_lift_lo"] <= model["top_decile_lift"] <= model["top_decile_lift_hi"]


def test_probabilities_are_calibrated_on_the_test_months(trained):
    _, _, manifest, _ = trained
    assert manifest["metrics"]["model"]["ece"] < 0.05


def test_the_scoring_model_is_refitted_on_every_usable_month(trained):
    _, out, manifest, _ = trained
    months = manifest["months"]
    # every snapshot month whose label is inside the data (2024-11..2026-03), gaps included
    usable = [f"2024-{m}" for m in (11, 12)] + [f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01", "2026-02", "2026-03"]
    assert months["refit"] == usable
    assert set(months["train"]) | set(months["valid"]) | set(months["test"]) < set(usable)
    evaluation = manifest["evaluation"]
    assert evaluation["months"] == {k: months[k] for k in ("train", "valid", "test")}
    # the trees the evaluation chose, no early stopping in the refit
    assert evaluation["refit"]["trees"] == evaluation["trees"] == manifest["best_iteration"]
    assert load_bundle(out).booster.current_iteration() == evaluation["trees"]
    # calibrated out of time: the evaluation's map, fitted on the validation months by a model
    # that did not learn from them, carried over to the refit (the measured better choice)
    assert evaluation["refit"]["calibration"] == "carried"
    assert months["calibration"] == months["valid"]
    # ... which lie at least H months after every month the evaluated model learned from
    assert min(map(parse_month, months["valid"])) - max(map(parse_month, months["train"])) >= manifest["horizon"]
    assert manifest["calibration"] == evaluation["calibration"]


def test_manifest_metrics_are_those_of_the_evaluated_model(manifest_metrics_bundle, model_sim_dir):
    """Without the refit the evaluated model is the bundle: re-scoring the test months with it
    gives the numbers of the manifest (which the refit leaves as they are)."""
    out, manifest = manifest_metrics_bundle
    dataset = load_dataset(model_sim_dir)
    test = build_features(dataset, [parse_month(m) for m in manifest["months"]["test"]])
    y = labels(test, dataset.get("churn"), manifest["horizon"]).to_numpy()
    bundle = load_bundle(out)
    prob = bundle.calibrator(lgbm.raw_score(bundle.booster, lgbm.matrix(test, bundle.features, bundle.levels)))
    model = manifest["metrics"]["model"]
    assert len(y) == model["n"] and y.sum() == model["positives"]
    assert pr_auc(y, prob) == pytest.approx(model["pr_auc"], rel=1e-9)
    assert roc_auc(y, prob) == pytest.approx(model["roc_auc"], rel=1e-9)
    assert top_decile_lift(y, prob) == pytest.approx(model["top_decile_lift"], rel=1e-9)


def test_train_without_churn_table_is_a_data_error(tmp_path):
    data = tmp_path / "no-churn"
    simulate(data, groups=60, months=20, start="2024-11", seed=3)
    (data / "churn.parquet").unlink()
    result = CliRunner().invoke(app, ["train", "--data", str(data), "--out", str(tmp_path / "b"), "--no-track"])
    assert result.exit_code == DataError.exit_code == 3
    assert "churn" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "b").exists()


def test_train_refuses_horizon_0(tmp_path):
    result = CliRunner().invoke(app, ["train", "--data", str(tmp_path), "--horizon", "0", "--no-track"])
    assert result.exit_code == 2
    assert "--horizon" in result.output


# --------------------------------------------------------------------------- train_table
def plain_table(n: int, seed: int) -> pd.DataFrame:
    """id, label and two features a data scientist might bring: a number and a text column."""
    rng = np.random.default_rng(seed)
    usage_drop = rng.normal(0, 1, n)
    segment = rng.choice(["retail", "government", "logistics"], n)
    z = -1.5 + 1.2 * usage_drop + np.where(segment == "retail", 1.0, np.where(segment == "government", -1.0, 0.0))
    return pd.DataFrame({
        "customer": [f"c{seed}-{i:05d}" for i in range(n)],
        "usage_drop": usage_drop,
        "segment": segment,
        "churned": (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int),
    })


def test_train_table_on_a_plain_table():
    frame, test = plain_table(3000, 1), plain_table(1000, 2)
    fitted = train_table(frame, "churned", id="customer", test=test, n_boot=20,
                         settings=lgbm.ModelSettings(threads=1))
    assert isinstance(fitted, Fitted)
    assert fitted.features == ["usage_drop", "segment"]  # the id and the label are not features
    assert fitted.levels == {"segment": ["government", "logistics", "retail"]}  # text is categorical
    prob = fitted.predict_proba(test)
    assert prob.shape == (len(test),)
    assert np.all((prob >= 0) & (prob <= 1))
    assert fitted.evaluation["n"] == len(test)
    assert fitted.evaluation["roc_auc"] > 0.6
    # calibrated: the mean probability is close to the churn rate of unseen rows
    assert abs(prob.mean() - test["churned"].mean()) < 0.05


def test_train_table_refuses_a_label_that_is_not_0_1():
    frame = plain_table(200, 1).assign(churned=lambda f: f["churned"] * 2)
    with pytest.raises(DataError, match="churned"):
        train_table(frame, "churned", id="customer")
