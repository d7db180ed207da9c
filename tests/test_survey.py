"""`churnkit validate` in chunks of months: the same summary and problems as one pass."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from churnkit.survey import survey
from churnkit.validate import ValidationFailed


def test_chunked_summary_equals_one_pass(sim_dir):
    one = survey(sim_dir, chunk_months=100)
    chunked = survey(sim_dir, chunk_months=3)
    assert one.chunks == 1 and chunked.chunks == 7  # 20 months in chunks of 3
    pd.testing.assert_frame_equal(one.summary, chunked.summary)
    billing = chunked.summary.set_index("table").loc["billing"]
    assert billing["first"] == "2025-01" and billing["last"] == "2026-08" and billing["months"] == "20"


def test_problems_in_different_chunks_add_up(sim_dir, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sim_dir, data)
    for month in ("2025-02", "2026-07"):  # far apart: different chunks
        path = data / "billing" / f"{month}.parquet"
        frame = pd.read_parquet(path)
        frame.loc[frame.index[0], "charge"] = -1.0
        frame.to_parquet(path, index=False)
    with pytest.raises(ValidationFailed) as info:
        survey(data, chunk_months=3)
    [problem] = info.value.problems
    assert problem.table == "billing" and problem.column == "charge" and problem.count == 2
    assert problem.files == ["billing/2025-02.parquet", "billing/2026-07.parquet"]


def test_chunk_size_must_be_positive(sim_dir):
    from churnkit.errors import UsageError

    with pytest.raises(UsageError, match="at least 1"):
        survey(sim_dir, chunk_months=0)
