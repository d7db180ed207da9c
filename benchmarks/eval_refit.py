"""Evaluate-then-refit and the calibration of the top, measured on later months.

    .venv/bin/python benchmarks/eval_refit.py [--groups 10000] [--months 30] [--seed 2027] [--scoring 6]

A simulated operator with a seed the tests do not use. For each of the last ``--scoring`` usable
months S, every model is fitted only on what was known at S (snapshot months m with m + H <= S,
whose labels are known by then), then scores S; the realised churn in (S, S + H] judges it.

Models:

* ``evaluated``: today's bundle before issue 14: learned from the split's training months,
  early-stopped and calibrated on the validation months.
* ``refit+carried``: refitted on every known month with the evaluation's trees; the evaluation's
  calibration (validation months) carried over.
* ``refit+crossfit``: the same refit; calibration fitted on out-of-fold scores by month blocks.
* ``refit-scaled+carried``: the refit with the trees scaled by its rows over the training rows.
* ``plain``: untuned LightGBM, 200 trees x 15 leaves, on every known month, its own probabilities.

Each calibrated model with platt, beta and isotonic. Printed and written to
``benchmarks/results/eval_refit.json``: mean over the scoring months of top-decile lift and ROC
AUC; pooled over them ECE, log loss and Brier score, and for deciles 1 and 2 the predicted and
realised rate with the realised rate's 95% binomial interval.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import lightgbm as lgb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "eval_refit.json"


def simulated(groups: int, months: int, seed: int) -> Path:
    """A simulated operator under the temporary folder, made once and reused by the next run."""
    from churnkit.simulate import simulate

    data = Path(tempfile.gettempdir()) / f"churnkit-eval-{groups}x{months}-{seed}" / "data"
    if not (data / "churn.parquet").exists():
        simulate(data, groups=groups, months=months, start="2023-01", seed=seed)
    return data


def panel_of(data: Path, horizon: int) -> pd.DataFrame:
    """The unsampled training panel of ``data`` with a month index ``mi``, cached beside it."""
    from churnkit.features import training_panel
    from churnkit.months import parse_month
    from churnkit.validate import load_dataset

    import hashlib

    key = hashlib.sha1(str(data.resolve()).encode()).hexdigest()[:10]
    cache = Path(tempfile.gettempdir()) / f"churnkit-panel-{key}-h{horizon}.parquet"
    if cache.exists():
        return pd.read_parquet(cache)
    panel = training_panel(load_dataset(data), horizon, max_rows=10**12)
    panel["mi"] = panel["month"].map(parse_month)
    panel.drop(columns=[c for c in ("weight",) if c in panel.columns]).to_parquet(cache, index=False)
    return panel


def plain_probability(known: pd.DataFrame, scored: pd.DataFrame, features, categorical) -> np.ndarray:
    from churnkit.model import lgbm

    levels = lgbm.category_levels(known, categorical)
    params = {"objective": "binary", "num_leaves": 15, "verbosity": -1, "seed": 7, "num_threads": 2}
    X = lgbm.matrix(known, features, levels)
    booster = lgb.train(params, lgb.Dataset(X, label=known["label"].to_numpy()), num_boost_round=200)
    return booster.predict(lgbm.matrix(scored, features, levels), validate_features=True)


def summarise(rows: pd.DataFrame) -> dict:
    from sklearn.metrics import log_loss

    from churnkit.model.calibration import decile_calibration
    from churnkit.model.metrics import brier, expected_calibration_error, roc_auc, top_decile_lift

    per_month = rows.groupby("month").apply(
        lambda g: pd.Series({"lift": top_decile_lift(g["y"], g["p"]), "auc": roc_auc(g["y"], g["p"])}), include_groups=False)
    y, p = rows["y"].to_numpy(), np.clip(rows["p"].to_numpy(), 1e-9, 1 - 1e-9)
    # deciles within each scoring month (as the scored file ranks them), then pooled
    tables = [decile_calibration(g["y"], g["p"]) for _, g in rows.groupby("month")]
    pooled = pd.concat(tables).groupby("decile")[["n", "churners"]].sum()
    pooled["predicted"] = pd.concat([t.assign(s=t["predicted"] * t["n"]) for t in tables]).groupby("decile")["s"].sum() / pooled["n"]
    from churnkit.model.calibration import binomial_interval

    pooled["realised"] = pooled["churners"] / pooled["n"]
    pooled["lo"], pooled["hi"] = binomial_interval(pooled["churners"], pooled["n"])
    pooled["within"] = (pooled["predicted"] >= pooled["lo"]) & (pooled["predicted"] <= pooled["hi"])
    return {
        "top_decile_lift": float(per_month["lift"].mean()), "roc_auc": float(per_month["auc"].mean()),
        "lift_by_month": [round(float(v), 3) for v in per_month["lift"]],
        "ece": expected_calibration_error(y, p), "log_loss": float(log_loss(y, p)), "brier": brier(y, p),
        "deciles": {int(d): {k: (bool(r[k]) if k == "within" else float(r[k])) for k in ("n", "predicted", "realised", "lo", "hi", "within")}
                    for d, r in pooled.iterrows()},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a data directory (default: simulate one)")
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--scoring", type=int, default=6, help="number of scoring months")
    parser.add_argument("--horizon", type=int, default=3)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from churnkit.model import lgbm
    from churnkit.model.calibration import METHODS, fit_calibrator
    from churnkit.model.refit import out_of_fold
    from churnkit.model.split import out_of_time_split
    from churnkit.model.train import fit_calibrated, model_features
    from churnkit.months import format_month

    started = time.time()
    data = args.data or simulated(args.groups, args.months, args.seed)
    H = args.horizon
    panel = panel_of(data, H)
    features, categorical = model_features(panel)
    settings = lgbm.ModelSettings()
    usable = sorted(int(m) for m in panel["mi"].unique())  # the panel holds the usable months only
    scoring = usable[-args.scoring:]
    print(f"panel {len(panel)} rows, {panel['group_id'].nunique()} groups; scoring months "
          f"{format_month(scoring[0])}..{format_month(scoring[-1])} ({time.time() - started:.0f} s)", flush=True)
    rows = []
    for S in scoring:
        known_months = [m for m in usable if m + H <= S]
        split = out_of_time_split(known_months, H)
        part = {n: panel[panel["mi"].isin(getattr(split, n))] for n in ("train", "valid")}
        known, scored = panel[panel["mi"].isin(known_months)], panel[panel["mi"] == S]
        y = scored["label"].to_numpy()
        fitted = fit_calibrated(part["train"], part["valid"], "label", features, categorical, settings, "platt")
        trees = int(fitted.booster.best_iteration or fitted.booster.current_iteration())
        raw_eval = fitted.raw(scored)
        cal_eval = (fitted.raw(part["valid"]), part["valid"]["label"].to_numpy())
        levels = lgbm.category_levels(known, categorical)
        refit = lgbm.fit_rounds(lgbm.matrix(known, features, levels), known["label"], settings, trees)
        raw_refit = lgbm.raw_score(refit, lgbm.matrix(scored, features, levels))
        scaled = max(1, round(trees * len(known) / len(part["train"])))
        refit_scaled = lgbm.fit_rounds(lgbm.matrix(known, features, levels), known["label"], settings, scaled)
        raw_scaled = lgbm.raw_score(refit_scaled, lgbm.matrix(scored, features, levels))
        oof, _ = out_of_fold(known, known_months, "label", features, levels, settings, trees, H, args.blocks)
        ok = ~np.isnan(oof)
        cal_oof = (oof[ok], known["label"].to_numpy()[ok])
        for method in METHODS:
            for name, raw, (cr, cy) in (("evaluated", raw_eval, cal_eval), ("refit+carried", raw_refit, cal_eval),
                                        ("refit+crossfit", raw_refit, cal_oof), ("refit-scaled+carried", raw_scaled, cal_eval)):
                rows.append(pd.DataFrame({"model": name, "calibration": method, "month": format_month(S), "y": y,
                                          "p": fit_calibrator(cr, cy, method)(raw)}))
        rows.append(pd.DataFrame({"model": "plain", "calibration": "own", "month": format_month(S), "y": y,
                                  "p": plain_probability(known, scored, features, categorical)}))
        print(f"  {format_month(S)}: {len(known_months)} known months, {trees} trees ({time.time() - started:.0f} s)", flush=True)
    pooled = pd.concat(rows, ignore_index=True)
    report = {"data": str(data) if args.data else {"groups": args.groups, "months": args.months, "seed": args.seed},
              "horizon": H, "blocks": args.blocks, "scoring_months": [format_month(m) for m in scoring], "results": []}
    print(f"\n| model | calibration | lift | ROC AUC | ECE | log loss | decile 1 pred / real [95%] | decile 2 pred / real [95%] |")
    print("|---|---|---|---|---|---|---|---|")
    for (model, method), g in pooled.groupby(["model", "calibration"], sort=False):
        s = summarise(g)
        report["results"].append({"model": model, "calibration": method, **s})
        d1, d2 = s["deciles"][1], s["deciles"][2]
        cell = lambda d: (f"{d['predicted']:.3f} / {d['realised']:.3f} [{d['lo']:.3f}, {d['hi']:.3f}]"  # noqa: E731
                          + ("" if d["within"] else " out"))
        print(f"| {model} | {method} | {s['top_decile_lift']:.2f} | {s['roc_auc']:.3f} | {s['ece']:.4f} | "
              f"{s['log_loss']:.4f} | {cell(d1)} | {cell(d2)} |")
    report["seconds"] = round(time.time() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\n{args.out} ({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
