"""churnkit campaign import: every refusal names file, sheet, row and cell; deviations; idempotence."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from campaign_data import planned
from churnkit.campaign.importer import WorkbookError, import_workbooks
from churnkit.campaign.table import read_retention
from churnkit.cli import app


@pytest.fixture
def wave(tmp_path):
    data, result = planned(tmp_path, n=60)
    return tmp_path, data, result


def _fill(source, target, cells: dict, sheet: str = "名单"):
    wb = load_workbook(source)
    for ref, value in cells.items():
        wb[sheet][ref] = value
    wb.save(target)
    return target


def _holdout_id(data) -> str:
    table = read_retention(data)
    return table.loc[table["assignment"] == "holdout", "group_id"].iloc[0]


def test_import_records_then_changes_nothing_on_repeat(wave):
    tmp, data, result = wave
    book = result.workbooks[0]
    filled = _fill(book, tmp / "filled.xlsx", {"J2": datetime(2026, 11, 5), "K2": "电话", "L2": "RS-SPEND-01",
                                               "M2": "套餐9折", "N2": 50, "O2": "客户答应续约", "J3": "2026-12-01", "K3": "上门拜访"})
    gid = load_workbook(filled)["名单"]["B2"].value
    first = import_workbooks([filled, *result.workbooks[1:]], data)
    assert (first.workbooks, first.rows, first.changed, first.deviations) == (3, 2, 2, 0)
    row = read_retention(data).set_index("group_id").loc[gid]
    assert (row["contacted"], row["action_taken"], row["script_used"], row["offer"], row["offer_cost"], row["note"]) == (
        date(2026, 11, 5), "call", "RS-SPEND-01", "套餐9折", 50.0, "客户答应续约")
    before = (data / "retention.parquet").read_bytes()
    again = import_workbooks([filled], data)
    assert again.changed == 0 and again.table is None
    assert (data / "retention.parquet").read_bytes() == before


def test_holdout_contacted_is_a_deviation_not_a_refusal(wave):
    tmp, data, result = wave
    held = _holdout_id(data)
    filled = _fill(result.workbooks[0], tmp / "other.xlsx", {"A2": held, "B2": date(2026, 11, 20), "C2": "电话"}, sheet="其他联系")
    out = import_workbooks([filled], data)
    assert out.deviations == 1
    row = read_retention(data).set_index("group_id").loc[held]
    assert row["assignment"] == "holdout" and row["contacted"] == date(2026, 11, 20) and row["action_taken"] == "call"


@pytest.mark.parametrize("cells, sheet, expected", [
    ({"J2": datetime(2027, 3, 1)}, "名单", "sheet 名单, row 2, cell J2: contact date 2027-03-01 lies outside the wave's months (2026-11-01 to 2027-01-31)"),
    ({"J2": "上周"}, "名单", "sheet 名单, row 2, cell J2: '上周' is not a date; enter the date of first contact as YYYY-MM-DD"),
    ({"K2": "发传真"}, "名单", "sheet 名单, row 2, cell K2: unknown action '发传真'; pick one of 上门拜访, 电话, 关怀短信/优惠, 未联系"),
    ({"L2": "RS-NOPE-09"}, "名单", "sheet 名单, row 2, cell L2: unknown script 'RS-NOPE-09'"),
    ({"N2": -5}, "名单", "sheet 名单, row 2, cell N2: offer cost -5 is not a number of yuan >= 0"),
    ({"N2": "很多"}, "名单", "sheet 名单, row 2, cell N2: offer cost '很多' is not a number of yuan >= 0"),
    ({"B3": "510100009999999999"}, "名单", "sheet 名单, row 3, cell B3: group_id 510100009999999999: it is not on this manager's list"),
    ({"B3": 510100000000000001}, "名单", "sheet 名单, row 3, cell B3: group_id 5.101e+17: it is stored as a number"),
    ({"J1": "日期"}, "名单", "sheet 名单, cell J1: header '日期' where '首次联系日期' belongs"),
    ({"A2": "510100009999999999", "B2": date(2026, 11, 2)}, "其他联系",
     "sheet 其他联系, row 2, cell A2: group_id 510100009999999999: it is not a group of wave 2026-10"),
])
def test_every_refusal_names_the_cell_and_changes_nothing(wave, cells, sheet, expected):
    tmp, data, result = wave
    before = (data / "retention.parquet").read_bytes()
    good = _fill(result.workbooks[1], tmp / "good.xlsx", {"J2": date(2026, 11, 3), "K2": "电话"})
    bad = _fill(result.workbooks[0], tmp / "bad.xlsx", cells, sheet)
    with pytest.raises(WorkbookError) as caught:
        import_workbooks([good, bad], data)
    assert any(p.startswith(f"{bad}, ") and expected in p for p in caught.value.problems), caught.value.problems
    assert "nothing was imported" in str(caught.value)
    assert (data / "retention.parquet").read_bytes() == before


def test_workbook_of_another_wave_or_not_a_campaign_workbook(wave, tmp_path):
    tmp, data, result = wave
    meta = load_workbook(result.workbooks[0])
    meta["_churnkit"]["B2"] = "2026-07"
    meta.save(tmp / "old.xlsx")
    with pytest.raises(WorkbookError, match="workbook of wave 2026-07, which the retention table does not hold"):
        import_workbooks([tmp / "old.xlsx"], data)
    with pytest.raises(WorkbookError, match="workbook of wave 2026-10, not of wave 2026-11"):
        import_workbooks([result.workbooks[0]], data, wave="2026-11")
    plain = load_workbook(result.summary)
    plain.save(tmp / "plain.xlsx")
    with pytest.raises(WorkbookError, match="not a churnkit campaign workbook"):
        import_workbooks([tmp / "plain.xlsx"], data)
    (tmp / "list.csv").write_text("group_id\n1\n", encoding="utf-8")
    with pytest.raises(WorkbookError, match=r"list.csv: not an .xlsx workbook"):
        import_workbooks([tmp / "list.csv"], data)


def test_same_group_recorded_twice_differently_is_refused(wave):
    tmp, data, result = wave
    a = _fill(result.workbooks[0], tmp / "a.xlsx", {"J2": date(2026, 11, 3), "K2": "电话"})
    gid = load_workbook(a)["名单"]["B2"].value
    b = _fill(result.workbooks[1], tmp / "b.xlsx", {"A2": gid, "B2": date(2026, 11, 9), "C2": "上门拜访"}, sheet="其他联系")
    with pytest.raises(WorkbookError, match=f"group {gid} is recorded differently"):
        import_workbooks([a, b], data)


def test_cli_import_lists_every_problem_in_red(wave):
    tmp, data, result = wave
    bad = _fill(result.workbooks[0], tmp / "bad.xlsx", {"K2": "发传真", "N3": -1})
    run = CliRunner().invoke(app, ["campaign", "import", str(bad), "--data", str(data)])
    assert run.exit_code == 3
    lines = [line for line in run.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 2 and "cell K2" in lines[0] and "cell N3" in lines[1]
    ok = CliRunner().invoke(app, ["campaign", "import", str(result.workbooks[0]), "--data", str(data)])
    assert ok.exit_code == 0 and "(the table was already up to date)" in ok.output
