"""The loader and validator: what a user sees when the data are right and when they are not."""

from __future__ import annotations

import pandas as pd
import pytest

from churnkit.errors import DataError, StorageError
from churnkit.survey import summarise
from churnkit.validate import ValidationFailed, load_dataset

from conftest import tiny_tables, write_tables


def test_valid_directory_loads_typed(tiny_dir):
    ds = load_dataset(tiny_dir)
    billing = ds["billing"]
    assert billing["charge"].dtype == "float64"
    assert ds["usage"]["call_count"].dtype == "Int64"
    assert ds.months == ["2026-01", "2026-02", "2026-03"]
    assert ds["groups"]["group_id"].tolist() == ["510100000000000001", "510100000000000002"]


def test_eighteen_digit_group_id_survives_csv_as_text(tmp_path):
    tables = tiny_tables()
    root = write_tables(tmp_path / "csv", tables, fmt="csv")
    ds = load_dataset(root)
    assert ds["groups"]["group_id"].iloc[0] == "510100000000000001"
    assert ds["billing"]["group_id"].iloc[0] == "510100000000000001"


def test_leading_zero_ids_stay_text(tmp_path):
    tables = tiny_tables()
    tables["billing"]["member_id"] = ["0138", "0139", "0138", "0139", "0138", "0140"]
    tables["usage"]["member_id"] = ["0138"] * 3
    ds = load_dataset(write_tables(tmp_path / "csv", tables, fmt="csv"))
    assert sorted(ds["billing"]["member_id"].unique()) == ["0138", "0139", "0140"]


def test_month_as_first_of_month_date_is_accepted(tmp_path):
    tables = tiny_tables()
    tables["billing"]["month"] = pd.to_datetime(tables["billing"]["month"] + "-01")
    tables["usage"]["month"] = pd.to_datetime(tables["usage"]["month"] + "-01")
    ds = load_dataset(write_tables(tmp_path / "d", tables))
    assert ds.months == ["2026-01", "2026-02", "2026-03"]


def test_folder_of_monthly_files(tmp_path):
    tables = tiny_tables()
    root = write_tables(tmp_path / "d", {k: v for k, v in tables.items() if k != "billing"})
    (root / "billing").mkdir()
    for month, part in tables["billing"].groupby("month"):
        part.to_parquet(root / "billing" / f"{month}.parquet", index=False)
    ds = load_dataset(root)
    assert len(ds["billing"]) == 6


def _problems(root):
    with pytest.raises(ValidationFailed) as info:
        load_dataset(root)
    return [str(p) for p in info.value.problems]


def test_missing_required_column_names_it_and_suggests_rename(tmp_path):
    tables = tiny_tables()
    tables["billing"] = tables["billing"].rename(columns={"charge": "charges"})
    problems = _problems(write_tables(tmp_path / "d", tables))
    assert len(problems) == 1
    assert problems[0].startswith("billing.charge: ")
    assert "rename column 'charges' to 'charge'" in problems[0]


def test_every_problem_reported_at_once(tmp_path):
    tables = tiny_tables()
    tables["billing"].loc[1, "charge"] = -5.0
    tables["usage"].loc[1, "forwarded_offnet_calls"] = 20  # > forwarded_calls 12
    tables["usage"] = pd.concat([tables["usage"], tables["usage"].iloc[[0]]])  # duplicate key
    problems = _problems(write_tables(tmp_path / "d", tables))
    text = "\n".join(problems)
    assert "billing.charge: 1 row(s) are below 0" in text and "member_id=m2" in text
    assert "usage.month+member_id: 2 row(s) share a key with another row (identical duplicates)" in text


def test_conflicting_duplicates_are_named_conflicting(tmp_path):
    tables = tiny_tables()
    dup = tables["billing"].iloc[[0]].copy()
    dup["charge"] = 999.0
    tables["billing"] = pd.concat([tables["billing"], dup])
    problems = _problems(write_tables(tmp_path / "d", tables))
    assert any("conflicting duplicates" in p and "member_id=m1" in p for p in problems)


def test_cross_table_links(tmp_path):
    tables = tiny_tables()
    tables["usage"].loc[2, "member_id"] = "ghost"  # usage without billing
    tables["billing"].loc[5, "group_id"] = "999"  # unknown group
    problems = _problems(write_tables(tmp_path / "d", tables))
    assert any(p.startswith("billing.group_id: 1 row(s) name groups not in table groups") for p in problems)
    assert any(p.startswith("usage.member_id: 1 row(s) have no billing row") and "ghost" in p for p in problems)


def test_offnet_above_forwarded_is_refused(tmp_path):
    tables = tiny_tables()
    tables["usage"].loc[1, "forwarded_offnet_calls"] = 13
    problems = _problems(write_tables(tmp_path / "d", tables))
    assert problems == [p for p in problems if "exceed forwarded_calls" in p] and len(problems) == 1


def test_text_in_numeric_column_names_column_and_row(tmp_path):
    tables = tiny_tables()
    tables["billing"]["charge"] = tables["billing"]["charge"].astype(object)
    tables["billing"].loc[2, "charge"] = "90元"
    problems = _problems(write_tables(tmp_path / "d", tables, fmt="csv"))
    assert problems[0].startswith("billing.charge: 1 row(s) are not numbers in billing.csv")
    assert "month=2026-02 member_id=m1" in problems[0]


def test_missing_required_table(tmp_path):
    tables = tiny_tables()
    del tables["usage"]
    problems = _problems(write_tables(tmp_path / "d", tables))
    assert problems[0].startswith("usage.*: 0 row(s) missing: the table is required")


def test_extra_column_warns_and_continues(tmp_path):
    tables = tiny_tables()
    tables["billing"]["region_code"] = "028"
    ds = load_dataset(write_tables(tmp_path / "d", tables))
    assert ds.warnings and "billing: ignoring unknown column(s) region_code" in ds.warnings[0]


def test_events_after_last_billing_month_are_refused(tmp_path):
    tables = tiny_tables()
    tables["complaints"] = pd.DataFrame({"group_id": ["510100000000000001"], "member_id": [None],
                                         "date": ["2026-04-01"], "category": ["sp"]})
    problems = _problems(write_tables(tmp_path / "d", tables))
    assert problems[0].startswith("complaints.date: 1 row(s) are dated after the last billing month 2026-03")


def test_gb18030_csv_needs_encoding_and_then_loads(tmp_path):
    root = write_tables(tmp_path / "gbk", tiny_tables(), fmt="csv", encoding="gb18030")
    with pytest.raises(StorageError) as info:
        load_dataset(root)
    message = str(info.value)
    assert "groups.csv" in message and "--encoding gb18030" in message and "\n" not in message
    ds = load_dataset(root, encoding="gb18030")
    assert ds["groups"]["group_name"].iloc[0] == "成都甲科技有限公司"


def test_utf8_bom_csv_reads_the_first_column(tmp_path):
    root = write_tables(tmp_path / "bom", tiny_tables(), fmt="csv", encoding="utf-8-sig")
    ds = load_dataset(root)
    assert "group_id" in ds["groups"].columns


def test_empty_and_header_only_files(tmp_path):
    root = write_tables(tmp_path / "d", tiny_tables(), fmt="csv")
    (root / "billing.csv").write_text("")
    with pytest.raises(StorageError, match=r"billing\.csv: file is empty"):
        load_dataset(root)
    (root / "billing.csv").write_text("month,group_id,member_id,charge\n")
    with pytest.raises(DataError, match=r"billing\.\*: 0 row\(s\) present, but the table has no rows"):
        load_dataset(root)


def test_truncated_parquet_is_named(tmp_path):
    root = write_tables(tmp_path / "d", tiny_tables())
    data = (root / "usage.parquet").read_bytes()
    (root / "usage.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(StorageError, match=r"usage\.parquet: not a readable parquet file .*export it again"):
        load_dataset(root)


def test_summary_reports_months_and_gaps(tmp_path):
    tables = tiny_tables()
    tables["billing"] = tables["billing"][tables["billing"]["month"] != "2026-02"]
    tables["usage"] = tables["usage"][tables["usage"]["month"] != "2026-02"]
    summary = summarise(load_dataset(write_tables(tmp_path / "d", tables))).set_index("table")
    assert summary.loc["billing", "first"] == "2026-01" and summary.loc["billing", "last"] == "2026-03"
    assert summary.loc["billing", "gaps"] == "2026-02"
    assert summary.loc["groups", "rows"] == 2
