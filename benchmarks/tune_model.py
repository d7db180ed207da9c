"""A small seeded tuning search on validation months only, within the SHAP cost budget.

    .venv/bin/python benchmarks/tune_model.py [--trials 16] [--seed 14] [--budget 10]

The simulated operator of ``make eval-model`` (benchmarks/eval_model.py: 20,000 groups x 36
months, seed 2036), as known at the first of its scoring months: the out-of-time split of the
months known then gives training months and validation months (the split's test months and every
later month are never read, so eval-model judges the pick on months the search never saw).

Each trial trains LightGBM on the training months with early stopping on the validation months
and is scored there: log loss (first) and mean top-decile lift over the validation months. The
trials are the current default (``ModelSettings()``) and ``--trials`` draws (seeded) over capacity
(leaves, depth), learning rate, the cap on trees, minimum leaf size, L2 regularisation and feature
fraction. Exact TreeSHAP's cost grows with trees x leaves x depth; a trial whose cost exceeds
``--budget`` times the default's is out of budget (10x: the 63-leaf model of ``make bench-score``,
about 27 s of SHAP at 200,000 groups against 2.7 s, keeps ``churnkit score`` within issue 12's
10x of a DuckDB scan). The pick: the lowest validation log loss within budget whose lift is not
below the default's. Results: ``benchmarks/results/tune_model.json``.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_model import panel_of, shap_cost, simulated  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "tune_model.json"
SPACE = {
    "num_leaves": (7, 15, 31),
    "max_depth": (3, 4, 5, 6),
    "learning_rate": (0.02, 0.03, 0.05, 0.1),
    "n_estimators": (300, 600, 1000),
    "min_child_samples": (20, 40, 100, 200),
    "lambda_l2": (0.0, 1.0, 5.0, 20.0),
    "feature_fraction": (0.6, 0.8, 1.0),
}


def draws(n: int, seed: int) -> list[dict]:
    """``n`` distinct settings drawn from SPACE; leaves capped at 2 ** depth (more cannot grow)."""
    rng = np.random.default_rng(seed)
    out: list[dict] = []
    seen = set()
    while len(out) < n:
        trial = {k: v[int(rng.integers(len(v)))] for k, v in SPACE.items()}
        trial["num_leaves"] = min(trial["num_leaves"], 2 ** trial["max_depth"])
        key = tuple(sorted(trial.items()))
        if key not in seen:
            seen.add(key)
            out.append({k: (float(v) if isinstance(v, float) else int(v)) for k, v in trial.items()})
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=2036, help="the simulation of eval-model")
    parser.add_argument("--scoring", type=int, default=6, help="eval-model's scoring months: tune as known at the first")
    parser.add_argument("--horizon", type=int, default=3)
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--search-seed", type=int, default=14)
    parser.add_argument("--budget", type=float, default=10.0, help="SHAP cost allowed, as a multiple of the default's")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from sklearn.metrics import log_loss

    from churnkit.model import lgbm
    from churnkit.model.metrics import top_decile_lift
    from churnkit.model.split import out_of_time_split
    from churnkit.model.train import model_features
    from churnkit.months import format_month

    started = time.time()
    panel = panel_of(simulated(args.groups, args.months, args.seed), args.horizon)
    H = args.horizon
    usable = sorted(int(m) for m in panel["mi"].unique())
    first_scoring = usable[-args.scoring]
    split = out_of_time_split([m for m in usable if m + H <= first_scoring], H)
    train, valid = (panel[panel["mi"].isin(getattr(split, n))] for n in ("train", "valid"))
    features, categorical = model_features(panel)
    levels = lgbm.category_levels(train, categorical)
    Xtr, Xva = lgbm.matrix(train, features, levels), lgbm.matrix(valid, features, levels)
    yva = valid["label"].to_numpy()
    base = lgbm.ModelSettings(threads=args.threads)
    print(f"training months {format_month(split.train[0])}..{format_month(split.train[-1])} ({len(train):,} rows), "
          f"validation {', '.join(format_month(m) for m in split.valid)} ({len(valid):,} rows)", flush=True)
    trials = [{"trial": "default"}] + [{"trial": f"draw {i + 1}", **d} for i, d in enumerate(draws(args.trials, args.search_seed))]
    rows = []
    for trial in trials:
        changes = {k: v for k, v in trial.items() if k != "trial"}
        settings = replace(base, **changes)
        # patience in proportion to the step: 40 rounds at the default 0.05
        settings = replace(settings, early_stopping_rounds=max(40, round(40 * 0.05 / settings.learning_rate)))
        t = time.perf_counter()
        booster = lgbm.fit(Xtr, train["label"], Xva, valid["label"], settings)
        fit_s = time.perf_counter() - t
        raw = lgbm.raw_score(booster, Xva)
        prob = 1.0 / (1.0 + np.exp(-raw))
        t = time.perf_counter()
        lgbm.contributions(booster, Xva)
        shap_s = time.perf_counter() - t
        lift = float(np.mean([top_decile_lift(yva[(valid["mi"] == m).to_numpy()], raw[(valid["mi"] == m).to_numpy()])
                              for m in split.valid]))
        rows.append({**trial, "trees": int(booster.best_iteration or booster.current_iteration()),
                     "valid_logloss": float(log_loss(yva, prob)), "valid_top_decile_lift": lift,
                     "shap_cost": shap_cost(booster, settings), "shap_s": round(shap_s, 2), "fit_s": round(fit_s, 1)})
        print(f"  {trial['trial']}: {changes or 'ModelSettings()'} -> {rows[-1]['trees']} trees, log loss "
              f"{rows[-1]['valid_logloss']:.5f}, lift {lift:.3f}, SHAP cost {rows[-1]['shap_cost']:,} ({time.time() - started:.0f} s)",
              flush=True)
    table = pd.DataFrame(rows)
    default = table.iloc[0]
    table["shap_cost_ratio"] = table["shap_cost"] / default["shap_cost"]
    table["in_budget"] = table["shap_cost_ratio"] <= args.budget
    eligible = table[table["in_budget"] & (table["valid_top_decile_lift"] >= default["valid_top_decile_lift"])]
    pick = eligible.sort_values(["valid_logloss"], kind="stable").iloc[0]
    print("\n| trial | leaves | depth | learning rate | tree cap | min leaf | L2 | feature fraction | trees | valid log loss | valid lift | SHAP cost x default |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for _, r in table.sort_values("valid_logloss", kind="stable").iterrows():
        s = replace(base, **{k: type(SPACE[k][0])(r[k]) for k in SPACE if k in r and pd.notna(r[k])})
        mark = " (pick)" if r["trial"] == pick["trial"] else ("" if r["in_budget"] else " (over budget)")
        print(f"| {r['trial']}{mark} | {s.num_leaves} | {s.max_depth} | {s.learning_rate} | {s.n_estimators} | {s.min_child_samples} | "
              f"{s.lambda_l2} | {s.feature_fraction} | {r['trees']} | {r['valid_logloss']:.5f} | {r['valid_top_decile_lift']:.3f} | "
              f"{r['shap_cost_ratio']:.1f} |")
    chosen = {k: type(SPACE[k][0])(pick[k]) for k in SPACE if k in pick and pd.notna(pick[k])}
    if chosen.get("learning_rate", base.learning_rate) != base.learning_rate:
        chosen["early_stopping_rounds"] = max(40, round(40 * 0.05 / chosen["learning_rate"]))
    print(f"\npick: {pick['trial']} {chosen or 'the default'}")
    report = {"data": {"groups": args.groups, "months": args.months, "seed": args.seed},
              "train_months": [format_month(m) for m in split.train], "valid_months": [format_month(m) for m in split.valid],
              "search_seed": args.search_seed, "budget": args.budget, "trials": json.loads(table.to_json(orient="records")),
              "pick": {"trial": pick["trial"], "settings": chosen}, "seconds": round(time.time() - started, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{args.out} ({report['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
