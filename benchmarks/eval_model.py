"""make eval-model: a candidate model against the current default, on later months of a larger simulated operator.

    .venv/bin/python benchmarks/eval_model.py [--candidate JSON] [--default JSON] [--plain]
                                              [--groups 20000] [--months 36] [--seed 2036] [--scoring 6]

The yardstick of issue 14. ``churnkit simulate`` writes 20,000 groups x 36 months with a seed the
tests do not use into ``benchmarks/data/`` (git-ignored), once; the training panel (signals and
labels of every usable month) is cached beside it. For each of the last ``--scoring`` usable
months S, each model is trained only on what was known at S, the way ``churnkit train`` trains
(snapshot months m with m + H <= S, split out of time: training months, validation months for
early stopping and the Platt calibration, the two newest months held out as its test months),
then scores S; the realised churn in (S, S + H] judges it. Both models see the same rows.

Printed per month and as the mean over the months, for each model:

* top-decile lift, ROC AUC and PR AUC, each with a 95% bootstrap interval (rows resampled within
  each month; the mean's interval from the same resamples);
* the top decile's calibration: mean predicted probability against the realised churn rate with
  its exact binomial 95% interval, and whether the prediction lies inside it;
* reason_1 match, as ``make eval-reasons`` counts it (benchmarks/reasons_truth.py): among true
  churners in the top decile whose churn came with warning signals, the share whose first reason
  is a family that explains the true cause, with its binomial interval;
* the SHAP cost: trees x leaves x depth and the seconds of exact TreeSHAP for the month.

Then the candidate minus the default (paired: the same resamples for both), against the
acceptance marks of issue 14. ``--plain`` adds an untuned LightGBM (200 trees x 15 leaves on every
known month, its own probabilities), the "plain model" the issue compares with. Results:
``benchmarks/results/eval_model.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA_ROOT = ROOT / "benchmarks" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "eval_model.json"

# The candidate judged against ModelSettings() (src/churnkit/model/lgbm.py): the pick of the tuning
# search on validation months (benchmarks/tune_model.py). Override with --candidate '{"num_leaves": 15}'.
CANDIDATE: dict = {"num_leaves": 31, "max_depth": 6, "learning_rate": 0.02, "n_estimators": 300,
                   "min_child_samples": 100, "lambda_l2": 5.0, "feature_fraction": 1.0, "early_stopping_rounds": 100}
# issue 14's acceptance marks, candidate against the default
MARKS = {"lift_gain": 0.10, "auc_gain": 0.02, "reason_1_match": 0.90}


# --------------------------------------------------------------------------- data
def simulated(groups: int = 20_000, months: int = 36, seed: int = 2036, start: str = "2023-01") -> Path:
    """The simulated operator under benchmarks/data/, written once (what ``churnkit simulate`` runs)."""
    from churnkit.simulate import simulate

    data = DATA_ROOT / f"eval-model-{groups}x{months}-seed{seed}"
    if not (data / "churn.parquet").exists():
        print(f"simulating {groups:,} groups x {months} months (seed {seed}) into {data} (once) ...", flush=True)
        simulate(data, groups=groups, months=months, start=start, seed=seed)
    return data


def panel_of(data: Path, horizon: int = 3) -> pd.DataFrame:
    """The unsampled training panel of ``data`` (every usable month) with a month index ``mi``,
    cached beside the data folder."""
    from churnkit.features import training_panel
    from churnkit.months import parse_month
    from churnkit.validate import load_dataset

    cache = data.parent / f"{data.name}-panel-h{horizon}.parquet"
    if cache.exists():
        return pd.read_parquet(cache)
    print(f"building the training panel of {data.name} (once) ...", flush=True)
    panel = training_panel(load_dataset(data), horizon, max_rows=10**12)
    panel["mi"] = panel["month"].map(parse_month)
    tmp = cache.with_suffix(".tmp")
    panel.drop(columns=[c for c in ("weight",) if c in panel.columns]).to_parquet(tmp, index=False)
    tmp.rename(cache)
    return panel


# --------------------------------------------------------------------------- one model, one month
def shap_cost(booster, settings) -> int:
    """trees x leaves x depth: what exact TreeSHAP's time grows with."""
    trees = int(booster.best_iteration or booster.current_iteration())
    depth = settings.max_depth if settings.max_depth > 0 else settings.num_leaves - 1
    return trees * settings.num_leaves * depth


def score_month(panel: pd.DataFrame, truth: pd.DataFrame, S: int, H: int, settings, kind: str = "churnkit") -> dict:
    """Train as known at ``S`` and score ``S``: the month's rows (y, probability, reason_1 of the
    warned churners in the top decile and whether it matches) and the model's trees and SHAP cost."""
    import lightgbm as lgb

    from churnkit.explain import family_impacts, top_reasons
    from churnkit.model import lgbm
    from churnkit.model.split import out_of_time_split
    from churnkit.model.train import fit_calibrated, model_features
    from churnkit.signals.registry import family_of

    features, categorical = model_features(panel)
    usable = sorted(int(m) for m in panel["mi"].unique())
    known_months = [m for m in usable if m + H <= S]
    scored = panel[panel["mi"] == S].reset_index(drop=True)
    if kind == "plain":  # untuned LightGBM on every known month, its own probabilities
        known = panel[panel["mi"].isin(known_months)]
        levels = lgbm.category_levels(known, categorical)
        params = {"objective": "binary", "num_leaves": 15, "verbosity": -1, "seed": 7, "num_threads": settings.threads}
        booster = lgb.train(params, lgb.Dataset(lgbm.matrix(known, features, levels), label=known["label"].to_numpy()),
                            num_boost_round=200)
        calibrate = lambda raw: 1.0 / (1.0 + np.exp(-raw))  # noqa: E731
        settings = replace(settings, num_leaves=15, max_depth=-1)
    else:  # what `churnkit train` fits (no refit): training months, early stopping and Platt on validation months
        split = out_of_time_split(known_months, H)
        part = {n: panel[panel["mi"].isin(getattr(split, n))] for n in ("train", "valid")}
        fitted = fit_calibrated(part["train"], part["valid"], "label", features, categorical, settings, "platt")
        booster, levels, calibrate = fitted.booster, fitted.levels, fitted.calibrator
    X = lgbm.matrix(scored, features, levels)
    t = time.perf_counter()
    contrib = lgbm.contributions(booster, X)
    shap_s = time.perf_counter() - t
    impacts, prob, _ = family_impacts(contrib, features, {f: family_of(f) for f in features}, calibrate)
    y = scored["label"].to_numpy().astype(int)
    order = np.argsort(-prob, kind="stable")  # the scored file's risk_decile: ceil(10 x rank / n)
    top = np.zeros(len(y), dtype=bool)
    top[order[: int(max(1, len(y) // 10))]] = True
    caught = np.flatnonzero(top & (y == 1))
    firsts = top_reasons(impacts.iloc[caught], k=1)
    found = scored.iloc[caught][["group_id"]].assign(reason_1=[r[0][0] if r else None for r in firsts])
    found = found.merge(truth[truth["warned"]], on="group_id", how="inner")
    match = [isinstance(r, str) and r in f.split(";") for r, f in zip(found["reason_1"], found["matching_families"])]
    trees = int(booster.best_iteration or booster.current_iteration())
    return {"y": y, "p": prob, "caught_warned": len(match), "reason_1_matches": int(sum(match)), "trees": trees,
            "shap_cost": shap_cost(booster, settings), "shap_s": shap_s}


# --------------------------------------------------------------------------- figures with intervals
def top_decile_calibration(y: np.ndarray, p: np.ndarray) -> dict:
    """Mean predicted against realised churn in the top decile, with the realised rate's interval."""
    from churnkit.model.calibration import binomial_interval

    order = np.argsort(-p, kind="stable")[: int(max(1, len(y) // 10))]
    n, k, predicted = len(order), int(y[order].sum()), float(p[order].mean())
    lo, hi = binomial_interval(k, n)
    return {"n": n, "churners": k, "predicted": predicted, "realised": k / n, "lo": float(lo), "hi": float(hi),
            "gap": predicted - k / n, "inside": bool(lo <= predicted <= hi)}


def ratio_interval(k: int, n: int) -> dict:
    from churnkit.model.calibration import binomial_interval

    lo, hi = binomial_interval(k, n) if n else (np.nan, np.nan)
    return {"matches": int(k), "of": int(n), "share": k / n if n else float("nan"), "lo": float(lo), "hi": float(hi)}


RANKING = ("top_decile_lift", "roc_auc", "pr_auc")


def ranking_metrics(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    from churnkit.model.metrics import pr_auc, roc_auc, top_decile_lift

    return np.array([top_decile_lift(y, p), roc_auc(y, p), pr_auc(y, p)])


def bootstrap(months: list[dict], n_boot: int, seed: int) -> np.ndarray:
    """Ranking metrics of every model in every month on ``n_boot`` resamples, rows drawn within each
    month, the same draws for every model: array [boot, month, model, metric]."""
    rng = np.random.default_rng(seed)
    models = list(months[0]["models"])
    out = np.full((n_boot, len(months), len(models), len(RANKING)), np.nan)
    for b in range(n_boot):
        for i, month in enumerate(months):
            y = month["y"]
            idx = rng.integers(0, len(y), size=len(y))
            for j, name in enumerate(models):
                out[b, i, j] = ranking_metrics(y[idx], month["models"][name]["p"][idx])
    return out


def interval(values: np.ndarray) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if not len(values):
        return float("nan"), float("nan")
    lo, hi = np.quantile(values, [0.025, 0.975])
    return float(lo), float(hi)


def summarise(months: list[dict], boots: np.ndarray) -> dict:
    """Per month and mean figures of every model, and each model minus the default (paired)."""
    models = list(months[0]["models"])
    out: dict = {"by_month": [], "mean": {}, "difference": {}}
    points = np.array([[ranking_metrics(m["y"], m["models"][name]["p"]) for name in models] for m in months])
    for i, month in enumerate(months):
        row = {"month": month["month"], "rows": int(len(month["y"])), "churners": int(month["y"].sum()), "models": {}}
        for j, name in enumerate(models):
            r = month["models"][name]
            fig = {metric: {"value": float(points[i, j, k]), **dict(zip(("lo", "hi"), interval(boots[:, i, j, k])))}
                   for k, metric in enumerate(RANKING)}
            fig["top_decile_calibration"] = top_decile_calibration(month["y"], r["p"])
            fig["reason_1_match"] = ratio_interval(r["reason_1_matches"], r["caught_warned"])
            fig.update(trees=r["trees"], shap_cost=r["shap_cost"], shap_s=round(r["shap_s"], 3))
            row["models"][name] = fig
        out["by_month"].append(row)
    for j, name in enumerate(models):
        mean = {metric: {"value": float(points[:, j, k].mean()), **dict(zip(("lo", "hi"), interval(boots[:, :, j, k].mean(axis=1))))}
                for k, metric in enumerate(RANKING)}
        y = np.concatenate([m["y"] for m in months])
        tops = [top_decile_calibration(m["y"], m["models"][name]["p"]) for m in months]
        n, k = sum(t["n"] for t in tops), sum(t["churners"] for t in tops)
        predicted = sum(t["predicted"] * t["n"] for t in tops) / n
        pooled = ratio_interval(k, n)
        mean["top_decile_calibration"] = {"n": n, "churners": k, "predicted": predicted, "realised": k / n,
                                          "lo": pooled["lo"], "hi": pooled["hi"], "gap": predicted - k / n,
                                          "inside": bool(pooled["lo"] <= predicted <= pooled["hi"]),
                                          "months_inside": sum(t["inside"] for t in tops), "months": len(tops),
                                          "churn_rate": float(y.mean())}
        mean["reason_1_match"] = ratio_interval(sum(m["models"][name]["reason_1_matches"] for m in months),
                                                sum(m["models"][name]["caught_warned"] for m in months))
        mean["trees"] = float(np.mean([m["models"][name]["trees"] for m in months]))
        mean["shap_cost"] = float(np.mean([m["models"][name]["shap_cost"] for m in months]))
        mean["shap_s"] = float(np.mean([m["models"][name]["shap_s"] for m in months]))
        out["mean"][name] = mean
        if name != "default":
            diff = points[:, j, :].mean(axis=0) - points[:, 0, :].mean(axis=0)
            boot_diff = boots[:, :, j, :].mean(axis=1) - boots[:, :, 0, :].mean(axis=1)
            out["difference"][name] = {metric: {"value": float(diff[k]), **dict(zip(("lo", "hi"), interval(boot_diff[:, k])))}
                                       for k, metric in enumerate(RANKING)}
            base = out["mean"]["default"]["top_decile_lift"]["value"]
            out["difference"][name]["top_decile_lift_relative"] = float(diff[0] / base)
    return out


def acceptance(summary: dict, name: str = "candidate") -> dict:
    """Issue 14's marks for ``name`` against the default."""
    d, m = summary["difference"][name], summary["mean"][name]
    return {"lift_gain_10pct": bool(d["top_decile_lift_relative"] >= MARKS["lift_gain"]),
            "auc_gain_0.02": bool(d["roc_auc"]["value"] >= MARKS["auc_gain"]),
            "reason_1_match_90pct": bool(m["reason_1_match"]["share"] >= MARKS["reason_1_match"]),
            "top_decile_inside_interval": bool(m["top_decile_calibration"]["inside"])}


# --------------------------------------------------------------------------- printing
def _ci(fig: dict, digits: int = 3) -> str:
    return f"{fig['value']:.{digits}f} [{fig['lo']:.{digits}f}, {fig['hi']:.{digits}f}]"


def _cal(c: dict) -> str:
    return f"{c['predicted']:.3f} / {c['realised']:.3f} [{c['lo']:.3f}, {c['hi']:.3f}]" + ("" if c["inside"] else " out")


def _reason(r: dict) -> str:
    return f"{r['share']:.3f} ({r['matches']}/{r['of']})"


def print_tables(summary: dict) -> None:
    models = list(summary["mean"])
    print("\n| month | model | top-decile lift [95%] | ROC AUC [95%] | PR AUC [95%] | top decile pred / real [95%] | reason_1 match | trees | SHAP s |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = [(r["month"], r["models"]) for r in summary["by_month"]] + [("mean", summary["mean"])]
    for month, figs in rows:
        for name in models:
            f = figs[name]
            trees = f"{f['trees']:.0f}"
            print(f"| {month} | {name} | {_ci(f['top_decile_lift'], 2)} | {_ci(f['roc_auc'])} | {_ci(f['pr_auc'])} | "
                  f"{_cal(f['top_decile_calibration'])} | {_reason(f['reason_1_match'])} | {trees} | {f['shap_s']:.2f} |")
    for name, d in summary["difference"].items():
        print(f"\n{name} - default (paired bootstrap): lift {_ci(d['top_decile_lift'], 3)} "
              f"({d['top_decile_lift_relative']:+.1%}), ROC AUC {_ci(d['roc_auc'], 4)}, PR AUC {_ci(d['pr_auc'], 4)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=2036, help="simulation seed (not one the tests use)")
    parser.add_argument("--scoring", type=int, default=6, help="number of out-of-time scoring months")
    parser.add_argument("--horizon", type=int, default=3)
    parser.add_argument("--candidate", type=json.loads, default=CANDIDATE,
                        help="JSON: ModelSettings fields of the candidate ('null': none, e.g. with --plain)")
    parser.add_argument("--default", type=json.loads, default={}, help="JSON: ModelSettings fields changed for the 'default' column")
    parser.add_argument("--also", action="append", default=[], metavar="NAME=JSON",
                        help="another candidate beside the first (repeatable), e.g. 'leaves15={\"num_leaves\": 15}'")
    parser.add_argument("--plain", action="store_true", help="also an untuned LightGBM, 200 trees x 15 leaves on every known month")
    parser.add_argument("--threads", type=int, default=1, help="LightGBM threads (1 on a shared machine)")
    parser.add_argument("--n-boot", type=int, default=200)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from churnkit.model.lgbm import ModelSettings
    from churnkit.months import format_month

    started = time.time()
    data = simulated(args.groups, args.months, args.seed)
    truth = pd.read_parquet(data / "_truth" / "causes.parquet")
    panel = panel_of(data, args.horizon)
    usable = sorted(int(m) for m in panel["mi"].unique())
    scoring = usable[-args.scoring:]
    base = ModelSettings(threads=args.threads)
    models = {"default": (replace(base, **args.default), "churnkit")}
    if args.candidate is not None:
        models["candidate"] = (replace(base, **args.candidate), "churnkit")
    for item in args.also:
        name, _, changes = item.partition("=")
        models[name] = (replace(base, **json.loads(changes)), "churnkit")
    if args.plain:
        models["plain"] = (base, "plain")
    print(f"panel {len(panel):,} rows, {panel['group_id'].nunique():,} groups; scoring months "
          f"{format_month(scoring[0])}..{format_month(scoring[-1])}; candidate {args.candidate} ({time.time() - started:.0f} s)",
          flush=True)
    months = []
    for S in scoring:
        month = {"month": format_month(S), "models": {}}
        for name, (settings, kind) in models.items():
            r = score_month(panel, truth, S, args.horizon, settings, kind)
            month["y"] = r.pop("y")
            month["models"][name] = r
            print(f"  {format_month(S)} {name}: {r['trees']} trees, lift {ranking_metrics(month['y'], r['p'])[0]:.2f}, "
                  f"reason_1 {r['reason_1_matches']}/{r['caught_warned']} ({time.time() - started:.0f} s)", flush=True)
        months.append(month)
    summary = summarise(months, bootstrap(months, args.n_boot, seed=14))
    print_tables(summary)
    marks = acceptance(summary) if "candidate" in models else {}
    if marks:
        print("\nacceptance (issue 14), candidate vs default: " + ", ".join(f"{k} {'met' if v else 'not met'}" for k, v in marks.items()))
    report = {"data": {"groups": args.groups, "months": args.months, "seed": args.seed, "folder": str(data)},
              "horizon": args.horizon, "scoring_months": [format_month(m) for m in scoring], "n_boot": args.n_boot,
              "settings": {name: {**s.to_dict(), "kind": kind} for name, (s, kind) in models.items()},
              **summary, "acceptance": marks, "seconds": round(time.time() - started, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{args.out} ({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
