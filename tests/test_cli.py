"""The command line as a new user meets it: version, validate on the sample, simulate, features."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from churnkit import __version__
from churnkit.cli import app

from conftest import SAMPLE

runner = CliRunner()


def test_version_reads_the_installed_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"churnkit {__version__}"
    assert __version__ != "0.0.0+unknown"


def test_validate_sample_reports_months_and_groups():
    result = runner.invoke(app, ["validate", str(SAMPLE)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "valid (data contract v1)" in result.output
    billing = [line for line in result.output.splitlines() if " billing " in line][0]
    assert "2000" in billing and "2024-11" in billing and "2026-10" in billing and "24" in billing


def test_simulate_cli_writes_valid_deterministic_data(tmp_path):
    args = ["--groups", "40", "--months", "6", "--start", "2026-01", "--seed", "3"]
    for name in ("a", "b"):
        result = runner.invoke(app, ["simulate", "--out", str(tmp_path / name), *args])
        assert result.exit_code == 0, result.output
    a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.parquet"))
    assert a and all((tmp_path / "a" / p).read_bytes() == (tmp_path / "b" / p).read_bytes() for p in a)
    assert runner.invoke(app, ["validate", str(tmp_path / "a")]).exit_code == 0


def test_features_cli_writes_file_and_store(tmp_path):
    out = tmp_path / "f.csv"
    store = tmp_path / "store"
    result = runner.invoke(app, ["features", "--data", str(SAMPLE), "--months", "2026-09:2026-10", "--out", str(out),
                                 "--store", str(store)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, dtype={"group_id": str}, encoding="utf-8-sig")
    assert list(frame.columns[:3]) == ["group_id", "month", "active_lines"]
    assert set(frame["month"]) == {"2026-09", "2026-10"}
    assert sorted(p.name for p in store.iterdir()) == ["2026-09.parquet", "2026-10.parquet"]
    stored = pd.read_parquet(store / "2026-10.parquet")
    assert len(stored) == (frame["month"] == "2026-10").sum()


def test_features_needs_exactly_one_month_option():
    result = runner.invoke(app, ["features", "--data", str(SAMPLE)])
    assert result.exit_code == 2
    assert "exactly one of --month" in result.output


def test_messages_with_brackets_are_printed_whole(tmp_path):
    """Rich markup must not eat parts of a message such as ['plan_fee'] lists."""
    from conftest import tiny_tables, write_tables

    tables = tiny_tables()
    root = write_tables(tmp_path / "d", {k: v for k, v in tables.items() if k != "billing"})
    (root / "billing").mkdir()
    first, second = tables["billing"].iloc[:3], tables["billing"].iloc[3:].drop(columns=["plan_fee"])
    first.to_parquet(root / "billing" / "a.parquet", index=False)
    second.to_parquet(root / "billing" / "b.parquet", index=False)
    result = runner.invoke(app, ["validate", str(root)], terminal_width=400)
    assert result.exit_code == 3
    assert "['plan_fee']" in result.output
