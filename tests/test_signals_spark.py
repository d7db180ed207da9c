"""The Spark builder equals the DuckDB builder: same frames in, the same signal table out.

One local Spark session serves the whole module (starting one takes tens of seconds). Skipped
only when no Java runtime is installed; pyspark itself is a test dependency.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from churnkit.months import parse_month
from churnkit.signals.build import build_signals, connect
from churnkit.validate import load_dataset

from conftest import write_tables
from test_signals import contract_tables, merge, no_usage, tables_a

pytestmark = pytest.mark.skipif(shutil.which("java") is None,
                                reason="Spark needs a Java runtime (no `java` on PATH)")



@pytest.fixture(scope="module")
def spark():
    con = connect("spark")
    con._session.sparkContext.setLogLevel("ERROR")
    yield con



@pytest.fixture(scope="module")
def sample_frames(sample_subset) -> dict[str, pd.DataFrame]:
    return sample_subset



def assert_same(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    assert len(duck) > 0
    # rtol 1e-9, plus an absolute 1e-12 for differences that cancel to 0 (summed in another order,
    # x - mean(...) comes out 0.0 on one engine and -1.4e-17 on the other).
    assert_frame_equal(duck, spark, check_exact=False, rtol=1e-9, atol=1e-12)


def test_spark_equals_duckdb_on_the_sample(spark, sample_frames):
    last = max(parse_month(m) for m in sample_frames["billing"]["month"].unique())
    months = [last - 2, last - 1, last]
    duck = build_signals(sample_frames, months, engine="duckdb")
    assert_same(duck, build_signals(sample_frames, months, engine="spark", con=spark))
    # the sample exercises the nullable inputs that Spark reads differently (NaN vs null).
    assert sample_frames["billing"]["plan_fee"].isna().any()


def test_spark_equals_duckdb_on_the_hand_made_edge_cases(spark, tmp_path):
    """Gap months, lines without usage, event window edges, unknown plan fees and arrears,
    renewals and two agreements starting in the same month (see test_signals)."""
    tables = merge(tables_a(), contract_tables())
    frames = load_dataset(write_tables(tmp_path / "data", {"usage": no_usage(), **tables})).to_frames()
    months = [parse_month(m) for m in ("2026-05", "2026-06", "2026-07")]
    duck = build_signals(frames, months, engine="duckdb")
    assert_same(duck, build_signals(frames, months, engine="spark", con=spark))
