"""The scored file is safe to open in Excel and is written all or nothing."""

from __future__ import annotations

import pandas as pd
import pytest

from churnkit import output
from churnkit.errors import StorageError
from churnkit.output import escape_cell, write_scored

PAYLOADS = ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-2+3", "@SUM(A1)", "\tname", "\rname"]


def test_formula_payloads_are_escaped_numbers_untouched():
    for payload in PAYLOADS:
        assert escape_cell(payload) == "'" + payload
    assert escape_cell("成都甲科技") == "成都甲科技"
    assert escape_cell(-2.5) == -2.5


def _frames():
    scored = pd.DataFrame({"month": ["2026-10"], "group_id": ["510100000000000001"], "group_name": ["=HYPERLINK(\"x\")"],
                           "spend": [-3.5], "note": ["成都"]})
    excluded = pd.DataFrame({"month": ["2026-10"], "group_id": ["510100000000000002"], "group_name": ["+1"],
                             "reason": ["churned"], "detail": ["left"]})
    return scored, excluded


def test_csv_has_bom_escaped_text_and_negative_numbers(tmp_path):
    scored, excluded = _frames()
    paths = write_scored(scored, excluded, tmp_path / "s.csv")
    raw = (tmp_path / "s.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",-3.5," in text and "成都" in text and "510100000000000001" in text
    assert "'+1" in (tmp_path / "s.excluded.csv").read_text(encoding="utf-8-sig")
    back = pd.read_parquet(tmp_path / "s.parquet")
    assert back["group_name"].iloc[0] == "=HYPERLINK(\"x\")"  # the machine twin keeps the raw value
    assert [p.name for p in paths] == ["s.csv", "s.parquet", "s.excluded.csv"]


def test_crash_mid_write_leaves_previous_files_and_no_temp(tmp_path, monkeypatch):
    scored, excluded = _frames()
    write_scored(scored, excluded, tmp_path / "s.csv")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def boom(frame, path):
        path.write_text("partial")
        raise RuntimeError("crash after part of the rows")

    monkeypatch.setattr(output, "_parquet", boom)
    with pytest.raises(RuntimeError):
        write_scored(scored.assign(spend=1.0), excluded, tmp_path / "s.csv")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_disk_full_names_the_path(tmp_path, monkeypatch):
    scored, excluded = _frames()
    write_scored(scored, excluded, tmp_path / "s.csv")
    before = (tmp_path / "s.csv").read_bytes()

    def full(frame, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output, "_csv", full)
    with pytest.raises(StorageError, match=r"s\.csv: cannot write \(No space left on device\)"):
        write_scored(scored, excluded, tmp_path / "s.csv")
    assert (tmp_path / "s.csv").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_scored_file_written_in_batches_is_the_file_written_at_once(tmp_path):
    """Scoring streams its table in batches: the CSV (one BOM, one header) and the parquet twin
    come out the same whether the rows arrive in one batch or in three."""
    from churnkit.output import write_scored_batches

    frame = pd.DataFrame({"month": "2026-10", "group_id": [f"51010000000000000{i}" for i in range(7)],
                          "group_name": ["=1+1", "甲", None, "乙", "-x", "丙", "丁"], "churn_probability": [0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.01]})
    excluded = pd.DataFrame({"month": ["2026-10"], "group_id": ["510100000000000099"], "group_name": ["戊"],
                             "reason": ["churned"], "detail": ["left"]})
    write_scored_batches([frame], excluded, tmp_path / "one" / "s.csv")
    write_scored_batches([frame.iloc[:2], frame.iloc[2:5], frame.iloc[5:]], excluded, tmp_path / "three" / "s.csv")
    one, three = (tmp_path / "one" / "s.csv").read_bytes(), (tmp_path / "three" / "s.csv").read_bytes()
    assert one == three and one.count(b"\xef\xbb\xbf") == 1 and one.count(b"group_id") == 1
    assert one.decode("utf-8-sig").splitlines()[1].split(",")[2] == "'=1+1"
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "one" / "s.parquet"), pd.read_parquet(tmp_path / "three" / "s.parquet"))
    assert len(pd.read_parquet(tmp_path / "three" / "s.parquet")) == 7
