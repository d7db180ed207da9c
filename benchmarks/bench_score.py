"""Benchmark of the monthly scoring job and of the model capacity / SHAP cost trade-off.

    python benchmarks/bench_score.py [--data DIR] [--groups 200000] [--months 12]

1. Capacity: trains LightGBM at four capacities (each early-stopped on the validation months) on the committed sample (out of time), and
   times exact TreeSHAP (pred_contrib) for the scoring month of the province-scale set with
   each; reports test ROC AUC, top-decile lift and SHAP time as a ratio to the default capacity.
2. Scoring: runs ``churnkit.score.score`` on the province-scale set's last month with the
   default model, timing each step, and reports the SHAP step against plain prediction (the
   reference measured in the same run).

Figures go to stdout and ``benchmarks/results/score.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def province_dir(groups: int, months: int) -> Path:
    """The province-scale set of `make bench-features`, generated once (same folder, same seed)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_features import ensure_data

    return ensure_data(groups, months, start="2025-01", seed=1)


def capacity_table(sample, province_features):
    from churnkit.features import month_indexes, training_panel, usable_months
    from churnkit.model import lgbm
    from churnkit.model.evaluation import compare
    from churnkit.model.split import out_of_time_split
    from churnkit.model.train import fit_calibrated, model_features
    from churnkit.months import parse_month

    panel = training_panel(sample, 3)
    split = out_of_time_split(usable_months(month_indexes(sample), 3), 3)
    mi = panel["month"].map(parse_month)
    train, valid, test = (panel[mi.isin(getattr(split, k))] for k in ("train", "valid", "test"))
    features, categorical = model_features(panel)
    default = lgbm.ModelSettings()
    rows = []
    for name, settings in (
        ("default: 7 leaves, depth 3", default),
        ("15 leaves, depth 5", replace(default, num_leaves=15, max_depth=5)),
        ("31 leaves, depth 6", replace(default, num_leaves=31, max_depth=6)),
        ("63 leaves, no depth cap", replace(default, num_leaves=63, max_depth=-1)),
    ):
        fitted = fit_calibrated(train, valid, "label", features, categorical, settings)
        metrics = compare(test, test["label"].to_numpy(), fitted.predict_proba(test), n_boot=50)["model"]
        X = lgbm.matrix(province_features, features, fitted.levels)
        t = time.perf_counter()
        lgbm.contributions(fitted.booster, X)
        shap_s = time.perf_counter() - t
        rows.append({"capacity": name, "trees (early stopped)": fitted.booster.best_iteration or fitted.booster.current_iteration(),
                     "test_roc_auc": round(metrics["roc_auc"], 4), "test_top_decile_lift": round(metrics["top_decile_lift"], 3),
                     "shap_s": round(shap_s, 2), "rows": len(X)})
    ref = next(r["shap_s"] for r in rows if r["capacity"].startswith("default"))
    for row in rows:
        row["shap_ratio_to_default"] = round(row["shap_s"] / ref, 2)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--groups", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args(argv)

    from churnkit.features import build_features
    from churnkit.model import lgbm
    from churnkit.model.train import train
    from churnkit.months import parse_month
    from churnkit.score import score
    from churnkit.validate import load_dataset

    data = args.data or province_dir(args.groups, args.months)
    sample = load_dataset(ROOT / "data" / "sample")
    work = Path(tempfile.mkdtemp(prefix="churnkit-bench-"))
    bundle_path = train(sample, out=work / "model", track=False, n_boot=20).bundle

    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from churnkit.features import scoring_window

    billing = data / "billing" if (data / "billing").is_dir() else data / "billing.parquet"
    month = parse_month(str(pc.max(pq.read_table(billing, columns=["month"])["month"]))[:7])
    marks = [("start", time.perf_counter())]
    dataset = load_dataset(data, window=scoring_window(month))  # what `churnkit score --month` loads
    marks.append(("load and validate", time.perf_counter()))
    steps = []
    result = score(dataset, month, bundle_path, work / "scored.csv", progress=lambda m: steps.append((m, time.perf_counter())))
    marks.append(("score (after load)", time.perf_counter()))
    timings = {"load_validate_s": marks[1][1] - marks[0][1], "score_s": marks[2][1] - marks[1][1]}
    names = [s[0] for s in steps] + ["done"]
    stamps = [s[1] for s in steps] + [marks[2][1]]
    for i in range(len(steps)):
        timings[f"step: {names[i]}"] = stamps[i + 1] - stamps[i]

    from churnkit.model.bundle import load_bundle

    bundle = load_bundle(bundle_path)
    feats = build_features(dataset, [month])
    X = lgbm.matrix(feats, bundle.features, bundle.levels)
    t = time.perf_counter()
    lgbm.raw_score(bundle.booster, X)
    predict_s = time.perf_counter() - t
    t = time.perf_counter()
    lgbm.contributions(bundle.booster, X)
    shap_s = time.perf_counter() - t
    capacity = capacity_table(sample, feats)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    report = {"groups_scored": int(result.summary["scored"]), "groups_excluded": int(result.summary["excluded"]),
              **{k: round(v, 2) for k, v in timings.items()}, "predict_s": round(predict_s, 3), "shap_s": round(shap_s, 2),
              "shap_to_predict_ratio": round(shap_s / predict_s, 1), "trees": bundle.booster.num_trees(),
              "peak_rss_mb": round(peak_mb), "capacity": capacity}
    print(f"scoring {data.name}, month {dataset.months[-1]}: {report['groups_scored']:,} scored, {report['groups_excluded']:,} excluded")
    for key, value in report.items():
        if key != "capacity" and not key.startswith("groups"):
            print(f"  {key:40s} {value}")
    print("capacity (trained on data/sample out of time; SHAP timed on the province month):")
    for row in capacity:
        print("  " + ", ".join(f"{k} {v}" for k, v in row.items()))
    out = ROOT / "benchmarks" / "results" / "score.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
