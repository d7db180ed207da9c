"""The champion that training registers is the whole scorer, usable four ways: in a notebook
(``mlflow.pyfunc.load_model``), served over HTTP (``mlflow models serve``), on Spark
(``mlflow.pyfunc.spark_udf``) and from ``churnkit score --model models:/churnkit@champion``; each
gives the numbers ``churnkit score`` gives."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import fresh_store
from typer.testing import CliRunner

from churnkit.cli import app
from churnkit.errors import ModelError
from churnkit.families import FAMILIES
from churnkit.features import build_features
from churnkit.model import lgbm
from churnkit.model.bundle import MANIFEST, MODEL_FILE, load_bundle
from churnkit.model.pyfunc import OUTPUTS, input_types, model_input
from churnkit.model.tracking import fetch_bundle
from churnkit.model.train import train
from churnkit.months import parse_month
from churnkit.score import predict, probability
from churnkit.validate import load_dataset

pytestmark = pytest.mark.slow

CHAMPION = "models:/churnkit@champion"
MONTH = "2026-06"  # the last month of the model tests' operator (conftest.MODEL_SIM)
TOL = 1e-12


@pytest.fixture(scope="module")
def dataset(model_sim_dir):
    return load_dataset(model_sim_dir)


@pytest.fixture(scope="module")
def registry(dataset, tmp_path_factory):
    """A training run logged to a fresh sqlite store, its model registered as the champion:
    (result, store uri)."""
    work = tmp_path_factory.mktemp("registry")
    store = fresh_store(tmp_path_factory, work / "mlflow.db")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        result = train(dataset, horizon=3, out=work / "bundle", track=True, tracking_uri=f"sqlite:///{store}", n_boot=0,
                       settings=lgbm.ModelSettings(threads=1))
    assert result.champion, "on the simulated operator the model is expected to beat the rule baseline"
    return result, f"sqlite:///{store}"


@pytest.fixture(scope="module")
def signals(dataset) -> pd.DataFrame:
    """The signal table of the scoring month, as churnkit builds it (Int64 counts, text profile)."""
    return build_features(dataset, [parse_month(MONTH)])


@pytest.fixture(scope="module")
def expected(registry, signals) -> pd.DataFrame:
    """The library's numbers for ``signals``: what `churnkit score` writes before rounding."""
    bundle = load_bundle(registry[0].bundle)
    prob, impacts, base = predict(bundle, signals)
    np.testing.assert_allclose(prob, probability(bundle, signals), rtol=0, atol=TOL)  # the ranking step's probability
    out = pd.DataFrame({"churn_probability": probability(bundle, signals), "base_probability": base})
    for family in FAMILIES:
        out[f"impact_{family}"] = impacts[family].to_numpy()
    return out


def assert_same_numbers(got: pd.DataFrame, expected: pd.DataFrame) -> float:
    assert list(got.columns) == list(OUTPUTS)
    assert len(got) == len(expected)
    gap = float(np.max(np.abs(got.to_numpy(dtype=float) - expected[list(OUTPUTS)].to_numpy(dtype=float))))
    assert gap <= TOL, gap
    return gap


def test_notebook_loads_the_champion_and_predicts_the_signal_table(registry, signals, expected, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry[1])
    model = mlflow.pyfunc.load_model(CHAMPION)
    got = model.predict(signals)  # as built: group_id and month are ignored, Int64 counts and text accepted
    gap = assert_same_numbers(got.reset_index(drop=True), expected)
    print(f"notebook: {len(got)} rows, max |difference| {gap:.1e}")
    impacts = got[[f"impact_{f}" for f in FAMILIES]].sum(axis=1)
    np.testing.assert_allclose(impacts, got["churn_probability"] - got["base_probability"], rtol=0, atol=1e-12)
    # the signature's own types (text, int64, float64) work as well
    np.testing.assert_array_equal(model.predict(model_input(load_bundle(registry[0].bundle), signals)).to_numpy(),
                                  got.to_numpy())


def test_signature_states_the_signal_table(registry, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry[1])
    info = mlflow.models.get_model_info(CHAMPION)
    bundle = load_bundle(registry[0].bundle)
    inputs = {c.name: c.type.name for c in info.signature.inputs.inputs}
    assert list(inputs) == bundle.features
    assert inputs == input_types(bundle)
    assert inputs["industry"] == inputs["region"] == inputs["value_tier"] == "string"
    assert inputs["active_lines"] == "long" and inputs["member_change_3m"] == "double"
    assert [c.name for c in info.signature.outputs.inputs] == list(OUTPUTS)
    assert set(info.flavors) == {"python_function"}  # not the LightGBM flavor and its raw probability


def test_registered_bundle_is_the_bundle_folder(registry, tmp_path):
    result, store = registry
    folder = fetch_bundle(CHAMPION, tmp_path, store)
    for name in (MODEL_FILE, MANIFEST):
        assert (folder / name).read_bytes() == (result.bundle / name).read_bytes(), name
    assert load_bundle(folder).manifest["model_sha256"] == load_bundle(result.bundle).manifest["model_sha256"]
    model_dir = folder.parents[1]  # <model>/artifacts/bundle
    assert (model_dir / "MLmodel").is_file()
    assert not list(model_dir.rglob("*.pkl"))  # a model from code: nothing to unpickle


def test_pyfunc_keeps_the_bundle_hash_check(registry, tmp_path):
    import mlflow

    folder = fetch_bundle(CHAMPION, tmp_path, registry[1])
    text = (folder / MODEL_FILE).read_text(encoding="utf-8")
    (folder / MODEL_FILE).write_text(text.replace("shrinkage=", "shrinkage=1", 1), encoding="utf-8")
    with pytest.raises(ModelError, match="SHA-256 does not match"):
        mlflow.pyfunc.load_model(str(folder.parents[1]))


def score_files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.parent.glob(f"{out.stem}*"))}


def test_cli_scores_from_the_registry_as_from_the_folder(registry, model_sim_dir, tmp_path, monkeypatch):
    result, store = registry
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    runner = CliRunner()
    base = ["score", "--data", str(model_sim_dir), "--month", MONTH]
    folder = runner.invoke(app, [*base, "--model", str(result.bundle), "--out", str(tmp_path / "a" / "scored.csv")])
    assert folder.exit_code == 0, folder.output
    option = runner.invoke(app, [*base, "--model", CHAMPION, "--tracking-uri", store, "--out", str(tmp_path / "b" / "scored.csv")])
    assert option.exit_code == 0, option.output
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    env = runner.invoke(app, [*base, "--model", CHAMPION, "--out", str(tmp_path / "c" / "scored.csv")])
    assert env.exit_code == 0, env.output
    a, b, c = (score_files(tmp_path / d / "scored.csv") for d in "abc")
    assert set(a) == {"scored.csv", "scored.parquet", "scored.excluded.csv"}
    assert a == b == c  # byte-identical CSV, parquet and excluded list


def test_cli_names_a_missing_model_and_the_fix(registry, model_sim_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    base = ["score", "--data", str(model_sim_dir), "--month", MONTH, "--out", str(tmp_path / "scored.csv")]
    unknown = runner.invoke(app, [*base, "--model", "models:/nosuch@champion", "--tracking-uri", registry[1]])
    assert unknown.exit_code == 5
    line = unknown.output.strip()
    assert len(line.splitlines()) == 1 and "models:/nosuch@champion" in line and "--tracking-uri" in line, line
    absent = runner.invoke(app, [*base, "--model", CHAMPION])  # default store ./mlflow.db is not there
    assert absent.exit_code == 5
    assert "no MLflow store at sqlite:///mlflow.db" in absent.output and "--tracking-uri" in absent.output
    assert not (tmp_path / "mlflow.db").exists()  # looking did not create a store
    assert not (tmp_path / "scored.csv").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, body: dict, timeout: float = 120) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def test_served_champion_answers_http(registry, signals, expected, tmp_path):
    port = free_port()
    bin_dir = Path(sys.executable).parent  # mlflow runs `uvicorn` from PATH: the venv's, as when it is activated
    env = {**os.environ, "MLFLOW_TRACKING_URI": registry[1], "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    mlflow_cli = bin_dir / "mlflow"
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([str(mlflow_cli), "models", "serve", "-m", CHAMPION, "--env-manager", "local",
                               "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
                              env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "mlflow models serve did not answer /ping within 180 s"
            time.sleep(1)
        rows = signals.head(5)
        split = json.loads(rows.to_json(orient="split", index=False))  # NaN becomes null, text stays text
        answer = post(f"http://127.0.0.1:{port}/invocations", {"dataframe_split": split})
        got = pd.DataFrame(answer["predictions"])
        print(f"serve: max |difference| {assert_same_numbers(got, expected.head(5)):.1e}")
        many = signals.sample(1000, replace=len(signals) < 1000, random_state=1)
        body = {"dataframe_split": json.loads(many.to_json(orient="split", index=False))}
        start = time.perf_counter()
        big = pd.DataFrame(post(f"http://127.0.0.1:{port}/invocations", body)["predictions"])
        print(f"serve: 1,000 rows answered in {time.perf_counter() - start:.3f} s")
        assert len(big) == 1000
    finally:
        stop(server)
        log.close()


def stop(server: subprocess.Popen) -> None:
    """End the server and the workers it started (its own process group)."""
    for sig, wait in ((15, 30), (9, None)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            break
        try:
            server.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


@pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime (no `java` on PATH)")
def test_spark_udf_scores_like_the_library(registry, signals, expected, monkeypatch):
    import mlflow
    from pyspark.sql import functions as F

    from churnkit.engine import connect

    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry[1])
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    spark = connect("spark")._session
    spark.sparkContext.setLogLevel("ERROR")
    rows = signals.head(400).reset_index(drop=True)
    frame = spark.createDataFrame(rows)  # the signal table as built: counts become bigint, text string
    assert dict(frame.dtypes)["active_lines"] == "bigint" and dict(frame.dtypes)["industry"] == "string"
    udf = mlflow.pyfunc.spark_udf(spark, CHAMPION, env_manager="local")
    columns = udf.metadata.get_input_schema().input_names()  # as the README shows
    start = time.perf_counter()
    scored = frame.select("group_id", udf(*[F.col(c) for c in columns]).alias("score")).select("group_id", "score.*").toPandas()
    print(f"spark_udf: {len(scored)} rows in {time.perf_counter() - start:.2f} s")
    scored = scored.set_index("group_id").loc[rows["group_id"]].reset_index(drop=True)
    print(f"spark_udf: max |difference| {assert_same_numbers(scored, expected.head(400)):.1e}")
