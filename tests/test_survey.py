"""`churnkit validate` on a whole data directory: the summary, and problems across months added up."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from churnkit.engine import EngineSettings
from churnkit.survey import survey
from churnkit.validate import ValidationFailed


def test_summary_covers_every_month(sim_dir):
    result = survey(sim_dir)
    summary = result.summary.set_index("table")
    billing = summary.loc["billing"]
    assert billing["first"] == "2025-01" and billing["last"] == "2026-08" and billing["months"] == "20"
    assert billing["rows"] == sum(len(pd.read_parquet(p)) for p in (sim_dir / "billing").glob("*.parquet"))
    assert summary.loc["groups", "rows"] == len(pd.read_parquet(sim_dir / "groups.parquet"))


def test_summary_is_the_same_under_a_tiny_memory_limit(sim_dir, tmp_path):
    roomy = survey(sim_dir).summary
    tight = survey(sim_dir, engine=EngineSettings(memory_limit="40MB", temp_dir=tmp_path / "spill")).summary
    pd.testing.assert_frame_equal(roomy, tight)


def test_problems_in_months_far_apart_add_up(sim_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sim_dir, data)
    for month in ("2025-02", "2026-07"):
        path = data / "billing" / f"{month}.parquet"
        frame = pd.read_parquet(path)
        frame.loc[frame.index[0], "charge"] = -1.0
        frame.to_parquet(path, index=False)
    with pytest.raises(ValidationFailed) as info:
        survey(data)
    [problem] = info.value.problems
    assert problem.table == "billing" and problem.column == "charge" and problem.count == 2
    assert problem.files == ["billing/2025-02.parquet", "billing/2026-07.parquet"]
