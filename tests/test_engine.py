"""The engine's settings, and a month bigger than DuckDB's memory limit spilling to disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from churnkit.cli import app
from churnkit.engine import EngineSettings, connect, out_of_memory, record_batches
from churnkit.errors import UsageError
from churnkit.features import build_features, scoring_window
from churnkit.months import parse_month
from churnkit.validate import load_dataset

MONTHS = ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07")
TIGHT = "80MB"  # below what checking the keys of ~130,000 lines a month needs in memory (2 threads)


def write_wide(root: Path, groups: int = 6, lines: int = 20_000) -> Path:
    """A few very large groups: every line-level join and check is big, the group tables are tiny."""
    (root / "billing").mkdir(parents=True)
    (root / "usage").mkdir()
    gids = [f"5101000000000000{i:02d}" for i in range(groups)]
    pd.DataFrame({"group_id": gids, "group_name": [f"G{i}" for i in range(groups)], "industry": "retail",
                  "region": "成都", "value_tier": "B"}).to_parquet(root / "groups.parquet", index=False)
    rng = np.random.default_rng(3)
    member = np.array([f"1{g:02d}{n:08d}" for g in range(groups) for n in range(lines)])
    grp = np.repeat(gids, lines)
    for k, month in enumerate(MONTHS):
        alive = rng.random(len(member)) > 0.02 * k
        n = int(alive.sum())
        pd.DataFrame({"month": month, "group_id": grp[alive], "member_id": member[alive],
                      "charge": rng.gamma(2, 30, n).round(2), "plan_fee": 58.0}).to_parquet(root / "billing" / f"{month}.parquet", index=False)
        calls = rng.poisson(20, n)
        pd.DataFrame({"month": month, "group_id": grp[alive], "member_id": member[alive], "call_count": calls,
                      "call_minutes": calls * 2.5, "forwarded_calls": rng.poisson(1, n), "forwarded_offnet_calls": 0,
                      "competitor_hotline_calls": rng.poisson(0.01, n)}).to_parquet(root / "usage" / f"{month}.parquet", index=False)
    return root


def test_settings_come_from_options_then_environment_then_defaults(tmp_path):
    env = {"CHURNKIT_MEMORY_LIMIT": "3GB", "CHURNKIT_TEMP_DIR": str(tmp_path / "env"), "CHURNKIT_THREADS": "1",
           "CHURNKIT_CACHE_DIR": str(tmp_path / "cache")}
    home_cache = Path.home() / ".cache" / "churnkit"
    assert EngineSettings.from_env(environ={}) == EngineSettings("1GB", None, None, home_cache)
    assert EngineSettings.from_env(environ={"XDG_CACHE_HOME": "/x"}).cache_dir == Path("/x/churnkit")
    assert EngineSettings.from_env(environ={"CHURNKIT_CACHE_DIR": "off"}).cache_dir is None
    assert EngineSettings.from_env(environ=env) == EngineSettings("3GB", tmp_path / "env", 1, tmp_path / "cache")
    assert EngineSettings.from_env("500MB", tmp_path / "opt", environ=env) == EngineSettings("500MB", tmp_path / "opt", 1,
                                                                                             tmp_path / "cache")
    with pytest.raises(UsageError, match="not a size"):
        EngineSettings.from_env("lots", environ={})


def test_duckdb_gets_the_limit_and_the_spill_folder(tmp_path):
    con = connect("duckdb", EngineSettings("300MB", tmp_path / "spill", 1))
    limit, folder, threads = con.con.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory'), current_setting('threads')").fetchall()[0]
    assert limit in ("286.1 MiB", "300.0 MB") and Path(folder) == tmp_path / "spill" and int(threads) == 1


def test_batches_stream_with_duckdb_2():
    """Ibis 12's to_pyarrow_batches calls fetch_record_batch, gone in DuckDB 2: ours streams."""
    con = connect("duckdb")
    con.con.execute("CREATE TEMP VIEW numbers AS SELECT range AS n FROM range(25000)").fetchall()
    reader = record_batches(con, con.table("numbers"), batch_size=10_000)
    sizes = [batch.num_rows for batch in reader]
    assert sum(sizes) == 25_000 and max(sizes) <= 10_000 and len(sizes) >= 3


@pytest.fixture(scope="module")
def wide(tmp_path_factory) -> Path:
    return write_wide(tmp_path_factory.mktemp("wide") / "data")


def test_without_a_spill_folder_the_tight_limit_fails(wide, tmp_path):
    """The proof that TIGHT forces spilling: the same work with nowhere to spill runs out of memory."""
    settings = EngineSettings(TIGHT, tmp_path / "spill", threads=2)
    con = connect("duckdb", settings)
    con.con.execute("SET temp_directory = ''")
    month = parse_month(MONTHS[-1])
    with pytest.raises(Exception) as info:
        build_features(load_dataset(wide, con=con, engine=settings, window=scoring_window(month)), [month])
    assert "Out of Memory" in str(info.value)
    assert "--memory-limit" in out_of_memory(info.value) and "\n" not in out_of_memory(info.value)


def test_score_under_a_tight_limit_spills_and_writes_the_same_file(wide, trained_bundle, tmp_path, monkeypatch):
    monkeypatch.setenv("CHURNKIT_THREADS", "2")  # memory per thread: the same limit binds alike on any machine
    runner = CliRunner()
    common = ["score", "--data", str(wide), "--month", MONTHS[-1], "--model", str(trained_bundle)]
    roomy = runner.invoke(app, [*common, "--out", str(tmp_path / "roomy" / "scored.csv")])
    assert roomy.exit_code == 0, roomy.output
    tight = runner.invoke(app, [*common, "--out", str(tmp_path / "tight" / "scored.csv"), "--memory-limit", TIGHT,
                                "--temp-dir", str(tmp_path / "spill")])
    assert tight.exit_code == 0, tight.output
    for name in ("scored.csv", "scored.excluded.csv"):
        assert (tmp_path / "roomy" / name).read_bytes() == (tmp_path / "tight" / name).read_bytes()
    assert len(pd.read_csv(tmp_path / "tight" / "scored.csv", dtype=str)) == 6
