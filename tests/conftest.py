"""Shared fixtures: tiny hand-made data directories and the committed sample."""

from __future__ import annotations

import os
from pathlib import Path

# LightGBM's OpenMP threads spin while waiting; on a busy 2-core CI box that makes small fits
# many times slower. Must be set before lightgbm is first imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def tiny_tables() -> dict[str, pd.DataFrame]:
    """Two groups, three months, valid under the contract."""
    groups = pd.DataFrame({
        "group_id": ["510100000000000001", "510100000000000002"],
        "group_name": ["成都甲科技有限公司", "乙贸易"],
        "value_tier": ["A", "C"],
        "contract_end": ["2026-12-31", None],
        "opened": ["2020-01-15", "2026-01-01"],
    })
    billing = pd.DataFrame({
        "month": ["2026-01", "2026-01", "2026-02", "2026-02", "2026-03", "2026-01"],
        "group_id": ["510100000000000001"] * 5 + ["510100000000000002"],
        "member_id": ["m1", "m2", "m1", "m2", "m1", "m3"],
        "charge": [100.0, 50.0, 90.0, 40.0, 80.0, 30.0],
        "plan_fee": [88.0, 58.0, 88.0, None, 88.0, 30.0],
    })
    usage = pd.DataFrame({
        "month": ["2026-01", "2026-02", "2026-03"],
        "group_id": ["510100000000000001"] * 3,
        "member_id": ["m1", "m1", "m1"],
        "call_count": [10, 0, 3],
        "call_minutes": [30.5, 0.0, 4.0],
        "forwarded_calls": [0, 12, 2],
        "forwarded_offnet_calls": [0, 5, 0],
        "competitor_hotline_calls": [0, 1, 0],
    })
    return {"groups": groups, "billing": billing, "usage": usage}


def write_tables(root: Path, tables: dict[str, pd.DataFrame], fmt: str = "parquet", encoding: str = "utf-8") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if fmt == "parquet":
            frame.to_parquet(root / f"{name}.parquet", index=False)
        else:
            frame.to_csv(root / f"{name}.csv", index=False, encoding=encoding)
    return root


@pytest.fixture(autouse=True)
def own_check_records(tmp_path, monkeypatch):
    """Each test keeps its record of passed checks (churnkit.checked) to itself."""
    monkeypatch.setenv("CHURNKIT_CACHE_DIR", str(tmp_path.parent / f"{tmp_path.name}-cache"))


@pytest.fixture
def tiny_dir(tmp_path) -> Path:
    return write_tables(tmp_path / "data", tiny_tables())


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory) -> Path:
    """A small simulated data directory (600 groups x 20 months), made once per test session."""
    from churnkit.simulate import simulate

    root = tmp_path_factory.mktemp("sim") / "data"
    simulate(root, groups=600, months=20, start="2025-01", seed=11)
    return root


@pytest.fixture(scope="session")
def trained_bundle(sim_dir, tmp_path_factory) -> Path:
    """A model bundle trained on ``sim_dir`` without MLflow tracking."""
    from churnkit.model.train import train
    from churnkit.validate import load_dataset

    out = tmp_path_factory.mktemp("models") / "latest"
    train(load_dataset(sim_dir), horizon=3, out=out, track=False, n_boot=20)
    return out


#: the model tests' operator: 2,000 groups x 20 months gives about 100 churners in the two test
#: months, enough for the model's lead over the rule baseline to show (17 usable months at H=3)
MODEL_SIM = {"groups": 2000, "months": 20, "start": "2024-11", "seed": 7}


@pytest.fixture(scope="session")
def model_sim_dir(tmp_path_factory) -> Path:
    """The model tests' simulated data directory, written once per session."""
    from churnkit.simulate import simulate

    root = tmp_path_factory.mktemp("model-sim") / "data"
    simulate(root, **MODEL_SIM)
    return root


def fresh_store(tmp_path_factory, path: Path) -> Path:
    """A new, empty MLflow sqlite store at ``path``: a copy of one migrated once per session
    (creating the schema is most of MLflow's start-up time)."""
    import shutil

    template = tmp_path_factory.getbasetemp() / "mlflow-empty.db"
    if not template.exists():
        from mlflow import MlflowClient

        making = template.with_name("mlflow-empty.making.db")
        MlflowClient(tracking_uri=f"sqlite:///{making}").search_experiments()
        making.rename(template)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, path)
    return path


SAMPLE_GROUPS = 400  # groups of the sample compared in the engine and point-in-time tests: keeps Spark to seconds


@pytest.fixture(scope="session")
def sample_subset(tmp_path_factory) -> dict[str, pd.DataFrame]:
    """Validated tables of the committed sample's first SAMPLE_GROUPS groups (all their rows, every
    month), or of a small simulated set when the sample is absent. Loaded once per session."""
    from churnkit.validate import load_dataset

    if (SAMPLE / "billing").exists() or (SAMPLE / "billing.parquet").exists():
        frames = load_dataset(SAMPLE).to_frames()
        keep = set(sorted(frames["groups"]["group_id"])[:SAMPLE_GROUPS])
        return {name: frame[frame["group_id"].isin(keep)].reset_index(drop=True) for name, frame in frames.items()}
    from churnkit.simulate import simulate

    root = tmp_path_factory.mktemp("sim-small") / "data"
    simulate(root, groups=300, months=14, start="2025-01", seed=1)
    return load_dataset(root).to_frames()


@pytest.fixture(scope="session")
def sample_bundle(tmp_path_factory) -> Path:
    """A model bundle trained on the committed sample (no MLflow), as `make demo` trains it."""
    from churnkit.model.train import train
    from churnkit.validate import load_dataset

    out = tmp_path_factory.mktemp("sample-model") / "latest"
    train(load_dataset(SAMPLE), horizon=3, out=out, track=False, n_boot=20)
    return out


@pytest.fixture(scope="session")
def report_files(sample_bundle, tmp_path_factory) -> tuple[Path, Path]:
    """The report of the sample's latest month, written by the real command: (html, json)."""
    from typer.testing import CliRunner

    from churnkit.cli import app

    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(app, ["report", "--data", str(SAMPLE), "--month", "latest", "--model", str(sample_bundle),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out, out.with_suffix(".json")


@pytest.fixture(scope="session")
def spark_cluster():
    """One Spark session for every test_spark_* module, on a real (small) cluster: Spark's
    ``local-cluster`` mode, a master and two worker processes each with one executor of one core
    and 1 GB, started from the pip ``pyspark`` (SPARK_HOME is its package folder). Skipped only
    without a Java runtime."""
    import shutil
    import sys

    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime (no `java` on PATH)")
    import pyspark
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_HOME", os.path.dirname(pyspark.__file__))
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    active = SparkSession.getActiveSession()
    if active is not None and not active.sparkContext.master.startswith("local-cluster"):
        active.stop()  # a local-mode session of another module; the cluster replaces it
    spark = (SparkSession.builder.master("local-cluster[2,1,1024]").appName("churnkit-tests")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
             .config("spark.executorEnv.OMP_NUM_THREADS", "1").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    from churnkit.spark.session import session

    yield session()
    spark.stop()
