"""Checks remembered (churnkit.checked): unchanged files that passed are not checked again; any
change to a file, a wider window, or `churnkit validate` checks every row again."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from typer.testing import CliRunner

import churnkit.validate as validate_module
from churnkit.checked import CheckRecord, fingerprint
from churnkit.cli import app
from churnkit.engine import EngineSettings
from churnkit.months import parse_month
from churnkit.validate import ValidationFailed, load_dataset

from conftest import tiny_tables, write_tables


def _settings(tmp_path) -> EngineSettings:
    return EngineSettings(cache_dir=tmp_path / "cache")


@pytest.fixture
def row_checks(monkeypatch):
    """How many times the row checks ran (the line-key aggregate runs once per full check)."""
    calls = []
    real = validate_module.line_key_counts

    def counted(db, tables, *args, **kwargs):
        calls.append(tuple(tables))
        return real(db, tables, *args, **kwargs)

    monkeypatch.setattr(validate_module, "line_key_counts", counted)
    return calls


def _corrupt_charge(root, value=-5.0):
    """Rewrite billing with one negative charge, keeping the file's modification time."""
    path = root / "billing.parquet"
    st = path.stat()
    frame = pd.read_parquet(path)
    frame.loc[0, "charge"] = value
    frame.to_parquet(path, index=False)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_unchanged_files_are_checked_once(tiny_dir, tmp_path, row_checks):
    settings = _settings(tmp_path)
    first = load_dataset(tiny_dir, engine=settings)
    second = load_dataset(tiny_dir, engine=settings)
    assert len(row_checks) == 1
    # the trusted load gives the same tables
    pd.testing.assert_frame_equal(first["groups"], second["groups"])
    assert second.months == first.months == ["2026-01", "2026-02", "2026-03"]


def test_a_changed_file_is_checked_again_even_with_its_old_mtime(tiny_dir, tmp_path, row_checks):
    settings = _settings(tmp_path)
    load_dataset(tiny_dir, engine=settings)
    _corrupt_charge(tiny_dir)
    with pytest.raises(ValidationFailed, match="charge"):
        load_dataset(tiny_dir, engine=settings)
    assert len(row_checks) == 2


def test_a_changed_csv_of_the_same_size_and_mtime_is_checked_again(tmp_path, row_checks):
    tables = tiny_tables()
    root = write_tables(tmp_path / "csv", tables, fmt="csv")
    settings = _settings(tmp_path)
    load_dataset(root, engine=settings)
    path = root / "billing.csv"
    st = path.stat()
    text = path.read_text(encoding="utf-8")
    assert "100.0" in text
    path.write_text(text.replace("100.0", "-10.0", 1), encoding="utf-8")  # same length
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size
    with pytest.raises(ValidationFailed, match="charge"):
        load_dataset(root, engine=settings)


def test_a_window_does_not_vouch_for_months_outside_it(tiny_dir, tmp_path, row_checks):
    """A bad row in January: a load of February..March passes and is remembered; a load of
    everything must still find January's row, and a narrower window is trusted."""
    tables = tiny_tables()
    tables["billing"].loc[0, "charge"] = -5.0  # 2026-01
    root = write_tables(tmp_path / "bad-january", tables)
    settings = _settings(tmp_path)
    window = (parse_month("2026-02"), parse_month("2026-03"))
    load_dataset(root, engine=settings, window=window)
    load_dataset(root, engine=settings, window=(parse_month("2026-03"), parse_month("2026-03")))
    assert len(row_checks) == 1
    with pytest.raises(ValidationFailed, match="charge"):
        load_dataset(root, engine=settings)


def test_added_or_removed_files_change_the_fingerprint(tiny_dir):
    files = {"groups": [tiny_dir / "groups.parquet"], "billing": [tiny_dir / "billing.parquet"]}
    before = fingerprint(files, None)
    assert fingerprint(files, None) == before
    assert fingerprint({"groups": files["groups"]}, None) != before
    assert fingerprint(files, "gb18030") != before


def test_validate_always_checks_every_row(tiny_dir, tmp_path, monkeypatch, row_checks):
    monkeypatch.setenv("CHURNKIT_CACHE_DIR", str(tmp_path / "cache"))
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, ["validate", str(tiny_dir)])
        assert result.exit_code == 0, result.output
    assert len(row_checks) == 2
    # ... and its pass is what later commands trust
    load_dataset(tiny_dir, engine=EngineSettings.from_env())
    assert len(row_checks) == 2


def test_off_keeps_no_record(tiny_dir, tmp_path, monkeypatch, row_checks):
    monkeypatch.setenv("CHURNKIT_CACHE_DIR", "off")
    settings = EngineSettings.from_env()
    assert settings.cache_dir is None
    load_dataset(tiny_dir, engine=settings)
    load_dataset(tiny_dir, engine=settings)
    assert len(row_checks) == 2


def test_an_unwritable_cache_is_no_error(tiny_dir, tmp_path, row_checks):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    settings = EngineSettings(cache_dir=blocker)
    load_dataset(tiny_dir, engine=settings)
    load_dataset(tiny_dir, engine=settings)
    assert len(row_checks) == 2
    assert CheckRecord(blocker, tiny_dir).covers("anything", None) is False


@pytest.mark.parametrize("month_form", ["YYYY-MM", "first-day dates", "padded"])
def test_a_trusted_load_gives_the_same_signals(tmp_path, month_form):
    """A trusted load types months the cheap way; every form the contract accepts gives the same
    months and the same signals as a checked load."""
    from churnkit.signals.build import signals_of

    tables = tiny_tables()
    for name in ("billing", "usage"):
        if month_form == "first-day dates":
            tables[name]["month"] = tables[name]["month"] + "-01"
        elif month_form == "padded":
            tables[name]["month"] = " " + tables[name]["month"] + " "
    root = write_tables(tmp_path / "data", tables, fmt="csv")
    months = [parse_month("2026-02"), parse_month("2026-03")]
    checked = load_dataset(root, engine=_settings(tmp_path))
    trusted = load_dataset(root, engine=_settings(tmp_path))
    assert trusted.months == checked.months == ["2026-01", "2026-02", "2026-03"]
    pd.testing.assert_frame_equal(signals_of(trusted, months), signals_of(checked, months))
    assert len(signals_of(trusted, months)) == 2
