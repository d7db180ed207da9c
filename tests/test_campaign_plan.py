"""churnkit campaign plan: the stratified salted-hash holdout, the workbooks, the retention rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from campaign_data import planned, scored_frame, write_scored
from churnkit.campaign import plan as plan_module
from churnkit.campaign.holdout import draw_holdout, hash_unit, holdout_count
from churnkit.campaign.plan import contact_window, plan_wave, wave_rows
from churnkit.campaign.table import read_retention
from churnkit.cli import app
from churnkit.errors import DataError, UsageError


def test_holdout_count_by_hand():
    # round(share x n), never below ceil(10% x n)
    assert [holdout_count(n, 0.2) for n in (0, 1, 3, 7, 10, 12, 100)] == [0, 1, 1, 1, 2, 2, 20]
    assert [holdout_count(n, 0.1) for n in (5, 15, 19)] == [1, 2, 2]
    assert holdout_count(10, 0.5) == 5


def test_stratified_shares_within_tolerance():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"group_id": [f"5101{i:014d}" for i in range(6000)],
                          "stratum": rng.choice(["visit/member_loss", "call/spend_decline", "care/idle_lines", "care/arrears"],
                                                6000, p=[0.1, 0.3, 0.59, 0.01])})
    drawn = draw_holdout(frame, "2026-10", salt="x")
    share = drawn.groupby("stratum")["assignment"].apply(lambda s: (s == "holdout").mean())
    sizes = drawn.groupby("stratum").size()
    assert ((share - 0.2).abs() <= 0.5 / sizes + 1e-12).all(), share  # each stratum: its share, up to rounding one group
    assert share[sizes > 1000].between(0.1995, 0.2005).all()
    assert abs((drawn["assignment"] == "holdout").mean() - 0.2) < 0.002
    probability = drawn.groupby("stratum")["assignment_probability"].first()
    assert np.allclose(probability, 1 - share)
    tiny = draw_holdout(frame.head(3).assign(stratum=["a", "b", "b"]), "2026-10", salt="x")
    assert (tiny.groupby("stratum")["assignment"].apply(lambda s: (s == "holdout").mean()) >= 0.1).all()


def test_same_salt_same_holdout_other_salt_or_wave_another():
    frame = pd.DataFrame({"group_id": [str(i) for i in range(500)], "stratum": "call/idle_lines"})
    a = draw_holdout(frame, "2026-10", salt="secret")
    assert a.equals(draw_holdout(frame.sample(frac=1, random_state=2).sort_index(), "2026-10", salt="secret"))
    held = set(a.loc[a["assignment"] == "holdout", "group_id"])
    for other in (draw_holdout(frame, "2026-10", salt="other"), draw_holdout(frame, "2026-11", salt="secret")):
        assert set(other.loc[other["assignment"] == "holdout", "group_id"]) != held
    assert hash_unit("1", "2026-10", "s") == hash_unit("1", "2026-10", "s") != hash_unit("1", "2026-10", "t")


def test_share_limits_refused():
    frame = pd.DataFrame({"group_id": ["1"], "stratum": ["a"]})
    for share in (0.05, 0.6):
        with pytest.raises(UsageError, match="--holdout must be between 0.10 and 0.50"):
            draw_holdout(frame, "2026-10", share=share)


def test_wave_rows_are_the_acting_groups_with_their_snapshot():
    scored = scored_frame(40)
    rows = wave_rows(scored, salt="s", model_version="abc")
    acting = scored[scored["action"] != "none"]
    assert sorted(rows["group_id"]) == sorted(acting["group_id"])
    one = rows.set_index("group_id").loc[acting["group_id"].iloc[0]]
    assert one["stratum"] == f"{acting['action'].iloc[0]}/{acting['reason_1'].iloc[0]}"
    assert one["churn_probability"] == acting["churn_probability"].iloc[0] and one["model_version"] == "abc"
    assert rows["wave"].eq("2026-10").all() and rows["contacted"].isna().all()


def test_contact_window_is_the_horizon_after_the_wave():
    assert [d.isoformat() for d in contact_window("2026-10", 3)] == ["2026-11-01", "2027-01-31"]


def test_plan_writes_workbooks_summary_and_rows(tmp_path):
    data, result = planned(tmp_path, n=60)
    table = read_retention(data)
    assert len(table) == 45 and result.treated + result.holdout == 45  # 60 groups, a quarter with action none
    held = set(table.loc[table["assignment"] == "holdout", "group_id"])
    assert held and len(result.workbooks) == 3
    assert sorted(p.name for p in result.workbooks) == ["2026-10-张三.xlsx", "2026-10-李四.xlsx", "2026-10-王_五.xlsx"]
    handed = set()
    for path in result.workbooks:
        wb = load_workbook(path)
        ws = wb["名单"]
        assert ws.freeze_panes == "C2" and ws.auto_filter.ref.startswith("A1:O")
        assert ws.protection.sheet and not ws.protection.autoFilter
        ids = [ws.cell(row=r, column=2) for r in range(2, ws.max_row + 1)]
        assert all(c.data_type == "s" and c.number_format == "@" and len(c.value) == 18 for c in ids)
        handed.update(c.value for c in ids)
        assert ws["B2"].protection.locked and not ws["J2"].protection.locked and not ws["O2"].protection.locked
        assert ws["I2"].alignment.wrap_text and ws["G2"].alignment.wrap_text
        kinds = sorted(dv.type for dv in ws.data_validations.dataValidation)
        assert kinds == ["date", "decimal", "list", "list"]
        assert ws.column_dimensions["B"].width == 21
        assert wb["_churnkit"].sheet_state == "hidden" and wb["_churnkit"]["B2"].value == "2026-10"
        ranks = [ws.cell(row=r, column=1).value for r in range(2, ws.max_row + 1)]
        assert ranks == sorted(ranks)
    assert handed == set(table.loc[table["assignment"] == "treat", "group_id"]) and not handed & held
    summary = load_workbook(result.summary)["汇总"]
    total = [c.value for c in summary[summary.max_row]]
    assert total[0] == "合计" and total[1] == result.treated and total[-1] == result.holdout


def test_plan_is_all_or_nothing(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(plan_module, "write_summary", broken)
    data = tmp_path / "data"
    data.mkdir()
    scored = write_scored(scored_frame(30), tmp_path / "scored.csv")
    with pytest.raises(Exception):
        plan_wave(scored, data, tmp_path / "wb")
    assert not list((tmp_path / "wb").glob("*")) and read_retention(data) is None


def test_replanning_the_same_wave(tmp_path):
    data, first = planned(tmp_path, n=40, salt="a")
    before = (data / "retention.parquet").read_bytes()
    plan_wave(tmp_path / "scored.csv", data, tmp_path / "workbooks", salt="a")
    assert (data / "retention.parquet").read_bytes() == before
    with pytest.raises(DataError, match="already in the retention table with a different list"):
        plan_wave(tmp_path / "scored.csv", data, tmp_path / "workbooks", salt="b")
    again = plan_wave(tmp_path / "scored.csv", data, tmp_path / "workbooks", salt="b", replace=True)
    assert len(read_retention(data)) == len(again.rows)


def test_cli_plan_and_refusal(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    scored = write_scored(scored_frame(30), tmp_path / "scored.csv")
    runner = CliRunner()
    ok = runner.invoke(app, ["campaign", "plan", "--scored", str(scored), "--data", str(data), "--out", str(tmp_path / "wb"),
                             "--model", str(tmp_path / "none")])
    assert ok.exit_code == 0, ok.output
    assert "wave 2026-10:" in ok.output and (data / "retention.parquet").is_file()
    bad = runner.invoke(app, ["campaign", "plan", "--scored", str(scored), "--data", str(data), "--out", str(tmp_path / "wb"),
                              "--holdout", "0.05"])
    assert bad.exit_code == 2 and "--holdout must be between 0.10 and 0.50" in bad.output
