"""The uplift model trained from the retention table, beside the risk model, and its records."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from churnkit.months import parse_month
from churnkit.uplift.metrics import qini_curve
from churnkit.uplift.training import curve_points, fit_uplift, wave_rows


def _panel() -> pd.DataFrame:
    return pd.DataFrame({"group_id": ["a", "b", "c", "a", "b"], "month": ["2025-01", "2025-01", "2025-01", "2025-04", "2025-04"],
                         "label": [1, 0, 1, 0, 0], "x": [0.1, 0.2, 0.3, 0.4, 0.5]})


def _retention() -> pd.DataFrame:
    return pd.DataFrame({"wave": ["2025-01", "2025-01", "2025-01", "2025-04"], "group_id": ["a", "b", "c", "a"],
                         "assignment": ["treat", "holdout", "holdout", "treat"],
                         "assignment_probability": [0.8, 0.8, 0.0, 0.8], "recommended_action": ["call"] * 4,
                         "churn_probability": 0.1, "expected_loss": 100.0})


def test_wave_rows_by_hand():
    # data end 2025-06, horizon 3: wave 2025-01 is done (01 + 3 <= 06), wave 2025-04 is not (04 + 3 > 06);
    # c's stratum was held out whole (probability 0): nothing randomised, left out
    rows = wave_rows(_panel(), _retention(), horizon=3, last_month=parse_month("2025-06"))
    assert rows[["group_id", "treated", "label"]].values.tolist() == [["a", 1, 1], ["b", 0, 0]]
    assert rows["x"].tolist() == [0.1, 0.2]  # the signals at the wave month


def test_below_the_minimum_evidence_there_is_no_model():
    model, record = fit_uplift(_panel(), _retention(), 3, ["x"], [])
    assert model is None and record["policy"] == "risk_value"
    assert record["evidence"]["enough"] is False and record["reason"] == "not enough randomised waves yet"
    assert fit_uplift(_panel(), None, 3, ["x"], [])[1] == {"policy": "risk_value", "reason": "no retention table"}


def test_curve_points_pick_even_shares():
    curve = qini_curve(np.arange(20, 0, -1), np.array([1, 0] * 10), np.array([0, 1] * 10), 0.5)
    points = curve_points(curve, points=5)
    assert [p["share"] for p in points] == [0, 0.25, 0.5, 0.75, 1.0]
    assert points[-1]["per_group"] == pytest.approx(curve["per_group"].iloc[-1])


@pytest.mark.slow
def test_train_on_simulated_waves_records_and_tracks_the_uplift_model(tmp_path, tmp_path_factory):
    """``churnkit train`` on a world with monthly waves: treatment-aware risk model, uplift model in
    the bundle (hashed), its run in MLflow; ``score`` then says which policy ranked the month."""
    from mlflow import MlflowClient

    from churnkit.model.lgbm import UNTREATED
    from churnkit.model.train import train
    from churnkit.score import score
    from churnkit.simulate.campaigns import simulate_campaigns
    from churnkit.uplift.scoring import COLUMNS
    from churnkit.validate import load_dataset
    from conftest import fresh_store

    data = tmp_path / "data"
    simulate_campaigns(data, groups=1500, months=20, start="2025-01", seed=5, every=1)
    store = fresh_store(tmp_path_factory, tmp_path / "mlflow.db")
    uri = f"sqlite:///{store}"
    result = train(load_dataset(data), out=tmp_path / "model", tracking_uri=uri, n_boot=20)
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["treatment"]["mode"] == "feature" and manifest["treatment"]["treated_snapshots"] > 0
    assert UNTREATED in [f["name"] for f in manifest["features"]]
    uplift = manifest["uplift"]
    assert uplift["evidence"]["enough"] and uplift["evidence"]["waves"] >= 3
    assert set(manifest["files"]) == {"uplift_effect.txt"} and len(uplift["bands"]) == 5
    assert uplift["evaluation"]["qini_curve"][0] == {"share": 0.0, "per_group": 0.0, "random": 0.0}
    assert result.uplift["policy"] == uplift["policy"] in ("risk_value", "saved_value")
    runs = MlflowClient(tracking_uri=uri).search_runs([r.experiment_id for r in MlflowClient(tracking_uri=uri).search_experiments()],
                                                      filter_string="tags.`churnkit.kind` = 'uplift'")
    assert len(runs) == 1 and runs[0].data.tags["churnkit.risk_run"] == result.run_id
    assert "later_wave_qini_coefficient" in runs[0].data.metrics and "uplift_average_effect" in runs[0].data.metrics
    done = score(load_dataset(data), parse_month("2026-08"), tmp_path / "model", tmp_path / "scored.csv")
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    assert list(scored.columns[-3:]) == COLUMNS and (scored["ranked_by"] == uplift["policy"]).all()
    assert done.summary["scored"] == len(scored)
