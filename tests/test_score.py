"""The monthly scoring job, end to end through the CLI, as an analyst runs it."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from churnkit.cli import app
from churnkit.families import FAMILIES
from churnkit.output import SCORED_COLUMNS

runner = CliRunner()
MONTH = "2026-08"  # the last month of sim_dir (2025-01 + 20 months)


def run_score(data, model, out, *extra):
    result = runner.invoke(app, ["score", "--data", str(data), "--month", MONTH, "--model", str(model), "--out", str(out), *extra])
    return result


@pytest.fixture(scope="module")
def scored(sim_dir, trained_bundle, tmp_path_factory):
    out = tmp_path_factory.mktemp("scored") / "scored.csv"
    result = run_score(sim_dir, trained_bundle, out)
    assert result.exit_code == 0, result.output
    return out, pd.read_csv(out, dtype={"group_id": str}, encoding="utf-8-sig", keep_default_na=False, na_values=[""])


def test_header_and_order(scored):
    out, frame = scored
    assert list(frame.columns[: len(SCORED_COLUMNS)]) == SCORED_COLUMNS
    assert frame["risk_rank"].tolist() == list(range(1, len(frame) + 1))
    assert (frame["month"] == MONTH).all()
    p = frame["churn_probability"].to_numpy()
    assert (np.diff(p) <= 0).all() and ((p >= 0) & (p <= 1)).all()
    n = len(frame)
    assert (frame["risk_decile"] == np.ceil(10 * frame["risk_rank"] / n)).all()
    assert np.allclose(frame["expected_loss"], frame["churn_probability"] * frame["spend"] * 12, atol=0.02 + 1e-4 * frame["spend"] * 12)


def test_every_group_is_scored_or_excluded_once(scored, sim_dir):
    out, frame = scored
    excluded = pd.read_csv(out.with_name("scored.excluded.csv"), dtype={"group_id": str}, encoding="utf-8-sig")
    groups = pd.read_parquet(sim_dir / "groups.parquet")
    ids = list(frame["group_id"]) + list(excluded["group_id"])
    assert sorted(ids) == sorted(groups["group_id"]) and len(ids) == len(set(ids))
    assert set(excluded["reason"]) <= {"churned", "not_yet_opened", "no_active_lines"}
    assert excluded["detail"].str.len().min() > 5
    assert (frame["group_id"].str.len() == 18).all()


def test_impacts_sum_to_probability_minus_base(scored):
    _, frame = scored
    impacts = frame[[f"impact_{f}" for f in FAMILIES]].sum(axis=1)
    assert np.abs(impacts - (frame["churn_probability"] - frame["base_probability"])).max() < 0.001


def test_reasons_name_only_families_that_raise_risk(scored):
    _, frame = scored
    for k in (1, 2, 3):
        named = frame[frame[f"reason_{k}"].notna()]
        assert named[f"reason_{k}"].isin(FAMILIES).all()
        assert (named[f"reason_{k}_impact"] > 0).all()
        impact_of_named = named.apply(lambda r: r[f"impact_{r[f'reason_{k}']}"], axis=1)
        assert np.allclose(impact_of_named, named[f"reason_{k}_impact"], atol=1e-4)
        assert named[f"reason_{k}_text"].str.len().min() > 3
    top = frame.iloc[0]
    assert top["script_id"].startswith("RS-") and top["script_steps"].startswith("1.")
    assert not frame["reason_1_text"].fillna("").str.contains("nan|None").any()


def test_rerun_is_byte_identical(scored, sim_dir, trained_bundle, tmp_path):
    out, _ = scored
    again = tmp_path / "scored.csv"
    assert run_score(sim_dir, trained_bundle, again).exit_code == 0
    assert again.read_bytes() == out.read_bytes()
    assert again.with_name("scored.excluded.csv").read_bytes() == out.with_name("scored.excluded.csv").read_bytes()


def test_english_reasons_and_scripts(sim_dir, trained_bundle, tmp_path):
    out = tmp_path / "en.csv"
    assert run_score(sim_dir, trained_bundle, out, "--lang", "en").exit_code == 0
    frame = pd.read_csv(out, encoding="utf-8-sig")
    # profile sentences quote the data's own (Chinese) industry and region names; all else is English
    not_profile = frame[frame["reason_1"] != "profile"]
    text = " ".join(not_profile["reason_1_text"].dropna().head(50)) + " ".join(frame["script_title"].dropna().head(50))
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in text)
    assert text.strip()


def test_planted_formula_in_group_name_is_escaped(sim_dir, trained_bundle, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sim_dir, data)
    groups = pd.read_parquet(data / "groups.parquet")
    scored_ids = pd.read_parquet(data / "billing").query("month == @MONTH")["group_id"].unique()
    target = groups.index[groups["group_id"].isin(scored_ids)][0]
    groups.loc[target, "group_name"] = '=HYPERLINK("http://evil","点我")'
    groups.to_parquet(data / "groups.parquet", index=False)
    out = tmp_path / "s.csv"
    assert run_score(data, trained_bundle, out).exit_code == 0
    text = out.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    assert ",'=HYPERLINK(" in text.decode("utf-8-sig") or "\"'=HYPERLINK(" in text.decode("utf-8-sig")


def test_scoring_reads_only_its_window_and_gives_the_same_file(scored, sim_dir, trained_bundle, tmp_path):
    """The CLI loads six months of history for the scoring month; a full load scores the same bytes."""
    from churnkit.months import parse_month
    from churnkit.score import score
    from churnkit.validate import load_dataset

    out, _ = scored
    full = load_dataset(sim_dir)
    windowed = load_dataset(sim_dir, window=(parse_month(MONTH) - 6, parse_month(MONTH)))
    assert windowed.months == ["2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08"]
    assert len(windowed["billing"]) < len(full["billing"])
    assert windowed.coverage == full.months
    score(full, parse_month(MONTH), trained_bundle, tmp_path / "full.csv")
    assert (tmp_path / "full.csv").read_bytes() == out.read_bytes()


def test_latest_month_scores_the_last_billing_month(scored, sim_dir, trained_bundle, tmp_path):
    out, _ = scored
    latest = tmp_path / "latest.csv"
    result = runner.invoke(app, ["score", "--data", str(sim_dir), "--month", "latest", "--model", str(trained_bundle),
                                 "--out", str(latest)])
    assert result.exit_code == 0, result.output
    assert latest.read_bytes() == out.read_bytes()  # MONTH is the last month of sim_dir


def test_small_batches_write_the_same_files(scored, sim_dir, trained_bundle, tmp_path):
    """Predict, explain, word the reasons and write 37 groups at a time: the same bytes as one go."""
    from churnkit.features import scoring_window
    from churnkit.months import parse_month
    from churnkit.score import score
    from churnkit.validate import load_dataset

    out, frame = scored
    month = parse_month(MONTH)
    result = score(load_dataset(sim_dir, window=scoring_window(month)), month, trained_bundle, tmp_path / "scored.csv", batch=37)
    assert len(frame) > 37 * 3
    for name in ("scored.csv", "scored.excluded.csv"):
        assert (tmp_path / name).read_bytes() == out.with_name(name).read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "scored.parquet"), pd.read_parquet(out.with_suffix(".parquet")))
    assert len(result.scored) == 37 and result.summary["scored"] == len(frame)
