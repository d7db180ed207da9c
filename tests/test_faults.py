"""Reliability suite: the real commands fed broken, odd or hostile input.

Every case drives ``churnkit validate|features|train|score`` through typer's CliRunner (or the
library function the command runs) and checks the promise of README, "When the input is wrong":
the one-line message (file, table, column, keys, fix), the exit code, and the output folder (no
partial output, previous files byte-identical, no temporary files left).

The session fixtures ``sim_dir`` (600 groups x 20 months, 2025-01..2026-08) and
``trained_bundle`` are shared; each damaging test works on a copy under ``tmp_path``. Only one
test retrains (case 18).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # LightGBM's OpenMP threads spin otherwise on a busy machine

import csv
import datetime as dt
import errno
import hashlib
import json
import pickle
import re
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from churnkit import output
from churnkit.cli import app
from churnkit.errors import StorageError
from churnkit.model import bundle as bundle_mod
from churnkit.model import lgbm
from churnkit.model.bundle import MANIFEST, MODEL_FILE, load_bundle, save_bundle
from churnkit.output import SCORED_COLUMNS, write_scored

runner = CliRunner()
MONTH = "2026-08"  # last month of sim_dir
FILES = ("scored.csv", "scored.parquet", "scored.excluded.csv")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PAYLOADS = ['=HYPERLINK("http://evil.example/x","click me")', "+1", "-2+3", "@SUM(A1)", "\tleading tab",
            "=1+1", "\r=cr"]
ZERO_ID = "012345678901234567"  # 18 digits with a leading zero
NO_LINES_ID = "510199999999999991"  # in groups, never any billing row
GONE_ID_NAME = "-1+1 gone this month"


# ------------------------------------------------------------------------------------- helpers


def cli(*args):
    return runner.invoke(app, [str(a) for a in args])


def score_cli(data, out, model, *extra, month=MONTH):
    return cli("score", "--data", data, "--month", month, "--model", model, "--out", out, *extra)


def fails(result, code: int, *needles: str, lines: int = 1) -> str:
    """Assert the exit code and that stderr holds exactly ``lines`` error lines containing every needle."""
    detail = f"exit {result.exit_code} (expected {code})\nstderr:\n{result.stderr}\nexception: {result.exception!r}"
    assert result.exit_code == code, detail
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == lines, detail
    text = "\n".join(errors)
    for needle in needles:
        assert needle in text, f"{needle!r} not in:\n{text}"
    return text


def ok(result):
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.output}\n{result.exception!r}"
    return result


def state(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones included) with its bytes."""
    folder = Path(folder)
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_data(sim_dir: Path, dst: Path) -> Path:
    return Path(shutil.copytree(sim_dir, dst, ignore=shutil.ignore_patterns("_truth")))


def edit(path: Path, change) -> None:
    frame = pd.read_parquet(path)
    change(frame).to_parquet(path, index=False)


def read_csv_cells(path: Path) -> list[dict[str, str]]:
    """The CSV exactly as a spreadsheet gets it: every cell as text."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def rewrite_group_id(data: Path, old: str, new: str) -> None:
    """Rename a group everywhere it appears."""
    for path in data.rglob("*.parquet"):
        frame = pd.read_parquet(path)
        if "group_id" in frame and (frame["group_id"] == old).any():
            frame.loc[frame["group_id"] == old, "group_id"] = new
            frame.to_parquet(path, index=False)


def month_frames(data: Path, table: str, month: str) -> pd.DataFrame:
    return pd.read_parquet(data / table / f"{month}.parquet")


def steady_groups(sim_dir: Path) -> list[str]:
    """Groups with at least two lines in each of 2026-04..2026-08, not churned: always scored."""
    billing = pd.concat([month_frames(sim_dir, "billing", m) for m in ("2026-04", "2026-05", "2026-06", "2026-07", MONTH)])
    lines = billing.groupby(["group_id", "month"])["member_id"].nunique().unstack()
    churned = set(pd.read_parquet(sim_dir / "churn.parquet")["group_id"])
    steady = lines[(lines >= 2).all(axis=1)].index
    return sorted(g for g in steady if g not in churned)


# ------------------------------------------------------------------------------- shared runs


@pytest.fixture(scope="module")
def baseline(sim_dir, trained_bundle, tmp_path_factory) -> Path:
    """sim_dir scored for MONTH: the reference output (folder holding the three files)."""
    folder = tmp_path_factory.mktemp("baseline")
    ok(score_cli(sim_dir, folder / "scored.csv", trained_bundle))
    assert sorted(state(folder)) == sorted(FILES)
    return folder


@pytest.fixture(scope="module")
def messy(sim_dir, tmp_path_factory) -> dict:
    """A valid but awkward copy of sim_dir: history gaps, a group without lines, a group whose lines
    all left this month, formula payloads in every text field, an id with a leading zero, and a
    playbook with payloads in its titles and ids."""
    data = copy_data(sim_dir, tmp_path_factory.mktemp("messy") / "data")
    steady = steady_groups(sim_dir)
    gap_1m, gap_3m, payload_groups = steady[:5], steady[5:10], steady[10:10 + len(PAYLOADS)]
    zero_src, gone = steady[20], steady[21]
    for month, gap in (("2026-07", gap_1m), ("2026-05", gap_3m)):
        for table in ("billing", "usage"):
            edit(data / table / f"{month}.parquet", lambda f, gap=gap: f[~f["group_id"].isin(gap)])
    for table in ("billing", "usage"):
        edit(data / table / f"{MONTH}.parquet", lambda f: f[f["group_id"] != gone])
    rewrite_group_id(data, zero_src, ZERO_ID)

    def groups_change(g):
        g = g.copy()
        for i, gid in enumerate(payload_groups):
            row = g["group_id"] == gid
            g.loc[row, "group_name"] = PAYLOADS[i]
            g.loc[row, "account_manager"] = PAYLOADS[(i + 3) % len(PAYLOADS)]
            g.loc[row, "value_tier"] = PAYLOADS[(i + 5) % len(PAYLOADS)]
        g.loc[g["group_id"] == gone, "group_name"] = GONE_ID_NAME
        new = g.iloc[[0]].copy()
        new["group_id"] = NO_LINES_ID
        new["group_name"] = PAYLOADS[0]
        new["account_manager"] = "@SUM(A1)"
        return pd.concat([g, new], ignore_index=True)

    edit(data / "groups.parquet", groups_change)
    book = files("churnkit").joinpath("playbook.toml").read_text(encoding="utf-8")
    book = book.replace('title = "', 'title = "@SUM(A1) ').replace('id = "RS-', 'id = "+RS-')
    playbook = data.parent / "playbook.toml"
    playbook.write_text(book, encoding="utf-8")
    return {"data": data, "gap_1m": gap_1m, "gap_3m": gap_3m, "payload_groups": payload_groups,
            "zero_src": zero_src, "gone": gone, "playbook": playbook}


@pytest.fixture(scope="module")
def messy_features(messy, tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("messy_features") / "f.parquet"
    ok(cli("features", "--data", messy["data"], "--month", MONTH, "--out", out, "--no-store"))
    return pd.read_parquet(out)


@pytest.fixture(scope="module")
def messy_scored(messy, trained_bundle, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("messy_scored")
    ok(score_cli(messy["data"], folder / "scored.csv", trained_bundle, "--playbook", messy["playbook"]))
    return folder


# ------------------------------------------------------------- usage errors and missing input


@pytest.mark.parametrize("command", ["score", "features"])
def test_bad_month_is_a_usage_error(command, sim_dir, trained_bundle, tmp_path):
    args = ["--data", sim_dir, "--month", "2026-13"]
    args += ["--model", trained_bundle, "--out", tmp_path / "out" / "s.csv"] if command == "score" else ["--no-store"]
    fails(cli(command, *args), 2, "2026-13", "YYYY-MM")
    assert state(tmp_path) == {}


def test_unknown_lang_is_a_usage_error(sim_dir, trained_bundle, tmp_path):
    fails(score_cli(sim_dir, tmp_path / "out" / "s.csv", trained_bundle, "--lang", "fr"), 2, "--lang", "'fr'", "zh", "en")
    assert state(tmp_path) == {}


def test_unknown_encoding_is_a_usage_error(sim_dir, tmp_path):
    fails(cli("validate", sim_dir, "--encoding", "klingon"), 2, "--encoding 'klingon'", "gb18030")


@pytest.mark.parametrize("command", ["validate", "features", "score"])
def test_missing_data_dir(command, trained_bundle, tmp_path):
    missing = tmp_path / "no-such-dir"
    args = {"validate": [missing],
            "features": ["--data", missing, "--month", MONTH, "--no-store"],
            "score": ["--data", missing, "--month", MONTH, "--model", trained_bundle, "--out", tmp_path / "out" / "s.csv"]}
    fails(cli(command, *args[command]), 3, str(missing), "no such data directory")
    assert state(tmp_path) == {}


# ------------------------------------------------------------- 1. no rows for the scoring month


@pytest.mark.parametrize("month", ["2026-10", "2024-12"])
def test_scoring_month_without_rows(month, sim_dir, trained_bundle, tmp_path):
    fails(score_cli(sim_dir, tmp_path / "out" / "scored.csv", trained_bundle, month=month), 3,
          f"billing has no rows for month {month}", "2025-01..2026-08", "--month")
    assert state(tmp_path) == {}


def test_missing_middle_month(sim_dir, trained_bundle, tmp_path):
    data = copy_data(sim_dir, tmp_path / "data")
    for table in ("billing", "usage"):
        (data / table / "2026-03.parquet").unlink()
    out = tmp_path / "out"
    fails(score_cli(data, out / "scored.csv", trained_bundle, month="2026-03"), 3, "no rows for month 2026-03", str(data))
    fails(cli("features", "--data", data, "--month", "2026-03", "--out", out / "f.parquet", "--no-store"), 3,
          "no rows for month 2026-03")
    assert state(out) == {}


def test_header_only_month_file_means_no_rows(sim_dir, trained_bundle, tmp_path):
    data = copy_data(sim_dir, tmp_path / "data")
    pd.read_parquet(data / "billing" / f"{MONTH}.parquet").head(0).to_csv(data / "billing" / "2026-09.csv", index=False)
    fails(score_cli(data, tmp_path / "out" / "scored.csv", trained_bundle, month="2026-09"), 3, "no rows for month 2026-09")
    assert state(tmp_path / "out") == {}


# ------------------------------------------------------------------------- 2. history gaps


def _lines(frame, gid, month):
    return frame.loc[(frame["group_id"] == gid) & (frame["month"] == month), "member_id"].nunique()


def _spend(frame, gid, month):
    return frame.loc[(frame["group_id"] == gid) & (frame["month"] == month), "charge"].sum()


def _zero_share(billing, usage, gid, month):
    active = billing.loc[(billing["group_id"] == gid) & (billing["month"] == month), "member_id"]
    used = usage[(usage["group_id"] == gid) & (usage["month"] == month) & (usage["call_count"] > 0)]["member_id"]
    return (~active.isin(set(used))).mean()


def test_history_gaps_use_calendar_windows(messy, messy_features):
    data = messy["data"]
    billing = pd.concat([month_frames(data, "billing", m) for m in ("2026-05", "2026-06", "2026-07", MONTH)])
    usage = pd.concat([month_frames(data, "usage", m) for m in ("2026-05", "2026-06", "2026-07", MONTH)])
    feats = messy_features.set_index("group_id")
    assert set(messy["gap_1m"] + messy["gap_3m"]) <= set(feats.index)  # scored despite the gap
    for gid in messy["gap_1m"]:  # no rows in M-1 = 2026-07
        row = feats.loc[gid]
        lines = _lines(billing, gid, MONTH)
        assert row["active_lines"] == lines
        assert pd.isna(row["member_change_1m"]), gid
        assert row["member_change_3m"] == pytest.approx(lines / _lines(billing, gid, "2026-05") - 1)
        prev = np.mean([_spend(billing, gid, "2026-05"), _spend(billing, gid, "2026-06")])
        assert row["spend_change_3m"] == pytest.approx(_spend(billing, gid, MONTH) / prev - 1)
        zero_prev = np.mean([_zero_share(billing, usage, gid, m) for m in ("2026-05", "2026-06")])
        assert row["zero_call_share_change_3m"] == pytest.approx(_zero_share(billing, usage, gid, MONTH) - zero_prev)
        window = usage[(usage["group_id"] == gid) & usage["month"].isin(["2026-06", "2026-07", MONTH])]
        assert row["competitor_hotline_calls_3m"] == window["competitor_hotline_calls"].sum()
    for gid in messy["gap_3m"]:  # no rows in M-3 = 2026-05
        row = feats.loc[gid]
        lines = _lines(billing, gid, MONTH)
        assert pd.isna(row["member_change_3m"]), gid
        assert row["member_change_1m"] == pytest.approx(lines / _lines(billing, gid, "2026-07") - 1)
        prev = np.mean([_spend(billing, gid, "2026-06"), _spend(billing, gid, "2026-07")])
        assert row["spend_change_3m"] == pytest.approx(_spend(billing, gid, MONTH) / prev - 1)
    control = feats.loc[messy["payload_groups"][0]]
    assert pd.notna(control["member_change_1m"]) and pd.notna(control["member_change_3m"])


def test_history_gap_groups_are_scored(messy, messy_scored):
    scored = pd.read_csv(messy_scored / "scored.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert set(messy["gap_1m"] + messy["gap_3m"]) <= set(scored["group_id"])


# --------------------------------------------------------------------------------- 3. duplicates


def _dup_data(sim_dir, tmp_path, conflicting: bool, identical: bool, other_file: bool = False):
    data = copy_data(sim_dir, tmp_path / "data")
    path = data / "billing" / f"{MONTH}.parquet"
    billing = pd.read_parquet(path)
    extra = []
    if conflicting:
        row = billing.iloc[[5]].copy()
        row["charge"] = row["charge"] + 10
        extra.append(row)
    if identical:
        extra.append(billing.iloc[[9]].copy())
    if other_file:
        pd.concat(extra).to_parquet(data / "billing" / f"{MONTH}-late.parquet", index=False)
    else:
        pd.concat([billing, *extra]).to_parquet(path, index=False)
    return data, billing.iloc[5]["member_id"], billing.iloc[9]["member_id"]


def test_identical_duplicates(sim_dir, tmp_path):
    data, _, member = _dup_data(sim_dir, tmp_path, conflicting=False, identical=True)
    fails(cli("validate", data), 3, "billing.month+member_id: 2 row(s)", "(identical duplicates)",
          f"month={MONTH} member_id={member}", f"billing/{MONTH}.parquet", "fix: ")


def test_identical_duplicates_across_files(sim_dir, tmp_path):
    data, _, member = _dup_data(sim_dir, tmp_path, conflicting=False, identical=True, other_file=True)
    fails(cli("validate", data), 3, "(identical duplicates)", f"member_id={member}", f"{MONTH}-late.parquet")


def test_conflicting_duplicates(sim_dir, tmp_path):
    data, member, _ = _dup_data(sim_dir, tmp_path, conflicting=True, identical=False)
    fails(cli("validate", data), 3, "billing.month+member_id: 2 row(s)", "(conflicting duplicates)",
          f"month={MONTH} member_id={member}")


def test_identical_and_conflicting_duplicates_are_told_apart(sim_dir, trained_bundle, tmp_path):
    data, conflict, same = _dup_data(sim_dir, tmp_path, conflicting=True, identical=True)
    text = fails(cli("validate", data), 3, lines=2)
    identical_line, conflicting_line = sorted(text.splitlines(), key=lambda line: "conflicting" in line)
    assert "(identical duplicates)" in identical_line and f"member_id={same}" in identical_line
    assert f"member_id={conflict}" not in identical_line
    assert "(conflicting duplicates)" in conflicting_line and f"member_id={conflict}" in conflicting_line
    assert f"member_id={same}" not in conflicting_line
    fails(score_cli(data, tmp_path / "out" / "scored.csv", trained_bundle), 3, "identical", "conflicting", lines=2)
    assert state(tmp_path / "out") == {}


# ------------------------------------------------------------------ 4. a group with no lines


def test_group_without_lines_is_excluded_not_dropped(messy, messy_scored):
    scored = pd.read_csv(messy_scored / "scored.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    excluded = pd.read_csv(messy_scored / "scored.excluded.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert list(excluded.columns) == ["month", "group_id", "group_name", "reason", "detail"]
    reasons = excluded.set_index("group_id")["reason"]
    assert reasons[NO_LINES_ID] == "no_active_lines"
    assert reasons[messy["gone"]] == "no_active_lines"  # lines all gone in M, no churn record
    assert set(excluded["reason"]) <= {"churned", "not_yet_opened", "no_active_lines"}
    assert (excluded["detail"].str.len() > 5).all()
    groups = pd.read_parquet(messy["data"] / "groups.parquet")
    ids = list(scored["group_id"]) + list(excluded["group_id"])
    assert len(ids) == len(set(ids)) and set(ids) == set(groups["group_id"])


# ------------------------------------------------------------------------ 5. impossible values


def test_impossible_values_are_all_reported_at_once(sim_dir, trained_bundle, tmp_path):
    data = copy_data(sim_dir, tmp_path / "data")
    billing = pd.read_parquet(data / "billing" / f"{MONTH}.parquet")
    neg_member = billing.iloc[3]["member_id"]
    billing.loc[billing.index[3], "charge"] = -5.0
    billing.to_parquet(data / "billing" / f"{MONTH}.parquet", index=False)
    usage = pd.read_parquet(data / "usage" / "2026-07.parquet")
    fwd_member = usage.iloc[2]["member_id"]
    usage.loc[usage.index[2], "forwarded_offnet_calls"] = usage.iloc[2]["forwarded_calls"] + 3
    usage.to_parquet(data / "usage" / "2026-07.parquet", index=False)
    complaints = pd.read_parquet(data / "complaints.parquet")
    late_group = complaints.iloc[0]["group_id"]
    complaints["date"] = complaints["date"].astype(object)
    complaints.loc[complaints.index[0], "date"] = dt.date(2026, 10, 3)
    complaints.to_parquet(data / "complaints.parquet", index=False)

    text = fails(cli("validate", data), 3, lines=3)
    charge, offnet, late = text.splitlines()
    assert charge.startswith("error: billing.charge: 1 row(s) are below 0") and f"member_id={neg_member}" in charge
    assert f"billing/{MONTH}.parquet" in charge and "fix: " in charge
    assert offnet.startswith("error: usage.forwarded_offnet_calls: 1 row(s) exceed forwarded_calls")
    assert "usage/2026-07.parquet" in offnet and f"member_id={fwd_member}" in offnet
    assert late.startswith("error: complaints.date: 1 row(s) are dated after the last billing month 2026-08")
    assert "complaints.parquet" in late and f"group_id={late_group}" in late
    # score stops on the same problems before writing anything
    fails(score_cli(data, tmp_path / "out" / "scored.csv", trained_bundle), 3, "billing.charge", "forwarded_offnet_calls",
          "complaints.date", lines=3)
    assert state(tmp_path / "out") == {}


# ---------------------------------------------------------------------------- 6. schema drift


def test_required_column_missing(sim_dir, tmp_path):
    data = copy_data(sim_dir, tmp_path / "data")
    for path in (data / "billing").glob("*.parquet"):
        edit(path, lambda f: f.drop(columns=["charge"]))
    fails(cli("validate", data), 3, "billing.charge", "missing: the column is required", "billing/2025-01.parquet",
          "fix: add column 'charge'")


@pytest.mark.parametrize("table,old,new", [("billing", "charge", "charges"),
                                           ("usage", "forwarded_offnet_calls", "Forwarded_Offnet_Calls")])
def test_renamed_column_suggests_the_rename(table, old, new, sim_dir, tmp_path):
    data = copy_data(sim_dir, tmp_path / "data")
    for path in (data / table).glob("*.parquet"):
        edit(path, lambda f: f.rename(columns={old: new}))
    fails(cli("validate", data), 3, f"{table}.{old}", f"rename column '{new}' to '{old}'")


def test_renamed_column_in_one_monthly_file(sim_dir, tmp_path):
    data = copy_data(sim_dir, tmp_path / "data")
    edit(data / "billing" / f"{MONTH}.parquet", lambda f: f.rename(columns={"charge": "charges"}))
    fails(cli("validate", data), 3, f"billing/{MONTH}.parquet", "'charge'", "'charges'", "same columns")


def test_text_in_numeric_column_fails_before_features(sim_dir, tmp_path, monkeypatch):
    import churnkit.features

    def never(*args, **kwargs):
        raise AssertionError("signals built from unvalidated data")

    monkeypatch.setattr(churnkit.features, "build_signals", never)
    data = copy_data(sim_dir, tmp_path / "data")
    usage = pd.read_parquet(data / "usage" / f"{MONTH}.parquet")
    usage["call_minutes"] = usage["call_minutes"].astype(str)
    usage.loc[usage.index[4], "call_minutes"] = "12分钟"
    member = usage.iloc[4]["member_id"]
    usage.to_parquet(data / "usage" / f"{MONTH}.parquet", index=False)
    out = tmp_path / "out" / "f.parquet"
    text = fails(cli("features", "--data", data, "--month", MONTH, "--out", out, "--no-store"), 3, "call_minutes", "usage")
    if "are not numbers" in text:  # typed row by row: the row is named
        assert f"usage/{MONTH}.parquet" in text and f"member_id={member}" in text and "store numbers as numbers" in text
        assert "are empty" not in text  # the cell is not empty: reported once, as text
    else:  # refused when the monthly files are joined: the column and its clashing types are named
        assert "disagree on column types" in text and "same types" in text
    assert state(tmp_path / "out") == {}


def test_text_in_numeric_csv_column(sim_dir, tmp_path):
    data = copy_data(sim_dir, tmp_path / "data")
    path = data / "billing" / f"{MONTH}.parquet"
    billing = pd.read_parquet(path)
    billing["charge"] = billing["charge"].astype(object)
    billing.loc[billing.index[7], "charge"] = "1,234.50"
    billing.loc[billing.index[8], "charge"] = "N/A"
    billing.to_csv(data / "billing" / f"{MONTH}.csv", index=False)
    path.unlink()
    fails(cli("validate", data), 3, "billing.charge: 2 row(s) are not numbers", f"billing/{MONTH}.csv",
          f"member_id={billing.iloc[7]['member_id']}")


def test_extra_column_warns_and_continues(sim_dir, tmp_path):
    data = copy_data(sim_dir, tmp_path / "data")
    edit(data / "groups.parquet", lambda f: f.assign(remark="VIP"))
    for path in (data / "usage").glob("*.parquet"):
        edit(path, lambda f: f.assign(roaming_minutes=1.5))
    result = ok(cli("validate", data))
    assert "warning: groups: ignoring unknown column(s) remark" in result.stderr
    assert "warning: usage: ignoring unknown column(s) roaming_minutes" in result.stderr
    assert "error" not in result.stderr
    out = tmp_path / "out" / "f.parquet"
    ok(cli("features", "--data", data, "--month", MONTH, "--out", out, "--no-store"))
    assert "remark" not in pd.read_parquet(out).columns


# ------------------------------------------------------------------ 7. shuffled feature columns


def test_shuffled_feature_columns_give_identical_scores(sim_dir, trained_bundle):
    from churnkit.features import build_features
    from churnkit.months import parse_month
    from churnkit.score import predict
    from churnkit.validate import load_dataset

    bundle = load_bundle(trained_bundle)
    features = build_features(load_dataset(sim_dir), [parse_month(MONTH)])
    rng = np.random.default_rng(3)
    shuffled = features[list(rng.permutation(features.columns))].assign(unrelated=1.0)
    assert list(shuffled.columns) != list(features.columns)
    X, Xs = lgbm.matrix(features, bundle.features, bundle.levels), lgbm.matrix(shuffled, bundle.features, bundle.levels)
    assert list(Xs.columns) == bundle.features
    pd.testing.assert_frame_equal(X, Xs)
    prob, impacts, base = predict(bundle, features)
    prob_s, impacts_s, base_s = predict(bundle, shuffled)
    assert np.array_equal(prob, prob_s) and base == base_s
    pd.testing.assert_frame_equal(impacts, impacts_s)


# -------------------------------------------------------------------------------- 8. encodings


def _to_csv_copy(sim_dir: Path, dst: Path) -> Path:
    """Every parquet table of sim_dir as a GB18030 CSV (same layout: files and monthly folders)."""
    for path in sim_dir.rglob("*.parquet"):
        rel = path.relative_to(sim_dir)
        if rel.parts[0] == "_truth":
            continue
        target = (dst / rel).with_suffix(".csv")
        target.parent.mkdir(parents=True, exist_ok=True)
        pd.read_parquet(path).to_csv(target, index=False, encoding="gb18030")
    return dst


def _transcode(src: Path, dst: Path) -> Path:
    """The same CSV files in UTF-8; groups and half the billing months with a BOM."""
    for path in src.rglob("*.csv"):
        rel = path.relative_to(src)
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        bom = rel.name == "groups.csv" or (rel.parts[0] == "billing" and int(rel.stem[-2:]) % 2 == 0)
        target.write_bytes(path.read_bytes().decode("gb18030").encode("utf-8-sig" if bom else "utf-8"))
    return dst


def test_gb18030_and_utf8_bom_copies(sim_dir, trained_bundle, baseline, tmp_path):
    gb = _to_csv_copy(sim_dir, tmp_path / "gb")
    u8 = _transcode(gb, tmp_path / "u8")
    assert (u8 / "groups.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert not (gb / "groups.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    # without --encoding: one clear line naming the file and the option
    fails(cli("validate", gb), 4, f"{gb / 'groups.csv'}", "--encoding gb18030")
    fails(score_cli(gb, tmp_path / "out_fail" / "scored.csv", trained_bundle), 4, "groups.csv", "--encoding gb18030")
    assert state(tmp_path / "out_fail") == {}
    # with it, the same scores as the UTF-8 (BOM) copy and as the parquet original
    ok(score_cli(gb, tmp_path / "out_gb" / "scored.csv", trained_bundle, "--encoding", "gb18030"))
    ok(score_cli(u8, tmp_path / "out_u8" / "scored.csv", trained_bundle))
    assert state(tmp_path / "out_gb") == state(tmp_path / "out_u8") == state(baseline)
    groups = pd.read_parquet(sim_dir / "groups.parquet")
    scored = pd.read_csv(tmp_path / "out_u8" / "scored.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
    names = groups.set_index("group_id")["group_name"]
    assert (scored["group_name"] == scored["group_id"].map(names)).all()  # Chinese names intact, first column found


def test_utf8_copy_read_as_gb18030_is_refused(sim_dir, tmp_path):
    gb = _to_csv_copy(sim_dir, tmp_path / "gb")
    (gb / "groups.csv").write_bytes((gb / "groups.csv").read_bytes().decode("gb18030").encode("utf-8-sig"))
    fails(cli("validate", gb, "--encoding", "gb18030"), 4, "groups.csv", "not valid gb18030", "--encoding")


# ------------------------------------------------------------------ 9. truncated / corrupt parquet


def _damage(data: bytes, how: str) -> bytes:
    half = len(data) // 2
    return {
        "truncated": data[:half],
        "tail_cut": data[:-10],
        "garbage": bytes(range(256)) * 20,
        "corrupt_pages": data[:half] + bytes(b ^ 0xFF for b in data[half:half + 200]) + data[half + 200:],
    }[how]


@pytest.mark.parametrize("how", ["truncated", "tail_cut", "garbage", "corrupt_pages"])
def test_damaged_parquet_is_named(how, sim_dir, tmp_path):
    data = copy_data(sim_dir, tmp_path / "data")
    path = data / "billing" / f"{MONTH}.parquet"
    path.write_bytes(_damage(path.read_bytes(), how))
    fails(cli("validate", data), 4, str(path), "not a readable parquet file", "export it again")


def test_damaged_parquet_stops_score_without_output(sim_dir, trained_bundle, baseline, tmp_path):
    data = copy_data(sim_dir, tmp_path / "data")
    path = data / "usage" / "2026-07.parquet"
    path.write_bytes(_damage(path.read_bytes(), "truncated"))
    out = Path(shutil.copytree(baseline, tmp_path / "out"))
    fails(score_cli(data, out / "scored.csv", trained_bundle), 4, str(path))
    assert state(out) == state(baseline)


# ---------------------------------------------------------------- 10. empty and header-only files


@pytest.mark.parametrize("name,content,code,needle", [
    ("groups.csv", b"", 4, "file is empty (0 bytes)"),
    ("groups.parquet", b"", 4, "file is empty (0 bytes)"),
    (f"billing/{MONTH}.parquet", b"", 4, "file is empty (0 bytes)"),
    ("groups.csv", b"\xef\xbb\xbf", 4, "file has no header line"),
    ("groups.csv", b"\n\n", 4, "file has no header line"),
    ("groups.csv", "\ufeffgroup_id,group_name,value_tier\n".encode(), 3, "groups.*: 0 row(s) present, but the table has no rows"),
    ("groups.parquet", None, 3, "groups.*: 0 row(s) present, but the table has no rows"),
])
def test_empty_and_header_only_files(name, content, code, needle, sim_dir, tmp_path):
    data = copy_data(sim_dir, tmp_path / "data")
    if name.startswith("groups"):
        (data / "groups.parquet").unlink()
    target = data / name
    if content is None:
        pd.read_parquet(sim_dir / "groups.parquet").head(0).to_parquet(target, index=False)
    else:
        target.write_bytes(content)
    fails(cli("validate", data), code, needle, name)


# ---------------------------------------------------------------------------- 11. disk full


def _no_temp(folder: Path) -> None:
    leftovers = [p.name for p in Path(folder).rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")]
    assert leftovers == []


def test_disk_full_while_writing_the_scored_csv(sim_dir, trained_bundle, baseline, tmp_path, monkeypatch):
    out = Path(shutil.copytree(baseline, tmp_path / "out"))
    def full(frame, path):
        frame.head(len(frame) // 2).to_csv(path, index=False)  # part of the rows reach the disk
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output, "_csv", full)
    fails(score_cli(sim_dir, out / "scored.csv", trained_bundle), 4, str(out / "scored.csv"), "No space left on device")
    assert state(out) == state(baseline)
    _no_temp(out)


@pytest.mark.parametrize("failing", ["scored.csv", "scored.parquet", "scored.excluded.csv"])
def test_disk_full_at_flush_keeps_every_previous_file(failing, baseline, tmp_path, monkeypatch):
    """ENOSPC when a file is flushed (fsync): none of the three files may be replaced."""
    import churnkit.io

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to tell which file is flushed")
    out = Path(shutil.copytree(baseline, tmp_path / "out"))
    scored = pd.read_parquet(baseline / "scored.parquet").assign(spend=1.0)
    excluded = pd.read_csv(baseline / "scored.excluded.csv", dtype=str, encoding="utf-8-sig").assign(detail="new")
    real = os.fsync

    def fsync(fd):
        if Path(os.readlink(f"/proc/self/fd/{fd}")).name.startswith(f".{failing}."):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    monkeypatch.setattr(churnkit.io.os, "fsync", fsync)
    with pytest.raises(StorageError) as info:
        write_scored(scored, excluded, out / "scored.csv")
    assert str(out / failing) in str(info.value) and "\n" not in str(info.value)
    assert state(out) == state(baseline)
    _no_temp(out)


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A tmpfs of about 1.2 MB: holds last month's files (0.9 MB) but not a second copy. Needs root."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(mount)], check=True,
                       capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False, capture_output=True, timeout=20)


def test_disk_full_on_a_real_tiny_filesystem(sim_dir, trained_bundle, baseline, tiny_tmpfs):
    out = tiny_tmpfs / "out"
    out.mkdir()
    for name in FILES:
        shutil.copyfile(baseline / name, out / name)
    free = shutil.disk_usage(tiny_tmpfs).free
    assert free < len((baseline / "scored.csv").read_bytes()), "the tmpfs is too large to fill"
    fails(score_cli(sim_dir, out / "scored.csv", trained_bundle), 4, str(out), "No space left on device")
    assert state(out) == state(baseline)
    _no_temp(out)


# ------------------------------------------------------------------------ 12. crash mid-write


def test_crash_mid_write_leaves_nothing_at_the_final_path(sim_dir, trained_bundle, tmp_path, monkeypatch):
    out = tmp_path / "out"
    calls = []

    def crash(frame, path):
        calls.append(path)
        frame.head(len(frame) // 2).to_csv(path, index=False)
        raise RuntimeError("killed after half of the rows")

    monkeypatch.setattr(output, "_csv", crash)
    result = score_cli(sim_dir, out / "scored.csv", trained_bundle)
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)
    assert calls and state(out) == {}


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
@pytest.mark.parametrize("at", ["scored.parquet", "scored.excluded.csv"])
def test_crash_on_a_later_file_keeps_the_earlier_ones_out(exc, at, baseline, tmp_path, monkeypatch):
    """The scored CSV and its twin are already written to temporary files when the crash comes."""
    scored = pd.read_parquet(baseline / "scored.parquet")
    excluded = pd.read_csv(baseline / "scored.excluded.csv", dtype=str, encoding="utf-8-sig")
    real_csv, real_parquet = output._csv, output._parquet

    def crashing(real):
        def write(frame, path):
            if Path(path).name.startswith(f".{at}."):
                real(frame.head(len(frame) // 2), path)
                raise exc("crash")
            real(frame, path)
        return write

    monkeypatch.setattr(output, "_csv", crashing(real_csv))
    monkeypatch.setattr(output, "_parquet", crashing(real_parquet))
    fresh = tmp_path / "fresh"
    with pytest.raises(exc):
        write_scored(scored, excluded, fresh / "scored.csv")
    assert state(fresh) == {}
    previous = Path(shutil.copytree(baseline, tmp_path / "previous"))
    with pytest.raises(exc):
        write_scored(scored.assign(spend=0.0), excluded, previous / "scored.csv")
    assert state(previous) == state(baseline)


# ---------------------------------------------------------------------------- 13. rerun


def test_same_month_twice_is_byte_identical(sim_dir, trained_bundle, baseline, tmp_path):
    out = Path(shutil.copytree(baseline, tmp_path / "out"))
    ok(score_cli(sim_dir, out / "scored.csv", trained_bundle))  # over the previous run's files
    assert state(out) == state(baseline)
    assert sorted(state(out)) == sorted(FILES)


# ---------------------------------------------------------------- 14. formula injection


def test_formula_payloads_are_escaped_in_the_csv(messy, messy_scored):
    cells = read_csv_cells(messy_scored / "scored.csv")
    assert list(cells[0])[: len(SCORED_COLUMNS)] == SCORED_COLUMNS
    twin = pd.read_parquet(messy_scored / "scored.parquet").set_index("group_id")
    by_id = {row["group_id"]: row for row in cells}
    for i, gid in enumerate(messy["payload_groups"]):
        row = by_id[gid]
        assert row["group_name"] == "'" + PAYLOADS[i]
        assert row["account_manager"] == "'" + PAYLOADS[(i + 3) % len(PAYLOADS)]
        assert row["value_tier"] == "'" + PAYLOADS[(i + 5) % len(PAYLOADS)]
        assert twin.loc[gid, "group_name"] == PAYLOADS[i]  # the machine twin keeps the raw text
    scripted = [row for row in cells if row["script_id"]]
    assert scripted and all(row["script_id"].startswith("'+RS-") for row in scripted)
    assert all(row["script_title"].startswith("'@SUM(A1) ") for row in scripted)
    numeric = [c for c in twin.columns if pd.api.types.is_numeric_dtype(twin[c])]
    negatives = 0
    for row in cells:
        for column, cell in row.items():
            if cell.startswith(FORMULA_START):
                # only numbers may start like a formula, and they are written as plain numbers
                assert column in numeric, (column, cell)
                float(cell)
                negatives += cell.startswith("-")
    assert negatives > 0  # impact_<family> columns hold negative numbers, untouched
    impacts = [c for c in twin.columns if c.startswith("impact_")]
    first = twin.loc[cells[0]["group_id"]]
    assert [float(cells[0][c]) for c in impacts] == [float(first[c]) for c in impacts]
    excluded = {row["group_id"]: row for row in read_csv_cells(messy_scored / "scored.excluded.csv")}
    assert excluded[NO_LINES_ID]["group_name"] == "'" + PAYLOADS[0]
    assert excluded[messy["gone"]]["group_name"] == "'" + GONE_ID_NAME


def test_write_scored_escapes_text_never_numbers(tmp_path):
    frame = pd.DataFrame({
        "month": ["2026-08"] * 3,
        "group_id": ["510100000000000001", "-12", "+8613800000000"],
        "group_name": ["=HYPERLINK(\"http://x\",\"y\")", "\tname", "\rname"],
        "account_manager": ["@SUM(A1)", "-2+3", "张三"],
        "member_change_1m": [-0.25, 0.5, -1.0],
        "reason_1_impact": [-0.0123, 0.12, np.nan],
        "active_lines": pd.array([-3, 4, 5], dtype="Int64"),
        "numbers_as_objects": pd.Series([-1.5, None, 2.0], dtype=object),
    })
    excluded = pd.DataFrame({"month": ["2026-08"], "group_id": ["2"], "group_name": ["+1"], "reason": ["no_active_lines"],
                             "detail": ["-"]})
    write_scored(frame, excluded, tmp_path / "s.csv")
    cells = read_csv_cells(tmp_path / "s.csv")
    assert [r["group_id"] for r in cells] == ["510100000000000001", "'-12", "'+8613800000000"]
    assert [r["group_name"] for r in cells] == ["'=HYPERLINK(\"http://x\",\"y\")", "'\tname", "'\rname"]
    assert [r["account_manager"] for r in cells] == ["'@SUM(A1)", "'-2+3", "张三"]
    assert [r["member_change_1m"] for r in cells] == ["-0.25", "0.5", "-1.0"]
    assert [r["reason_1_impact"] for r in cells] == ["-0.0123", "0.12", ""]
    assert [r["active_lines"] for r in cells] == ["-3", "4", "5"]
    assert [r["numbers_as_objects"] for r in cells] == ["-1.5", "", "2.0"]
    ex = read_csv_cells(tmp_path / "s.excluded.csv")[0]
    assert ex["group_name"] == "'+1" and ex["detail"] == "'-"


# ------------------------------------------------------------------------ 15. 18-digit ids


def test_long_ids_survive_the_csv(messy, messy_scored):
    scored = pd.read_csv(messy_scored / "scored.csv", dtype={"group_id": str}, encoding="utf-8-sig")
    excluded = pd.read_csv(messy_scored / "scored.excluded.csv", dtype={"group_id": str}, encoding="utf-8-sig")
    groups = pd.read_parquet(messy["data"] / "groups.parquet")
    assert set(scored["group_id"]) | set(excluded["group_id"]) == set(groups["group_id"])
    assert ZERO_ID in set(scored["group_id"]) and messy["zero_src"] not in set(scored["group_id"])
    assert (scored["group_id"].str.fullmatch(r"\d{18}")).all()
    cells = read_csv_cells(messy_scored / "scored.csv")
    assert all(re.fullmatch(r"\d{18}", row["group_id"]) for row in cells)  # written as text, never 5.1E+17
    assert ZERO_ID in {row["group_id"] for row in cells}
    twin = pd.read_parquet(messy_scored / "scored.parquet")
    assert not pd.api.types.is_numeric_dtype(twin["group_id"]) and ZERO_ID in set(twin["group_id"])


# ---------------------------------------------------------------------- 16. future rows


def test_future_rows_do_not_change_month_m(sim_dir, trained_bundle, baseline, tmp_path):
    data = copy_data(sim_dir, tmp_path / "data")
    billing_m = pd.read_parquet(data / "billing" / f"{MONTH}.parquet")
    usage_m = pd.read_parquet(data / "usage" / f"{MONTH}.parquet")
    steady = steady_groups(sim_dir)
    leaving = steady[:3]  # churn in 2026-10: no billing rows from then on
    for month in ("2026-09", "2026-10"):
        b = billing_m.assign(month=month, charge=0.0, arrears=999.0)
        u = usage_m.assign(month=month, call_count=0, call_minutes=0.0, forwarded_calls=50, forwarded_offnet_calls=40,
                           competitor_hotline_calls=9)
        joiner = b.iloc[[0]].assign(member_id="19999999999")
        b = pd.concat([b, joiner])
        if month == "2026-10":
            b, u = b[~b["group_id"].isin(leaving)], u[~u["group_id"].isin(leaving)]
        b.to_parquet(data / "billing" / f"{month}.parquet", index=False)
        u.to_parquet(data / "usage" / f"{month}.parquet", index=False)
    churn = pd.read_parquet(data / "churn.parquet")
    pd.concat([churn, pd.DataFrame({"group_id": leaving, "churn_month": "2026-10"})]).to_parquet(data / "churn.parquet", index=False)
    late = dt.date(2026, 9, 15)
    addons = pd.read_parquet(data / "addons.parquet")
    new_addons = pd.DataFrame({"group_id": steady, "member_id": "13000000000", "product": "集团彩铃", "action": "cancel",
                               "date": late})
    pd.concat([addons, new_addons]).to_parquet(data / "addons.parquet", index=False)
    complaints = pd.read_parquet(data / "complaints.parquet")
    pd.concat([complaints, pd.DataFrame({"group_id": steady, "member_id": None, "date": dt.date(2026, 10, 2),
                                         "category": "sp"})]).to_parquet(data / "complaints.parquet", index=False)
    intel = pd.read_parquet(data / "intel.parquet")
    pd.concat([intel, pd.DataFrame({"group_id": steady, "date": late, "kind": "exit_intent",
                                    "note": "联络人说下月整体转网"})]).to_parquet(data / "intel.parquet", index=False)
    contracts = pd.read_parquet(data / "contracts.parquet")
    pd.concat([contracts, pd.DataFrame({"group_id": steady, "start": dt.date(2026, 9, 1),
                                        "end": dt.date(2026, 10, 31)})]).to_parquet(data / "contracts.parquet", index=False)
    out = tmp_path / "out"
    ok(score_cli(data, out / "scored.csv", trained_bundle))
    assert state(out) == state(baseline)


# --------------------------------------------------------------------------- 17. model bundle


def _bundle_copy(trained_bundle, tmp_path) -> Path:
    return Path(shutil.copytree(trained_bundle, tmp_path / "models" / "latest"))


class Evil:
    """A pickle that creates a marker folder when unpickled."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


@pytest.fixture
def no_deserialising(monkeypatch):
    """Fail loudly if LightGBM parses a model or anything unpickles."""
    def forbidden(*args, **kwargs):
        raise AssertionError("deserialised before the check")

    monkeypatch.setattr(bundle_mod.lgb, "Booster", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)


def test_tampered_model_file_is_refused(sim_dir, trained_bundle, tmp_path, no_deserialising):
    model = _bundle_copy(trained_bundle, tmp_path)
    text = (model / MODEL_FILE).read_text(encoding="utf-8")
    (model / MODEL_FILE).write_text(text.replace("leaf_value=", "leaf_value=9", 1), encoding="utf-8")
    fails(score_cli(sim_dir, tmp_path / "out" / "scored.csv", model), 5, str(model / MODEL_FILE),
          "SHA-256 does not match the manifest")
    assert state(tmp_path / "out") == {}


def test_pickle_in_place_of_the_model_is_refused(sim_dir, trained_bundle, tmp_path, no_deserialising):
    model = _bundle_copy(trained_bundle, tmp_path)
    marker = tmp_path / "pwned"
    (model / MODEL_FILE).write_bytes(pickle.dumps(Evil(marker)))
    fails(score_cli(sim_dir, tmp_path / "out" / "scored.csv", model), 5, "SHA-256 does not match")
    assert not marker.exists() and state(tmp_path / "out") == {}


def test_pickle_with_a_forged_hash_is_still_never_unpickled(sim_dir, trained_bundle, tmp_path, monkeypatch):
    model = _bundle_copy(trained_bundle, tmp_path)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Evil(marker))
    (model / MODEL_FILE).write_bytes(payload)
    manifest = json.loads((model / MANIFEST).read_text(encoding="utf-8"))
    manifest["model_sha256"] = hashlib.sha256(payload).hexdigest()
    (model / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    fails(score_cli(sim_dir, tmp_path / "out" / "scored.csv", model), 5, str(model / MODEL_FILE), "not a LightGBM text model")
    assert not marker.exists() and state(tmp_path / "out") == {}


def test_pickle_beside_a_missing_model_is_ignored(sim_dir, trained_bundle, tmp_path, no_deserialising):
    model = _bundle_copy(trained_bundle, tmp_path)
    (model / MODEL_FILE).unlink()
    (model / "model.pkl").write_bytes(pickle.dumps(Evil(tmp_path / "pwned")))
    fails(score_cli(sim_dir, tmp_path / "out" / "scored.csv", model), 5, f"{MODEL_FILE} is missing", "retrain")
    assert not (tmp_path / "pwned").exists()


def test_missing_bundle(sim_dir, tmp_path):
    fails(score_cli(sim_dir, tmp_path / "out" / "scored.csv", tmp_path / "models" / "none"), 5, "no model bundle here",
          "churnkit train")


def test_manifest_features_out_of_step_with_the_model(sim_dir, trained_bundle, tmp_path):
    """The manifest lists a feature the (intact, hash-checked) text model does not have."""
    model = _bundle_copy(trained_bundle, tmp_path)
    manifest = json.loads((model / MANIFEST).read_text(encoding="utf-8"))
    manifest["features"].append({"name": "roaming_share", "family": "profile"})
    (model / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    fails(score_cli(sim_dir, tmp_path / "out" / "scored.csv", model), 5, str(model), "roaming_share", "inconsistent")
    assert state(tmp_path / "out") == {}


def test_manifest_listing_features_the_data_lacks(sim_dir, trained_bundle, tmp_path):
    """A consistent bundle (hash, manifest and model agree) whose model needs a feature churnkit does not build."""
    model = _bundle_copy(trained_bundle, tmp_path)
    lines = (model / MODEL_FILE).read_text(encoding="utf-8").split("\n")
    i = next(k for k, line in enumerate(lines) if line.startswith("feature_names="))
    names = lines[i][len("feature_names="):].split(" ")
    names[names.index("spend_change_3m")] = "spend_change_3m_v2"
    lines[i] = "feature_names=" + " ".join(names)
    text = "\n".join(lines).encode("utf-8")
    (model / MODEL_FILE).write_bytes(text)
    manifest = json.loads((model / MANIFEST).read_text(encoding="utf-8"))
    for feature in manifest["features"]:
        if feature["name"] == "spend_change_3m":
            feature["name"] = "spend_change_3m_v2"
    manifest["model_sha256"] = hashlib.sha256(text).hexdigest()
    (model / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    out = tmp_path / "out"
    fails(score_cli(sim_dir, out / "scored.csv", model), 5, "lacks feature(s) the model needs: spend_change_3m_v2", "retrain")
    assert state(out) == {}


# ----------------------------------------------------------------- 18. interrupted training


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_interrupted_training_keeps_the_previous_bundle(sim_dir, trained_bundle, baseline, tmp_path, monkeypatch):
    model = _bundle_copy(trained_bundle, tmp_path)
    before = state(model)
    real = os.replace
    calls = []

    def replace(src, dst, *args, **kwargs):
        if Path(src).parent == model.parent:
            calls.append((Path(src).name, Path(dst).name))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(bundle_mod.os, "replace", replace)
    fails(cli("train", "--data", sim_dir, "--out", model, "--no-track"), 4, str(model), "previous bundle is unchanged")
    monkeypatch.setattr(bundle_mod.os, "replace", real)
    assert calls, "the failure was not injected at the bundle swap"
    assert state(model) == before
    assert _listing(model.parent) == ["latest"]  # no temporary or aside folder left
    out = tmp_path / "out"
    ok(score_cli(sim_dir, out / "scored.csv", model))
    assert state(out) == state(baseline)


def _failing_replace(monkeypatch, fail_calls: set[int], exc=OSError):
    real = os.replace
    count = [0]

    def replace(src, dst, *args, **kwargs):
        count[0] += 1
        if count[0] in fail_calls:
            raise exc(errno.EIO, "simulated") if exc is OSError else exc()
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(bundle_mod.os, "replace", replace)
    return count


@pytest.mark.parametrize("fail_calls,exc", [
    ({1}, OSError),  # moving the old bundle aside fails
    ({2}, OSError),  # moving the new bundle in fails, the old one is put back
    ({2}, KeyboardInterrupt),  # interrupted between the two renames
    ({2, 3}, OSError),  # ... and putting the old one back fails too (as if killed there)
])
def test_failed_bundle_swap_leaves_a_usable_bundle(fail_calls, exc, trained_bundle, tmp_path, monkeypatch):
    model = _bundle_copy(trained_bundle, tmp_path)
    before = state(model)
    booster = load_bundle(model).booster
    manifest = {k: v for k, v in json.loads((model / MANIFEST).read_text(encoding="utf-8")).items()
                if k not in ("format", "churnkit_version", "model_file", "model_sha256")}
    _failing_replace(monkeypatch, fail_calls, exc)
    with pytest.raises(StorageError if exc is OSError else exc):
        save_bundle(booster, {**manifest, "horizon": 99}, model)
    monkeypatch.undo()
    loaded = load_bundle(model)  # usable, and it is the previous one
    assert loaded.horizon == 3
    assert state(model) == before
    assert _listing(model.parent) == ["latest"]


def test_failure_before_the_swap_leaves_nothing(trained_bundle, tmp_path, monkeypatch):
    model = _bundle_copy(trained_bundle, tmp_path)
    before = state(model)
    booster = load_bundle(model).booster
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bundle_mod, "json", SimpleNamespace(dumps=full))
    with pytest.raises(StorageError, match="previous bundle is unchanged"):
        save_bundle(booster, {"features": []}, model)
    assert state(model) == before and _listing(model.parent) == ["latest"]
