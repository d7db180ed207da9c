"""Effect estimates: Newcombe's interval by hand, strata weighting, money, the report section, simulated truth."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from churnkit.campaign.effects import Costs, estimate, newcombe, wilson
from churnkit.months import parse_month
from churnkit.report.retention import retention_figures, section


def test_wilson_and_newcombe_by_hand():
    # Wilson, 4/40, z = 1.96: centre 0.1 + z^2/80 = 0.148018; spread z*sqrt(0.09/40 + z^2/6400) = 0.104637;
    # divided by 1 + z^2/40 = 1.096037
    lo, hi = wilson(4, 40)
    assert lo == pytest.approx(0.039580, abs=1e-6) and hi == pytest.approx(0.230518, abs=1e-6)
    # Newcombe (1998), Statistics in Medicine 17:873, Table II, method 10
    assert newcombe(56, 70, 48, 80)[1:] == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert newcombe(9, 10, 3, 10)[1:] == pytest.approx((0.1705, 0.8090), abs=5e-5)


def _wave(wave="2026-01", stratum="call/spend_decline", treated=(40, 4), holdout=(10, 3), prob=0.8, start=0):
    """Rows of one stratum: ``treated`` = (groups, of which churn within the horizon), the same for holdout."""
    rows, churn = [], []
    i = start
    for assignment, (n, y) in (("treat", treated), ("holdout", holdout)):
        for k in range(n):
            gid = f"5101{i:014d}"
            rows.append({"wave": wave, "group_id": gid, "assignment": assignment, "assignment_probability": prob,
                         "stratum": stratum, "churn_probability": 0.25, "expected_loss": 300.0,  # 100 yuan a month
                         "reason_1": stratum.split("/")[1], "recommended_action": stratum.split("/")[0],
                         "script_id": "RS-SPEND-01", "model_version": "m", "account_manager": "张三",
                         "contacted": None, "action_taken": None, "script_used": None, "offer": None, "offer_cost": None,
                         "note": None})
            if k < y:
                churn.append({"group_id": gid, "churn_month": "2026-03"})  # inside (2026-01, 2026-04]
            i += 1
    return rows, churn


def test_one_stratum_wave_by_hand():
    rows, churn = _wave()
    frame, churn = pd.DataFrame(rows), pd.DataFrame(churn)
    # treated 1..20 reached by call, 5 of them with an offer of 40 yuan; holdout group 41 contacted anyway
    frame.loc[:19, ["contacted", "action_taken", "script_used"]] = ["2026-02-03", "call", "RS-SPEND-01"]
    frame.loc[:4, "offer_cost"] = 40.0
    frame.loc[40, ["contacted", "action_taken"]] = ["2026-02-10", "call"]
    f = estimate(frame, churn, horizon=3, as_of=parse_month("2026-04"), costs=Costs(call=20))
    p = f["pooled"]
    # churn 4/40 = 10% treated, 3/10 = 30% holdout: uplift 0.20, Newcombe (-0.0323, 0.5092) on the difference
    assert (p["treated"], p["holdout"], p["churn_treated"], p["churn_holdout"]) == (40, 10, 0.1, pytest.approx(0.3))
    assert p["uplift"] == pytest.approx(0.2)
    assert (p["uplift_lo"], p["uplift_hi"]) == pytest.approx((-0.032334, 0.509183), abs=1e-6)
    # yearly revenue 40 x 1200 = 48,000; saved 0.2 x 48,000 = 9,600; cost 5 x 40 + 20 x 20 = 600; ROI 15
    assert p["saved_revenue"] == pytest.approx(9600) and p["cost"] == 600 and p["roi"] == pytest.approx(15.0)
    assert p["saved_revenue_lo"] == pytest.approx(-0.032334 * 48000, abs=0.1)
    # groups 1..4 churned, all reached: 16 of 20 reached stayed
    assert p["reached_share"] == 0.5 and p["stayed_after_contact"] == pytest.approx(0.8)
    assert (p["holdout_contacted"], p["holdout_contacted_share"]) == (1, 0.1)
    assert [w["wave"] for w in f["waves"]] == ["2026-01"] and f["pending"] == []
    assert [s["script_id"] for s in f["by_script"]] == ["RS-SPEND-01"] and f["by_script"][0]["treated"] == 20


def test_holdout_weighted_to_the_treated_strata_by_hand():
    a, ca = _wave(stratum="visit/member_loss", treated=(8, 4), holdout=(2, 1))
    b, cb = _wave(stratum="care/idle_lines", treated=(9, 0), holdout=(1, 0), start=100)
    f = estimate(pd.DataFrame(a + b), pd.DataFrame(ca + cb), 3, parse_month("2026-06"))
    p = f["pooled"]
    # holdout weights: stratum a 8/2 = 4 per group, b 9/1 = 9; churn (4 x 1 + 0) / (4 x 2 + 9) = 4/17
    assert p["churn_holdout"] == pytest.approx(4 / 17)
    assert p["holdout_effective"] == pytest.approx(17 ** 2 / (2 * 16 + 81))  # Kish: (sum w)^2 / sum w^2
    assert p["churn_treated"] == pytest.approx(4 / 17) and p["uplift"] == pytest.approx(0)
    actions = {r["action"]: r for r in f["by_action"]}
    assert actions["visit"]["churn_holdout"] == 0.5 and actions["care"]["churn_holdout"] == 0.0


def test_only_churn_within_the_horizon_counts_and_running_waves_wait():
    rows, churn = _wave(treated=(4, 2), holdout=(2, 0))
    churn = pd.DataFrame(churn)
    churn.loc[1, "churn_month"] = "2026-05"  # after 2026-01 + 3: stays for this wave
    late, _ = _wave(wave="2026-05", treated=(3, 0), holdout=(1, 0), start=50)
    f = estimate(pd.DataFrame(rows + late), churn, 3, parse_month("2026-06"))
    assert f["pooled"]["churned_treated"] == 1
    assert f["pending"] == [{"wave": "2026-05", "treated": 3, "holdout": 1, "measured_from": "2026-08"}]


def test_report_section_from_a_data_directory(tmp_path):
    from churnkit.campaign.table import write_parquet

    rows, churn = _wave()
    data = tmp_path / "data"
    data.mkdir()
    write_parquet(pd.DataFrame(rows), data / "retention.parquet")
    pd.DataFrame(churn).to_parquet(data / "churn.parquet", index=False)
    figures = retention_figures(data, parse_month("2026-04"), 3)
    assert figures["pooled"]["uplift"] == pytest.approx(0.2)
    page = section({"retention": figures}, "zh")
    assert 'id="retention"' in page and "合并 1 个批次：挽留少流失 +20.0 个百分点（95% 区间 -3.2 至 +50.9）" in page
    assert "联系后留存率（不是效果）" in page and "<svg" in page
    english = section({"retention": figures}, "en")
    assert "1 waves pooled: retention prevented +20.0 points" in english and "not an effect" in english
    assert "no retention waves yet" in section({"retention": retention_figures(tmp_path, 0, 3)}, "en")
    assert section({}, "zh") == ""


def test_pooled_interval_covers_the_simulated_truth(tmp_path):
    from churnkit.simulate.campaigns import simulate_campaigns

    out = tmp_path / "sim"
    summary = simulate_campaigns(out, groups=1500, months=18, start="2025-01", seed=3)
    truth = json.loads((out / "_truth" / "campaign_effects.json").read_text())
    figures = retention_figures(out, parse_month("2026-06"), 3)
    pooled = figures["pooled"]
    assert summary["waves"] == 3 == pooled["waves"] and len(truth["waves"]) == 3
    assert pooled["uplift_lo"] <= truth["pooled"]["uplift"] <= pooled["uplift_hi"]
    assert 0 < pooled["holdout_contacted_share"] < 0.1  # managers' mistakes are counted
    assert not math.isnan(pooled["stayed_after_contact"])
    table = pd.read_parquet(out / "retention.parquet")
    share = (table["assignment"] == "holdout").mean()
    assert 0.19 < share < 0.26  # 20% per stratum, at least one group in small strata
