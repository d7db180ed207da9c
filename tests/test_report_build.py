"""`churnkit report` end to end: the JSON twin's contract, reuse of the scored file, old bundles,
bad input, all-or-nothing output and point in time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from churnkit.cli import app
from churnkit.model.bundle import load_bundle
from churnkit.months import format_month, parse_month
from churnkit.report.build import figures
from churnkit.validate import load_dataset

RATE_KEYS = ["month", "groups_at_start", "groups_churned", "absolute_churn_rate", "spend_at_start", "spend_churned",
             "relative_churn_rate"]
BACKTEST_KEYS = {"month", "in_sample", "top_decile_lift", "rule_top_decile_lift", "precision_top_decile", "recall_top_decile"}


def run(*args: str):
    return CliRunner().invoke(app, ["report", *map(str, args)])


def test_json_twin_has_the_issues_keys(report_files):
    html, twin = report_files
    f = json.loads(twin.read_text(encoding="utf-8"))
    assert f["month"] == "2026-10"
    assert len(f["churn_rates"]) == 12 and [r["month"] for r in f["churn_rates"]][-1] == "2026-10"
    for row in f["churn_rates"]:
        assert list(row)[:7] == RATE_KEYS
        assert 0 <= row["absolute_churn_rate"] < 0.1 and 0 <= row["relative_churn_rate"] < 0.1  # fractions, not percent
        assert row["absolute_churn_rate"] == pytest.approx(row["groups_churned"] / row["groups_at_start"])
    assert set(f["churn_rates_by"]) == {"region", "industry", "value_tier", "account_manager"}
    for dim, rows in f["churn_rates_by"].items():
        assert all(set(RATE_KEYS) | {dim} <= set(r) for r in rows), dim
        by_month = {}
        for r in rows:
            by_month[r["month"]] = by_month.get(r["month"], 0) + r["groups_churned"]
        assert by_month == {r["month"]: r["groups_churned"] for r in f["churn_rates"] if r["groups_at_start"]}, dim
    risk = f["risk"]
    assert {"scored", "excluded", "expected_loss_total", "by_action"} <= set(risk)
    assert set(risk["by_action"]) == {"visit", "call", "care", "none"}
    assert sum(a["groups"] for a in risk["by_action"].values()) == risk["scored"]
    assert risk["expected_loss_total"] == pytest.approx(sum(a["expected_loss"] for a in risk["by_action"].values()), abs=0.05)
    assert len(risk["top"]) == 20 and [g["risk_rank"] for g in risk["top"]] == list(range(1, 21))
    assert len(f["backtest"]) == 12
    for row in f["backtest"]:
        assert BACKTEST_KEYS <= set(row)
        assert parse_month(row["month"]) + 3 <= parse_month("2026-10")
    assert f["drift"] and {"signal", "psi", "null_share_train", "null_share_now"} <= set(f["drift"][0])
    assert html.stat().st_size < 5 * 1024 * 1024


def test_the_page_says_what_the_json_says(report_files):
    html, twin = report_files
    page = html.read_text(encoding="utf-8")
    f = json.loads(twin.read_text(encoding="utf-8"))
    last = f["churn_rates"][-1]
    assert f"{100 * last['absolute_churn_rate']:.2f}%" in page
    assert f["risk"]["top"][0]["group_id"] in page
    assert "<script" not in page and "http://" not in page and "https://" not in page


@pytest.fixture(scope="module")
def scored_sim(sim_dir, trained_bundle, tmp_path_factory):
    out = tmp_path_factory.mktemp("scored") / "scored.csv"
    result = CliRunner().invoke(app, ["score", "--data", str(sim_dir), "--month", "latest", "--model", str(trained_bundle),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_report_reuses_the_scored_file(sim_dir, trained_bundle, scored_sim, tmp_path):
    reused = run("--data", sim_dir, "--month", "latest", "--model", trained_bundle, "--scored", scored_sim,
                 "--out", tmp_path / "a.html")
    assert reused.exit_code == 0, reused.output
    fresh = run("--data", sim_dir, "--month", "latest", "--model", trained_bundle, "--out", tmp_path / "b.html")
    assert fresh.exit_code == 0, fresh.output
    a, b = (json.loads((tmp_path / n).read_text(encoding="utf-8")) for n in ("a.json", "b.json"))
    assert a["risk"] == b["risk"]
    # the CSV alone (no parquet twin) gives the same figures
    csv_only = tmp_path / "csv" / "scored.csv"
    csv_only.parent.mkdir()
    shutil.copy(scored_sim, csv_only)
    shutil.copy(scored_sim.with_name("scored.excluded.csv"), csv_only.with_name("scored.excluded.csv"))
    again = run("--data", sim_dir, "--month", "latest", "--model", trained_bundle, "--scored", csv_only, "--out", tmp_path / "c.html")
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))["risk"] == a["risk"]


def test_only_the_listed_groups_texts_are_read(scored_sim):
    """The report reads the reason sentences and script steps of the groups it lists, not of all:
    they are identical to the file's for those groups, absent for the others."""
    import pandas as pd

    from churnkit.report.risk import TEXTS, read_scored, shown

    full = pd.read_parquet(scored_sim.with_suffix(".parquet")).sort_values("risk_rank").reset_index(drop=True)
    table, _ = read_scored(scored_sim, full["month"].iloc[0])
    mask = shown(full)
    assert 0 < mask.sum() < len(full)
    assert list(table.columns) == list(full.columns)
    for col in TEXTS:
        assert table.loc[mask, col].tolist() == full.loc[mask, col].tolist()
        assert table.loc[~mask, col].isna().all()


def test_a_scored_file_of_another_month_is_refused(sim_dir, trained_bundle, scored_sim, tmp_path):
    month = format_month(parse_month(load_dataset(sim_dir).months[-1]) - 1)
    result = run("--data", sim_dir, "--month", month, "--model", trained_bundle, "--scored", scored_sim, "--out", tmp_path / "r.html")
    assert result.exit_code == 3
    assert str(scored_sim.name) in result.output and f"not {month}" in result.output
    assert not list(tmp_path.iterdir())


def test_a_file_that_is_not_a_scored_file_is_refused(sim_dir, trained_bundle, tmp_path):
    bad = tmp_path / "in" / "scored.csv"
    bad.parent.mkdir()
    bad.write_text("month,group_id,churn_probability\n2026-08,1,0.5\n", encoding="utf-8")
    result = run("--data", sim_dir, "--month", "latest", "--model", trained_bundle, "--scored", bad, "--out", tmp_path / "r.html")
    assert result.exit_code == 3
    assert "scored.csv" in result.output and "group_name" in result.output and "not a churnkit scored file" in result.output
    assert not list(tmp_path.glob("r.*"))


def test_a_bundle_without_drift_bins_gets_a_note(sim_dir, trained_bundle, tmp_path):
    old = tmp_path / "old-bundle"
    shutil.copytree(trained_bundle, old)
    manifest = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
    del manifest["drift_reference"]
    (old / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = run("--data", sim_dir, "--month", "latest", "--model", old, "--out", tmp_path / "r.html", "--lang", "en")
    assert result.exit_code == 0, result.output
    f = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert f["drift"] == [] and "retrain" in f["drift_note"]
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "trained before drift monitoring existed" in page and 'id="drift"' in page


def test_english_report(sim_dir, trained_bundle, tmp_path):
    result = run("--data", sim_dir, "--month", "latest", "--model", trained_bundle, "--out", tmp_path / "r.html", "--lang", "en")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "Group customer churn report" in page and "Backtest" in page
    assert "流失率" not in page


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--out", "r.pdf"], 2, "the report is an .html file"),
    (["--lang", "fr"], 2, "--lang must be one of zh, en"),
    (["--month", "2019-01"], 3, "billing has no rows for month 2019-01"),
    (["--model", "no-such-bundle"], 5, "no model bundle here"),
])
def test_bad_input_is_one_clear_line_and_no_output(sim_dir, trained_bundle, tmp_path, args, code, message):
    options = {"--month": "latest", "--model": str(trained_bundle), "--out": str(tmp_path / "r.html")}
    for key, value in zip(args[::2], args[1::2]):
        options[key] = str(tmp_path / value) if key == "--out" else value
    result = run("--data", sim_dir, *[x for pair in options.items() for x in pair])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert not list(tmp_path.glob("r.*"))


def test_report_for_a_month_ignores_everything_after_it(sim_dir, trained_bundle, tmp_path):
    """Figures for M are the same whether or not the data go on after M."""
    from test_report_backtest import _cut

    data = load_dataset(sim_dir)
    bundle = load_bundle(trained_bundle)
    month = parse_month(data.months[-1]) - 2
    later = figures(data, month, bundle)
    known = _cut(data, month, tmp_path / "known", churn_until=format_month(month))
    then = figures(known, month, bundle)
    for key in ("churn_rates", "churn_rates_by", "risk", "backtest", "backtest_calibration", "drift"):
        assert later[key] == then[key], key


def test_a_real_shift_is_flagged(sim_dir, trained_bundle, tmp_path):
    """Every line forwards heavily in the report month: forwarding signals shift, others do not."""
    import shutil

    root = Path(shutil.copytree(sim_dir, tmp_path / "data"))
    month = load_dataset(root).months[-1]
    path = root / "usage" / f"{month}.parquet"
    usage = pd.read_parquet(path)
    usage["forwarded_calls"] = 50
    usage.to_parquet(path, index=False)
    data = load_dataset(root)
    bundle = load_bundle(trained_bundle)
    drift = {d["signal"]: d["psi"] for d in figures(data, parse_month(month), bundle)["drift"]}
    assert drift["forwarding_share"] > 0.2 and drift["forwarding_lines"] > 0.2
    assert drift["spend"] < 0.1 and drift["active_lines"] < 0.1
