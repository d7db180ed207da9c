"""The monthly job: score every group, explain it, pick the action and the retention script.

``score`` is what ``churnkit score`` runs. It loads and verifies the model bundle first (before
any heavy work), builds the signals for month M, predicts, explains with exact TreeSHAP summed
per reason family, ranks, applies the value policy and writes the scored file, its parquet twin
and the excluded list, all or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from churnkit.errors import ChurnkitError, UsageError
from churnkit.families import LANGS
from churnkit.explain import check_additivity, family_impacts, top_reasons
from churnkit.features import build_features, check_month
from churnkit.model import lgbm
from churnkit.model.bundle import Bundle, load_bundle
from churnkit.months import format_month
from churnkit.output import SCORED_COLUMNS, round_numbers, write_scored
from churnkit.playbook import Playbook, load_playbook
from churnkit.policy import ValuePolicy
from churnkit.population import population
from churnkit.reasons import reason_text
from churnkit.signals.registry import Settings
from churnkit.validate import Dataset


@dataclass
class ScoreResult:
    scored: pd.DataFrame
    excluded: pd.DataFrame
    paths: list[Path]
    base_probability: float
    summary: dict = field(default_factory=dict)


def rank(frame: pd.DataFrame) -> pd.DataFrame:
    """risk_rank 1..n by probability desc, then expected loss desc, then group_id; risk_decile = ceil(10 rank / n)."""
    order = frame.sort_values(["churn_probability", "expected_loss", "group_id"], ascending=[False, False, True], kind="stable")
    order = order.reset_index(drop=True)
    n = len(order)
    order["risk_rank"] = np.arange(1, n + 1)
    order["risk_decile"] = np.ceil(10 * order["risk_rank"] / n).astype(int) if n else order["risk_rank"]
    return order


def predict(bundle: Bundle, features: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame, float]:
    """Calibrated probabilities, per-family impacts and the base probability for each row."""
    X = lgbm.matrix(features, bundle.features, bundle.levels)
    raw = lgbm.raw_score(bundle.booster, X)
    contrib = lgbm.contributions(bundle.booster, X)
    check_additivity(contrib, raw)
    impacts, prob, base = family_impacts(contrib, bundle.features, bundle.families, bundle.calibrator)
    return prob, impacts, base


def probability(bundle: Bundle, features: pd.DataFrame) -> np.ndarray:
    """Calibrated churn probabilities only (no explanation), e.g. for backtests."""
    return bundle.calibrator(lgbm.raw_score(bundle.booster, lgbm.matrix(features, bundle.features, bundle.levels)))


def score_month(dataset: Dataset, month: int, bundle: Bundle, lang: str = "zh", book: Playbook | None = None,
                policy: ValuePolicy | None = None, engine: str = "duckdb", features: pd.DataFrame | None = None,
                progress=None) -> ScoreResult:
    """Score month ``month`` in memory: the scored table (contract columns, then base_probability and
    impact_<family>) and the excluded groups. ``features`` may be passed when already built for ``month``."""
    if lang not in LANGS:
        raise UsageError(f"--lang must be one of {', '.join(LANGS)}, not {lang!r}")
    step = progress or (lambda message: None)
    policy = policy or ValuePolicy()
    book = book or load_playbook(None)
    check_month(dataset, month)
    step("building the signals")
    signal_settings = Settings(**bundle.manifest.get("signal_settings", {}))
    scored_ids, excluded = population(dataset, month)
    if features is None and len(scored_ids):
        features = build_features(dataset, [month], signal_settings, engine=engine)
    if features is None or features.empty:
        raise ChurnkitError(f"no group can be scored for {format_month(month)} ({len(excluded)} excluded)")
    if set(features["group_id"]) != set(scored_ids):
        lost = sorted(set(scored_ids) ^ set(features["group_id"]))
        raise ChurnkitError(f"internal check failed: groups {lost[:5]} are neither scored nor excluded; please report this")
    step("predicting and explaining")
    prob, impacts, base = predict(bundle, features)
    groups = dataset["groups"].set_index("group_id")
    frame = features.copy()
    frame["churn_probability"] = prob
    frame["expected_loss"] = prob * frame["spend"].to_numpy(dtype=float) * 12
    for col in ("group_name", "account_manager", "value_tier"):
        frame[col] = frame["group_id"].map(groups[col]) if col in groups else None
    frame["action"] = policy.actions(frame)
    reasons = top_reasons(impacts)
    rows = frame.to_dict("records")
    for k in range(3):
        frame[f"reason_{k + 1}"] = [r[k][0] if len(r) > k else "" for r in reasons]
        frame[f"reason_{k + 1}_impact"] = [r[k][1] if len(r) > k else np.nan for r in reasons]
        frame[f"reason_{k + 1}_text"] = [reason_text(r[k][0], row, lang) if len(r) > k else "" for r, row in zip(reasons, rows)]
    scripts = [book.script_for(r[0][0], lang) if r else None for r in reasons]
    frame["script_id"] = [s.id if s else "" for s in scripts]
    frame["script_title"] = [s.title if s else "" for s in scripts]
    frame["script_steps"] = [s.steps if s else "" for s in scripts]
    for family in impacts.columns:
        frame[f"impact_{family}"] = impacts[family].to_numpy()
    frame["base_probability"] = base
    frame = rank(round_numbers(frame))
    frame["month"] = format_month(month)
    extra = ["base_probability", *[f"impact_{f}" for f in impacts.columns]]
    scored = frame[SCORED_COLUMNS + extra]
    return ScoreResult(scored, excluded, [], base, summarise(scored, excluded))


def summarise(scored: pd.DataFrame, excluded: pd.DataFrame) -> dict:
    top = scored[scored["risk_decile"] == 1]
    return {"scored": len(scored), "excluded": len(excluded),
            "top_decile_expected_loss": float(top["expected_loss"].sum()),
            "actions": scored["action"].value_counts().reindex(["visit", "call", "care", "none"], fill_value=0).to_dict()}


def score(dataset: Dataset, month: int, model: Path, out: Path, lang: str = "zh", playbook: Path | None = None,
          policy: ValuePolicy | None = None, engine: str = "duckdb", progress=None) -> ScoreResult:
    """Score month ``month`` and write the scored file to ``out`` (CSV) with its twins."""
    if lang not in LANGS:
        raise UsageError(f"--lang must be one of {', '.join(LANGS)}, not {lang!r}")
    if Path(out).suffix.lower() != ".csv":
        raise UsageError(f"--out {out}: the scored file is a .csv (its parquet twin is written beside it)")
    bundle = load_bundle(model)
    book = load_playbook(playbook)
    result = score_month(dataset, month, bundle, lang, book, policy, engine, progress=progress)
    (progress or (lambda message: None))("writing the scored file")
    result.paths = write_scored(result.scored, result.excluded, out)
    return result
