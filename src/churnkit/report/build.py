"""``churnkit report``: the month's figures, as a self-contained HTML page and a JSON twin.

:func:`report` is what the command runs. It loads and checks the model bundle first, builds the
signals once for the backtest months and the report month (point in time: each month reads
nothing after itself), takes this month's risk from the scored file when one is given (or scores
in memory), and writes ``FILE.html`` and ``FILE.json`` together, all or nothing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from churnkit import __version__
from churnkit.drift import drift_table
from churnkit.errors import UsageError
from churnkit.families import LANGS
from churnkit.features import check_month, features_in_parts
from churnkit.io import write_all
from churnkit.model.bundle import Bundle, load_bundle
from churnkit.months import format_month
from churnkit.playbook import load_playbook
from churnkit.report import backtest as bt
from churnkit.report import html
from churnkit.report.rates import churn_rates, churn_rates_by, rate_cells, rate_months, totals
from churnkit.report.retention import retention_figures
from churnkit.report.risk import MANAGER_ROWS, read_scored, risk_summary
from churnkit.score import score_month
from churnkit.signals.frame import LOOKBACK_MONTHS
from churnkit.signals.registry import Settings
from churnkit.validate import Dataset

RATE_MONTHS = 12
BACKTEST_MONTHS = 12
BACKTEST_CHUNK = 1  # backtest months whose signals are built (and held) at once


@dataclass
class ReportResult:
    html: Path
    json: Path
    figures: dict


def data_window(month: int, horizon: int) -> tuple[int, int]:
    """The billing and usage months a report for ``month`` reads: the 12 churn-rate months and the
    month before them, and the backtest months with their signal history."""
    first_backtest = month - horizon - BACKTEST_MONTHS + 1
    return min(month - RATE_MONTHS, first_backtest - LOOKBACK_MONTHS), month


def _span(months: list[str]) -> str:
    return f"{months[0]}..{months[-1]}" if months else "–"


def _plain(value):
    """JSON-ready: numpy scalars to Python, NaN to null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return _plain(frame.astype(object).where(frame.notna(), None).to_dict("records"))


def _dimension_totals(by: dict[str, pd.DataFrame], month: str) -> dict[str, list[dict]]:
    """For the page: per dimension value, the 12 months together and this month's rates."""
    out = {}
    for dim, table in by.items():
        key = table[dim].map(lambda v: "\x00" if v is None else v)
        summed = totals(table.assign(**{dim: key}), dim)
        now = table[table["month"] == month].assign(**{dim: key[table["month"] == month]}).set_index(dim)
        summed["absolute_now"] = summed[dim].map(now["absolute_churn_rate"])
        summed["relative_now"] = summed[dim].map(now["relative_churn_rate"])
        summed[dim] = summed[dim].map(lambda v: None if v == "\x00" else v)
        out[dim] = _records(summed.sort_values(["absolute_churn_rate", "groups_at_start"], ascending=[False, False],
                                               na_position="last", kind="stable"))
    return out


def figures(dataset: Dataset, month: int, bundle: Bundle, scored: Path | None = None, lang: str = "zh",
            engine: str = "duckdb", progress=None) -> dict:
    """Every figure of the report (the JSON twin; the page is drawn from it)."""
    step = progress or (lambda message: None)
    label = format_month(month)
    check_month(dataset, month)
    months = bt.backtest_months(dataset, month, bundle.horizon, BACKTEST_MONTHS)
    step("building the signals")
    settings = Settings(**bundle.manifest.get("signal_settings", {}))
    # the report month, then the backtest months BACKTEST_CHUNK at a time (memory holds one part's
    # group-level signals, not twelve months'), all over one pass of monthly aggregates of the line tables
    chunks = [months[i:i + BACKTEST_CHUNK] for i in range(0, len(months), BACKTEST_CHUNK)]
    built = features_in_parts(dataset, [[month], *chunks], settings, engine=engine)
    now = next(built)
    if scored is not None:
        step("reading the scored file")
        table, excluded = read_scored(scored, label)
    else:
        step("scoring the month")
        result = score_month(dataset, month, bundle, lang, load_playbook(None), engine=engine, features=now.reset_index(drop=True))
        table, excluded = result.scored, result.excluded
        del result
    # the month's risk and drift first, so that the scored table and the month's signals are
    # let go before the backtest builds its months
    risk = risk_summary(table, excluded)
    risk["manager_rows"] = MANAGER_ROWS
    del table, excluded
    reference = bundle.manifest.get("drift_reference")
    drift = drift_table(reference, now) if reference else pd.DataFrame(columns=["signal", "psi", "null_share_train", "null_share_now"])
    empty = now.iloc[0:0]
    del now
    step("computing churn rates")
    cells = rate_cells(dataset, rate_months(dataset, month, RATE_MONTHS))
    rates = churn_rates(dataset, month, RATE_MONTHS, cells=cells)
    by = churn_rates_by(dataset, month, RATE_MONTHS, cells=cells)
    step("backtesting earlier months")
    scored_back = [bt.backtest_frame(dataset, bundle, frame, part, month) for part, frame in zip(chunks, built)]
    built.close()
    back, calibration = bt.backtest(pd.concat(scored_back, ignore_index=True) if scored_back else
                                    bt.backtest_frame(dataset, bundle, empty, [], month), bundle)
    manifest_months = bundle.manifest.get("months", {})
    return _plain({
        "month": label,
        "churnkit_version": __version__,
        "data": str(dataset.data_dir),
        "lang": lang,
        "model": {"path": str(bundle.path), "horizon": bundle.horizon, "train_months": _span(manifest_months.get("train", [])),
                  "months": manifest_months, "test_metrics": bundle.manifest.get("metrics", {}).get("model", {})},
        "churn_rates": _records(rates),
        "churn_rates_by": {dim: _records(t) for dim, t in by.items()},
        "churn_rates_totals": _dimension_totals(by, label),
        "risk": risk,
        "backtest": _records(back),
        "backtest_calibration": {"months": calibration.attrs.get("pooled", []), "out_of_sample": calibration.attrs.get("out_of_sample", False),
                                 "deciles": _records(calibration)},
        "drift": _records(drift[["signal", "psi", "null_share_train", "null_share_now"]]),
        "drift_reference_months": _span(reference["months"]) if reference else None,
        "retention": retention_figures(dataset.data_dir, month, bundle.horizon, uplift=bundle.manifest.get("uplift")),
        "drift_note": None if reference else "the model bundle holds no drift reference (trained before churnkit 0.2); retrain to get drift",
    })


def check_options(out: Path, lang: str) -> None:
    """Refuse a language or an output name the report cannot write (before any heavy work)."""
    if lang not in LANGS:
        raise UsageError(f"--lang must be one of {', '.join(LANGS)}, not {lang!r}")
    if Path(out).suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--out {out}: the report is an .html file (its .json twin is written beside it)")


def report(dataset: Dataset, month: int, model: Path | Bundle, out: Path, scored: Path | None = None, lang: str = "zh",
           engine: str = "duckdb", progress=None) -> ReportResult:
    """Write ``out`` (.html) and its JSON twin beside it for ``month``; ``model`` is a bundle folder
    or an already loaded :class:`Bundle`."""
    check_options(out, lang)
    out = Path(out)
    bundle = model if isinstance(model, Bundle) else load_bundle(model)
    data = figures(dataset, month, bundle, scored, lang, engine, progress)
    (progress or (lambda message: None))("writing the report")
    page = html.render(data, lang)
    twin = out.with_suffix(".json")
    document = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    write_all([(out, lambda tmp: tmp.write_text(page, encoding="utf-8")),
               (twin, lambda tmp: tmp.write_text(document, encoding="utf-8"))])
    return ReportResult(out, twin, data)
