"""Scoring on a Spark cluster equals scoring on DuckDB (churnkit.spark.score).

The committed sample (2,000 groups) is scored for its last month by ``churnkit score`` on DuckDB
and by ``churnkit score --engine spark`` on a local cluster with two executor processes: the
same probabilities (within 1e-9), ranks, reasons and scripts, the same CSV bytes, and an
identical excluded list. One model, trained on the sample by DuckDB, serves both.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest
from typer.testing import CliRunner

from churnkit.cli import app

from conftest import SAMPLE

MONTH = "2026-10"
runner = CliRunner()
pytestmark = pytest.mark.skipif(not (SAMPLE / "groups.parquet").exists(), reason="data/sample is not in this checkout")


@pytest.fixture(scope="module")
def sample_model(tmp_path_factory):
    from churnkit.model.train import train
    from churnkit.validate import load_dataset

    out = tmp_path_factory.mktemp("spark-model") / "latest"
    train(load_dataset(SAMPLE), horizon=3, out=out, track=False, n_boot=10)
    return out


FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)"]


@pytest.fixture(scope="module")
def sample_copy(tmp_path_factory):
    """The sample with three group names typed as spreadsheet formulas."""
    import shutil

    data = tmp_path_factory.mktemp("spark-sample") / "data"
    shutil.copytree(SAMPLE, data, ignore=shutil.ignore_patterns("_truth"))
    groups = pd.read_parquet(data / "groups.parquet")
    groups.loc[groups.index[:3], "group_name"] = FORMULAS
    groups.to_parquet(data / "groups.parquet", index=False)
    return data


@pytest.fixture(scope="module")
def both(spark_cluster, sample_model, sample_copy, tmp_path_factory):
    """The sample's month scored by each engine through the command."""
    root = tmp_path_factory.mktemp("spark-score")
    outs = {}
    for engine in ("duckdb", "spark"):
        out = root / engine / "scored.csv"
        result = runner.invoke(app, ["score", "--data", str(sample_copy), "--month", MONTH, "--model", str(sample_model),
                                     "--out", str(out), "--engine", engine, "--top", "3"])
        assert result.exit_code == 0, f"{engine}: {result.output}\n{result.exception!r}"
        outs[engine] = out
    return outs


def test_the_cluster_has_two_executor_processes(spark_cluster):
    import pandas as pd

    def pid(batches):
        for batch in batches:
            yield pd.DataFrame({"pid": [os.getpid()] * len(batch)})

    pids = {r["pid"] for r in spark_cluster.range(0, 64, numPartitions=8).mapInPandas(pid, "pid long").collect()}
    assert spark_cluster.sparkContext.master.startswith("local-cluster")
    assert len(pids) >= 2 and os.getpid() not in pids


def test_spark_scores_equal_duckdb(both):
    duck, spark = (pd.read_parquet(both[e].with_suffix(".parquet")) for e in ("duckdb", "spark"))
    assert list(spark.columns) == list(duck.columns), "the engines write different columns"
    assert len(duck) > 1000 and len(spark) == len(duck)
    assert (spark["churn_probability"] - duck["churn_probability"]).abs().max() <= 1e-9
    assert (spark["base_probability"] - duck["base_probability"]).abs().max() <= 1e-9
    for col in ("group_id", "risk_rank", "risk_decile", "action", "reason_1", "reason_2", "reason_3",
                "reason_1_text", "reason_2_text", "reason_3_text", "script_id", "script_title", "script_steps"):
        assert spark[col].astype(str).tolist() == duck[col].astype(str).tolist(), col
    impacts = [c for c in duck.columns if c.startswith("impact_")]
    assert (spark[impacts] - duck[impacts]).abs().max().max() <= 1e-9


def test_spark_writes_the_same_csv_and_excluded_list(both):
    for name in ("scored.csv", "scored.excluded.csv"):
        duck, spark = ((both[e].parent / name).read_bytes() for e in ("duckdb", "spark"))
        assert spark.startswith(b"\xef\xbb\xbf") and spark.count(b"\r\n") > 100
        assert spark == duck, name
    excluded = pd.read_csv(both["spark"].parent / "scored.excluded.csv", dtype=str, encoding="utf-8-sig")
    assert "churned" in set(excluded["reason"]) and len(excluded) > 100


def test_spark_escapes_formula_cells(both):
    text = "".join((both["spark"].parent / name).read_text(encoding="utf-8-sig") for name in ("scored.csv", "scored.excluded.csv"))
    for payload in FORMULAS:
        assert "'" + payload.replace('"', '""') in text
    assert ",=HYPERLINK" not in text and ",+1," not in text


def test_bad_input_stops_spark_scoring_without_output(spark_cluster, sample_model, sample_copy, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(sample_copy, data)
    groups = pd.read_parquet(data / "groups.parquet")
    pd.concat([groups, groups.iloc[[5]]]).to_parquet(data / "groups.parquet", index=False)
    out = tmp_path / "out" / "scored.csv"
    result = runner.invoke(app, ["score", "--data", str(data), "--month", MONTH, "--model", str(sample_model),
                                 "--out", str(out), "--engine", "spark"])
    assert result.exit_code == 3, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "groups.group_id: 2 row(s) share a key with another row (identical duplicates)" in errors[0]
    assert f"group_id={groups.iloc[5]['group_id']}" in errors[0]
    assert not out.parent.exists() or not any(out.parent.iterdir())
