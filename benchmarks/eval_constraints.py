"""Tree constraints by reason family and by risk direction: lift, AUC and reason accuracy.

    .venv/bin/python benchmarks/eval_constraints.py [--groups 10000] [--months 30] [--seed 2027] [--scoring 6]

The simulated operator of eval_refit.py (same seed, same cached panel). For each of the last
``--scoring`` usable months S and each setting, the pipeline of ``churnkit train`` as known at S:
fit on the split's training months with early stopping on the validation months, refit on every
known month with those trees, score S. Reported: mean top-decile lift and ROC AUC over the months,
and, as ``make eval-reasons`` counts it, among true churners in the top decile whose churn came
with warning signals, how often ``reason_1`` is a family that explains the true cause. Reasons and
ranks do not depend on the (monotone) calibration, so none is fitted here.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from eval_refit import panel_of, simulated

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "eval_constraints.json"
VARIANTS = {"none": {}, "family": {"interaction": "family"}, "monotone": {"monotone": True},
            "family+monotone": {"interaction": "family", "monotone": True}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--scoring", type=int, default=6)
    parser.add_argument("--horizon", type=int, default=3)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from churnkit.explain import family_impacts
    from churnkit.model import lgbm
    from churnkit.model.metrics import roc_auc, top_decile_lift
    from churnkit.model.split import out_of_time_split
    from churnkit.model.train import fit_calibrated, model_features
    from churnkit.months import format_month, parse_month
    from churnkit.report.backtest import deciles
    from churnkit.signals.registry import family_of

    started = time.time()
    data = simulated(args.groups, args.months, args.seed)
    truth = pd.read_parquet(data / "_truth" / "causes.parquet")
    H = args.horizon
    panel = panel_of(data, H)
    features, categorical = model_features(panel)
    families = {f: family_of(f) for f in features}
    usable = sorted(int(m) for m in panel["mi"].unique())
    scoring = usable[-args.scoring:]
    rows = []
    for name in args.variants.split(","):
        settings = replace(lgbm.ModelSettings(), **VARIANTS[name])
        for S in scoring:
            known_months = [m for m in usable if m + H <= S]
            split = out_of_time_split(known_months, H)
            part = {n: panel[panel["mi"].isin(getattr(split, n))] for n in ("train", "valid")}
            known, scored = panel[panel["mi"].isin(known_months)], panel[panel["mi"] == S]
            fitted = fit_calibrated(part["train"], part["valid"], "label", features, categorical, settings, "platt")
            trees = int(fitted.booster.best_iteration or fitted.booster.current_iteration())
            levels = lgbm.category_levels(known, categorical)
            booster = lgbm.fit_rounds(lgbm.matrix(known, features, levels), known["label"], settings, trees)
            contrib = lgbm.contributions(booster, lgbm.matrix(scored, features, levels))
            impacts, _, _ = family_impacts(contrib, features, families, fitted.calibrator)
            raw = contrib.sum(axis=1)
            y = scored["label"].to_numpy()
            out = scored[["group_id"]].assign(y=y, top=deciles(raw) == 1, reason_1=impacts.idxmax(axis=1).to_numpy())
            joined = out[(out["y"] == 1) & out["top"]].merge(truth, on="group_id", how="inner")
            joined = joined[joined["warned"] & (joined["churn_month"].map(parse_month) <= S + H)]
            match = [r in f.split(";") for r, f in zip(joined["reason_1"], joined["matching_families"])]
            rows.append({"variant": name, "month": format_month(S), "trees": trees, "lift": top_decile_lift(y, raw),
                         "auc": roc_auc(y, raw), "caught_warned": len(match), "reason_1_matches": int(sum(match))})
            print(f"  {name} {format_month(S)}: {trees} trees, lift {rows[-1]['lift']:.2f}, "
                  f"reason_1 {sum(match)}/{len(match)} ({time.time() - started:.0f} s)", flush=True)
    table = pd.DataFrame(rows)
    summary = table.groupby("variant", sort=False).agg(lift=("lift", "mean"), auc=("auc", "mean"), trees=("trees", "mean"),
                                                       caught=("caught_warned", "sum"), matches=("reason_1_matches", "sum"))
    summary["reason_1_match"] = summary["matches"] / summary["caught"]
    print("\n| setting | top-decile lift | ROC AUC | mean trees | reason_1 match |\n|---|---|---|---|---|")
    for name, r in summary.iterrows():
        print(f"| {name} | {r['lift']:.2f} | {r['auc']:.3f} | {r['trees']:.0f} | {r['reason_1_match']:.3f} ({int(r['matches'])}/{int(r['caught'])}) |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"scoring_months": [format_month(m) for m in scoring], "by_month": rows,
                                    "summary": summary.reset_index().to_dict(orient="records"),
                                    "seconds": round(time.time() - started, 1)}, indent=2, default=float) + "\n")
    print(f"\n{args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
