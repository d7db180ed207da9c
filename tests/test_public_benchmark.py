"""The public-data benchmark's data preparation and skip path, on tiny hand-made frames
(never the real data under /work/shared)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_public.py"


@pytest.fixture(scope="module")
def public():
    spec = importlib.util.spec_from_file_location("public_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- Cell2Cell
C2C_NUMERIC = ["revenue", "mou", "recchrge", "overage", "changem", "changer", "dropvce", "blckvce",
               "unansvce", "custcare", "outcalls", "incalls", "peakvce", "opeakvce", "dropblk", "months",
               "uniqsubs", "actvsubs", "phones", "eqpdays", "age1", "age2", "income", "setprc"]


def cell2cell_frame(n: int = 6, upper: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "customer": np.arange(1000001, 1000001 + n),
        "calibrat": [1, 1, 1, 1, 0, 0][:n] if n == 6 else rng.integers(0, 2, n),
        "churn": [1, 0, 1, 0, 0, 1][:n] if n == 6 else rng.integers(0, 2, n),
        "churndep": [1, 0, 1, 0, 0, 1][:n] if n == 6 else rng.integers(0, 2, n),
    })
    for c in C2C_NUMERIC:
        frame[c] = rng.integers(1, 50, n).astype(float)
    frame.loc[0, "income"] = 0
    frame.loc[1, "changem"] = np.nan
    if upper:
        frame.columns = [c.upper() for c in frame.columns]
    return frame


def test_cell2cell_split_by_calibrat_and_leakage_dropped(public):
    train, test = public.prepare_cell2cell(cell2cell_frame())
    assert len(train) == 4 and len(test) == 2
    assert train["customer"].tolist() == [1000001, 1000002, 1000003, 1000004]
    assert test["customer"].tolist() == [1000005, 1000006]
    for part in (train, test):
        assert "calibrat" not in part.columns and "churndep" not in part.columns
    features = public.cell2cell_features(train)
    assert "customer" not in features and "churn" not in features
    assert "revenue" in features and "eqpdays" in features
    assert train["churn"].tolist() == [1, 0, 1, 0]


def test_cell2cell_upper_case_columns_and_bad_label(public):
    train, test = public.prepare_cell2cell(cell2cell_frame(upper=True))
    assert {"customer", "churn"} <= set(train.columns) and "churndep" not in train.columns
    bad = cell2cell_frame()
    bad.loc[0, "churn"] = 2
    with pytest.raises(ValueError, match="churn"):
        public.prepare_cell2cell(bad)
    with pytest.raises(ValueError, match="calibrat"):
        public.prepare_cell2cell(cell2cell_frame().drop(columns="calibrat"))


def test_cell2cell_engineered_features(public):
    train, _ = public.prepare_cell2cell(cell2cell_frame())
    eng = public.engineer_cell2cell(train)
    assert np.isnan(eng.loc[0, "income"])  # 0 means missing in the data dictionary
    assert eng.loc[2, "mou_change_share"] == pytest.approx(train.loc[2, "changem"] / (train.loc[2, "mou"] + 1))
    assert np.isnan(eng.loc[1, "mou_change_share"])
    assert eng.loc[3, "eqp_tenure_ratio"] == pytest.approx(train.loc[3, "eqpdays"] / (train.loc[3, "months"] * 30.4))
    features = public.cell2cell_features(eng)
    assert "customer" not in features and "churn" not in features
    assert set(public.cell2cell_features(train)) < set(features)


# --------------------------------------------------------------------------- IBM Telco
def telco_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "customerID": ["0001-A", "0002-B", "0003-C", "0004-D"],
        "gender": ["Female", "Male", "Male", "Female"],
        "SeniorCitizen": [0, 1, 0, 0],
        "tenure": [0, 12, 30, 2],
        "PhoneService": ["Yes", "Yes", "No", "Yes"],
        "MultipleLines": ["No", "Yes", "No phone service", "No"],
        "InternetService": ["DSL", "Fiber optic", "No", "Fiber optic"],
        "OnlineSecurity": ["No", "Yes", "No internet service", "No"],
        "OnlineBackup": ["Yes", "No", "No internet service", "No"],
        "DeviceProtection": ["No", "Yes", "No internet service", "No"],
        "TechSupport": ["No", "No", "No internet service", "No"],
        "StreamingTV": ["No", "Yes", "No internet service", "Yes"],
        "StreamingMovies": ["No", "Yes", "No internet service", "No"],
        "Contract": ["Month-to-month", "One year", "Two year", "Month-to-month"],
        "PaperlessBilling": ["Yes", "No", "No", "Yes"],
        "PaymentMethod": ["Electronic check", "Bank transfer (automatic)", "Mailed check", "Credit card (automatic)"],
        "MonthlyCharges": [29.85, 100.0, 20.0, 70.0],
        "TotalCharges": [" ", "1100.5", "600", ""],
        "Churn": ["No", "Yes", "No", "Yes"],
    })


def test_telco_blanks_label_and_id(public):
    frame = public.prepare_telco(telco_frame())
    assert frame["Churn"].tolist() == [0, 1, 0, 1]
    assert frame["TotalCharges"].dtype == "float64"
    assert np.isnan(frame.loc[0, "TotalCharges"]) and np.isnan(frame.loc[3, "TotalCharges"])
    assert frame.loc[1, "TotalCharges"] == pytest.approx(1100.5)
    features = public.telco_features(frame)
    assert "customerID" not in features and "Churn" not in features
    assert "TotalCharges" in features and "Contract" in features
    with pytest.raises(ValueError, match="Yes/No"):
        public.prepare_telco(telco_frame().assign(Churn=["No", "Maybe", "No", "Yes"]))


def test_telco_engineered_features(public):
    eng = public.engineer_telco(public.prepare_telco(telco_frame()))
    assert eng["tenure_x_monthly"].tolist() == pytest.approx([0.0, 1200.0, 600.0, 140.0])
    assert np.isnan(eng.loc[0, "avg_monthly_charge"])  # tenure 0
    assert eng.loc[1, "avg_monthly_charge"] == pytest.approx(1100.5 / 12)
    # "Yes" services plus having internet: the second customer (phone, lines, security, device, TV, movies, fiber) = 7
    assert eng["n_services"].tolist() == [3, 7, 0, 3]
    assert eng["n_protection"].tolist() == [1, 2, 0, 0]
    assert eng["contract_months"].tolist() == [1, 12, 24, 1]
    assert eng["auto_pay"].tolist() == [0, 1, 0, 1]
    features = public.telco_features(eng)
    assert "customerID" not in features and "Churn" not in features


# --------------------------------------------------------------------------- folder and skip path
def test_data_folder_order(public, tmp_path):
    assert public.data_folder(str(tmp_path), {public.ENV: "/elsewhere"}) == tmp_path
    assert public.data_folder(None, {public.ENV: str(tmp_path)}) == tmp_path
    assert public.data_folder(None, {}) == public.ROOT.parent / "shared" / "datasets"


def test_skip_when_folder_absent(public, tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert public.main(["--data", str(missing), "--out", str(tmp_path / "r.json")]) == 0
    assert "skipped" in capsys.readouterr().out
    assert not (tmp_path / "r.json").exists()


def test_script_skips_with_exit_0(tmp_path):
    env = {"CHURNKIT_PUBLIC_DATA": str(tmp_path / "nowhere"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "r.json")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "skipped" in done.stdout and str(tmp_path / "nowhere") in done.stdout


# --------------------------------------------------------------------------- model choice on the training part
def _toy(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    x = rng.normal(size=n)
    kind = rng.choice(["a", "b", "c"], n)
    y = (x + (kind == "a") + rng.normal(scale=0.8, size=n) > 0.5).astype(int)
    return pd.DataFrame({"id": np.arange(n), "x": x, "noise": rng.normal(size=n), "kind": kind, "y": y})


def test_logistic_one_hot_text_and_probabilities(public):
    frame = _toy()
    prob = public.logistic_proba(frame.iloc[:200], frame.iloc[200:], "y", ["x", "noise", "kind"])
    assert prob.shape == (100,) and ((prob > 0) & (prob < 1)).all()
    from churnkit.model.metrics import roc_auc

    assert roc_auc(frame["y"].iloc[200:], prob) > 0.7


def test_inner_scores_cover_every_model_and_pair_on_the_training_part_only(public):
    from churnkit.model.lgbm import ModelSettings

    frame = _toy()
    small = {"tiny": ModelSettings(num_leaves=4, max_depth=2, n_estimators=20, min_child_samples=10, threads=1),
             "tinier": ModelSettings(num_leaves=2, max_depth=1, n_estimators=20, min_child_samples=10, threads=1)}
    scores = public._inner_scores(frame, "y", "id", {"all": ["x", "noise", "kind"]}, small, folds=3, seed=0)
    picks = {pick for pick, _ in scores}
    assert picks == {("tiny",), ("tinier",), ("logistic",), ("tiny", "tinier"), ("tiny", "logistic"), ("tinier", "logistic")}
    assert all(0.5 < v <= 1 for v in scores.values())
    blend = public.pick_proba(("tiny", "logistic"), frame.iloc[:200], frame.iloc[200:], "y", "id", ["x", "noise", "kind"],
                              (7,), small)
    assert blend.shape == (100,)
