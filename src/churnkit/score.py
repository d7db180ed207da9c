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
from churnkit.families import FAMILIES, LANGS
from churnkit.explain import MIN_IMPACT, check_additivity, family_impacts
from churnkit.features import build_features, check_month
from churnkit.model import lgbm
from churnkit.model.bundle import Bundle, load_bundle
from churnkit.months import format_month
from churnkit.output import SCORED_COLUMNS, round_numbers, write_scored_batches
from churnkit.playbook import Playbook, load_playbook
from churnkit.policy import ValuePolicy
from churnkit.population import population
from churnkit.reason_texts import reason_texts
from churnkit.signals.registry import Settings
from churnkit.uplift.scoring import COLUMNS as TARGETING_COLUMNS
from churnkit.uplift.scoring import target
from churnkit.validate import Dataset


BATCH = 100_000  # groups explained and written at a time


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


def probability(bundle: Bundle, features: pd.DataFrame, batch: int = BATCH) -> np.ndarray:
    """Calibrated churn probabilities only (no explanation), in batches of rows."""
    parts = [lgbm.raw_score(bundle.booster, lgbm.matrix(features.iloc[i:i + batch], bundle.features, bundle.levels))
             for i in range(0, len(features), batch)]
    return bundle.calibrator(np.concatenate(parts) if parts else np.empty(0))


def top_reasons(impacts: pd.DataFrame, k: int = 3, min_impact: float = MIN_IMPACT) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the k families that raise the risk most (impact >= min_impact, ties by family
    order): codes ("" where fewer) and impacts (NaN where fewer), each of shape (rows, k)."""
    values = impacts.to_numpy()
    names = np.array(list(impacts.columns), dtype=object)
    order = np.argsort(-values, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(values, order, axis=1)
    keep = top >= min_impact
    return np.where(keep, names[order], ""), np.where(keep, top, np.nan)


@dataclass
class Plan:
    """The month's scored groups ranked, before explanation: what every batch needs."""

    frame: pd.DataFrame  # features + churn_probability, expected_loss, profile, action; in rank order
    month: int
    lang: str
    book: Playbook
    bundle: Bundle

    def __len__(self) -> int:
        return len(self.frame)


def plan_month(dataset: Dataset, month: int, bundle: Bundle, policy: ValuePolicy | None = None, engine: str = "duckdb",
               features: pd.DataFrame | None = None, lang: str = "zh", book: Playbook | None = None,
               progress=None) -> tuple[Plan, pd.DataFrame]:
    """Signals, probabilities, ranks and actions of every scored group (one row per group), and
    the excluded groups."""
    if lang not in LANGS:
        raise UsageError(f"--lang must be one of {', '.join(LANGS)}, not {lang!r}")
    step = progress or (lambda message: None)
    policy = policy or ValuePolicy()
    check_month(dataset, month)
    step("building the signals")
    signal_settings = Settings(**bundle.manifest.get("signal_settings", {}))
    scored_ids, excluded = population(dataset, month)
    if features is None and len(scored_ids):
        features = build_features(dataset, [month], signal_settings, engine=engine)
    if features is None or features.empty:
        raise ChurnkitError(f"no group can be scored for {format_month(month)} ({len(excluded)} excluded)")
    if len(features) != len(scored_ids) or set(features["group_id"]) != set(scored_ids):
        lost = sorted(set(scored_ids) ^ set(features["group_id"]))
        raise ChurnkitError(f"internal check failed: groups {lost[:5]} are neither scored nor excluded; please report this")
    step("predicting")
    frame = features.reset_index(drop=True)
    prob = probability(bundle, frame)
    frame["churn_probability"] = prob
    frame["expected_loss"] = prob * frame["spend"].to_numpy(dtype=float) * 12
    groups = dataset["groups"].set_index("group_id")
    for col in ("group_name", "account_manager", "value_tier"):
        frame[col] = frame["group_id"].map(groups[col]) if col in groups else None
    frame["action"] = policy.actions(frame)
    frame = target(frame, bundle)  # saved value and its actions once the retention waves say so (churnkit.uplift)
    frame = rank(round_numbers(frame))
    return Plan(frame, month, lang, book or load_playbook(None), bundle), excluded


def explain_batches(plan: Plan, batch: int = BATCH):
    """The scored table in rank order, ``batch`` groups at a time: exact TreeSHAP per family,
    the top three reasons with their sentences, and the retention script."""
    scripts = {f: plan.book.script_for(f, plan.lang) for f in FAMILIES}
    for start in range(0, len(plan.frame), batch):
        yield explain(plan.frame.iloc[start:start + batch].reset_index(drop=True), plan.bundle, plan.lang, scripts, plan.month)


def explain(frame: pd.DataFrame, bundle: Bundle, lang: str, scripts: dict, month: int) -> pd.DataFrame:
    """Ranked rows (features, churn_probability, risk_rank, ...) as scored rows: exact TreeSHAP per
    family, the top three reasons with their sentences, the script for ``reason_1`` (``scripts``:
    family -> Script), in the scored file's columns. Also what Spark's executors run
    (:mod:`churnkit.spark.score`)."""
    frame = frame.copy()
    X = lgbm.matrix(frame, bundle.features, bundle.levels)
    contrib = lgbm.contributions(bundle.booster, X)
    check_additivity(contrib, lgbm.raw_score(bundle.booster, X))
    impacts, _, base = family_impacts(contrib, bundle.features, bundle.families, bundle.calibrator)
    codes, values = top_reasons(impacts)
    for k in range(3):
        frame[f"reason_{k + 1}"] = codes[:, k]
        frame[f"reason_{k + 1}_impact"] = values[:, k]
        frame[f"reason_{k + 1}_text"] = reason_texts(codes[:, k], frame, lang)
    first = pd.Series(codes[:, 0])
    for col, attr in (("script_id", "id"), ("script_title", "title"), ("script_steps", "steps")):
        frame[col] = first.map({f: getattr(s, attr) for f, s in scripts.items()}).fillna("").to_numpy(dtype=object)
    for family in impacts.columns:
        frame[f"impact_{family}"] = impacts[family].to_numpy()
    frame["base_probability"] = base
    frame = round_numbers(frame)
    frame["month"] = format_month(month)
    extra = ["base_probability", *[f"impact_{f}" for f in impacts.columns],
             *[c for c in TARGETING_COLUMNS if c in frame.columns]]
    return frame[SCORED_COLUMNS + extra]


def score_month(dataset: Dataset, month: int, bundle: Bundle, lang: str = "zh", book: Playbook | None = None,
                policy: ValuePolicy | None = None, engine: str = "duckdb", features: pd.DataFrame | None = None,
                progress=None) -> ScoreResult:
    """Score month ``month`` in memory: the scored table (contract columns, then base_probability and
    impact_<family>) and the excluded groups. ``features`` may be passed when already built for ``month``.
    :func:`score` writes the same table in batches without holding it."""
    plan, excluded = plan_month(dataset, month, bundle, policy, engine, features, lang, book, progress)
    (progress or (lambda message: None))("explaining")
    scored = pd.concat(list(explain_batches(plan)), ignore_index=True)
    base = float(scored["base_probability"].iloc[0])
    return ScoreResult(scored, excluded, [], base, summarise(scored, excluded))


def summarise(scored: pd.DataFrame, excluded: pd.DataFrame) -> dict:
    """Counts, the top decile's expected loss and the actions (ranked frame or scored table)."""
    top = scored[scored["risk_decile"] == 1]
    return {"scored": len(scored), "excluded": len(excluded),
            "top_decile_expected_loss": float(top["expected_loss"].sum()),
            "actions": scored["action"].value_counts().reindex(["visit", "call", "care", "none"], fill_value=0).to_dict()}


def score(dataset: Dataset, month: int, model: Path, out: Path, lang: str = "zh", playbook: Path | None = None,
          policy: ValuePolicy | None = None, engine: str = "duckdb", progress=None, batch: int = BATCH) -> ScoreResult:
    """Score month ``month`` and write the scored file to ``out`` (CSV) with its twins, ``batch``
    groups at a time: memory holds the month's feature table and one batch, whatever the number
    of groups. The result carries the summary and the first batch (the riskiest groups)."""
    if lang not in LANGS:
        raise UsageError(f"--lang must be one of {', '.join(LANGS)}, not {lang!r}")
    if Path(out).suffix.lower() != ".csv":
        raise UsageError(f"--out {out}: the scored file is a .csv (its parquet twin is written beside it)")
    bundle = load_bundle(model)
    book = load_playbook(playbook)
    plan, excluded = plan_month(dataset, month, bundle, policy, engine, None, lang, book, progress)
    (progress or (lambda message: None))("explaining and writing the scored file")
    first = {}

    def batches():
        for i, part in enumerate(explain_batches(plan, batch)):
            if i == 0:
                first["rows"] = part
            yield part

    paths = write_scored_batches(batches(), excluded, out)
    head = first["rows"]
    summary = summarise(plan.frame, excluded)
    return ScoreResult(head, excluded, paths, float(head["base_probability"].iloc[0]), summary)
