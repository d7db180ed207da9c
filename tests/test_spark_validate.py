"""A broken data directory fails on Spark as on DuckDB (churnkit.spark.validate).

One copy of the shared simulation carries a dozen faults at once (values out of range, text in
a numeric CSV column, duplicates identical and conflicting, a usage row without billing, an
unknown group, an event after the export, a churned group still billed, an unreadable month); the
engines must report the same problems in the same order, word for word. Damaged and empty files
are refused before any row is read, with DuckDB's messages and exit codes.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from churnkit.cli import app
from churnkit.errors import ChurnkitError
from churnkit.spark.validate import load_dataset as on_spark
from churnkit.validate import load_dataset

MONTH = "2026-08"  # last month of sim_dir
runner = CliRunner()


def problems(load, data) -> tuple[str, int, list[str]]:
    try:
        load(data)
    except ChurnkitError as exc:
        return type(exc).__name__, exc.exit_code, [str(p) for p in getattr(exc, "problems", [])] or [str(exc)]
    return "ok", 0, []


@pytest.fixture(scope="module")
def faulty(sim_dir, tmp_path_factory):
    data = tmp_path_factory.mktemp("spark-faults") / "data"
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("_truth"))
    billing = pd.read_parquet(data / "billing" / f"{MONTH}.parquet")
    billing.loc[billing.index[3], "charge"] = -5.0
    extra = [billing.iloc[[9]], billing.iloc[[5]].assign(charge=billing.iloc[5]["charge"] + 10)]
    pd.concat([billing, *extra]).to_parquet(data / "billing" / f"{MONTH}.parquet", index=False)
    old = pd.read_parquet(data / "billing" / "2026-01.parquet")
    old = old.astype({"charge": object})
    old.loc[old.index[7], "charge"] = "1,234.50"
    old.loc[old.index[8], "month"] = "2026-13"
    old.to_csv(data / "billing" / "2026-01.csv", index=False)
    (data / "billing" / "2026-01.parquet").unlink()
    usage = pd.read_parquet(data / "usage" / "2026-07.parquet")
    usage.loc[usage.index[2], "forwarded_offnet_calls"] = usage.iloc[2]["forwarded_calls"] + 3
    orphan = usage.iloc[[4]].assign(member_id="no-such-line")
    pd.concat([usage, orphan]).to_parquet(data / "usage" / "2026-07.parquet", index=False)
    complaints = pd.read_parquet(data / "complaints.parquet")
    complaints["date"] = complaints["date"].astype(object)
    complaints.loc[complaints.index[0], "date"] = dt.date(2026, 10, 3)
    complaints.loc[complaints.index[1], "group_id"] = "999999999999999999"
    complaints.to_parquet(data / "complaints.parquet", index=False)
    churn = pd.read_parquet(data / "churn.parquet")
    billed = billing["group_id"].iloc[0]
    pd.concat([churn, pd.DataFrame({"group_id": [billed], "churn_month": ["2026-05"]})]).drop_duplicates(
        "group_id", keep="last").to_parquet(data / "churn.parquet", index=False)
    return data


def test_the_same_problems_in_the_same_words(spark_cluster, faulty):
    duck = problems(load_dataset, faulty)
    spark = problems(on_spark, faulty)
    assert duck[0] == "ValidationFailed" and len(duck[2]) >= 9, duck
    assert spark == duck
    text = "\n".join(duck[2])
    for needle in ("are below 0", "are not numbers", "are not months", "identical duplicates", "conflicting duplicates",
                   "exceed forwarded_calls", "have no billing row", "name groups not in table groups",
                   "are dated after the last billing month", "have billing rows on or after their churn_month"):
        assert needle in text, needle


def test_the_command_exits_as_on_duckdb(spark_cluster, faulty):
    spark = runner.invoke(app, ["validate", str(faulty), "--engine", "spark"])
    duck = runner.invoke(app, ["validate", str(faulty)])
    assert spark.exit_code == duck.exit_code == 3
    assert spark.stderr == duck.stderr


def test_a_valid_directory_summarises_alike(spark_cluster, sim_dir):
    spark = runner.invoke(app, ["validate", str(sim_dir), "--engine", "spark"])
    duck = runner.invoke(app, ["validate", str(sim_dir)])
    assert spark.exit_code == duck.exit_code == 0, spark.output
    assert spark.stdout == duck.stdout


@pytest.mark.parametrize("name,content,code", [
    (f"billing/{MONTH}.parquet", b"", 4),
    (f"billing/{MONTH}.parquet", "truncated", 4),
    ("groups.csv", b"\xef\xbb\xbf", 4),
    ("groups.csv", "\ufeffgroup_id,group_name,value_tier\n".encode(), 3),
])
def test_damaged_and_empty_files(spark_cluster, sim_dir, tmp_path, name, content, code):
    data = tmp_path / "data"
    shutil.copytree(sim_dir, data, ignore=shutil.ignore_patterns("_truth"))
    if name.startswith("groups"):
        (data / "groups.parquet").unlink()
    target = data / name
    target.write_bytes(target.read_bytes()[: target.stat().st_size // 2] if content == "truncated" else content)
    spark, duck = problems(on_spark, data), problems(load_dataset, data)
    assert spark[1] == duck[1] == code
    if code == 3:
        assert spark == duck
    else:  # the same file and the same advice (the reader's own words in brackets differ)
        assert spark[2][0].split(" (")[0] == duck[2][0].split(" (")[0] and str(target) in spark[2][0]
        assert spark[2][0].split("); ")[-1] == duck[2][0].split("); ")[-1]
