"""Ablation of candidate signals on held-out months, before any of them enters the catalogue.

    .venv/bin/python benchmarks/eval_signals.py [--groups 10000] [--months 30] [--seed 2027] [--scoring 6]

The simulated operator of eval_refit.py (same seed, same cached panel). The candidates are
computed here in pandas from the raw tables, point in time (month M reads months <= M only):

* ``spend_slope_6m``, ``lines_slope_6m``, ``minutes_slope_6m``: least-squares slope over M-5..M
  of spend, active lines and minutes per line, over their mean (share per month);
* ``silent_lines_share``: lines with calls in M-1 and none in M, over active lines;
* ``lines_added``: lines billed in M and not in M-1;
* ``usage_fell_share``: lines billed in M-1 and M whose minutes fell by half or more;
* ``offnet_forwarding_repeat``: lines forwarding off-net in at least 2 of M-2..M (the data hold no
  forwarded-to number, so "the same number" is approximated by the same line again);
* ``renewals``: agreements the group started before M, minus one.

For each of the last ``--scoring`` usable months S: the pipeline of ``churnkit train`` as known at
S (fit on the training months, early stop on the validation months, refit on every known month
with those trees), once with today's signals and once with each candidate added, then all
together, and with a column of pure noise (twice) to show how far chance alone moves the
figures. Reported: mean top-decile lift and ROC AUC over the months, and the pooled log loss of
the refit's score calibrated by Platt on the validation months.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from eval_refit import panel_of, simulated

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "eval_signals.json"
CANDIDATES = ("spend_slope_6m", "lines_slope_6m", "minutes_slope_6m", "silent_lines_share", "lines_added",
              "usage_fell_share", "offnet_forwarding_repeat", "renewals")


def _slope(wide: pd.DataFrame) -> pd.Series:
    """Least-squares slope over the columns (months -5..0) divided by the row mean; NaN with < 4 values."""
    x = np.arange(wide.shape[1], dtype=float)
    v = wide.to_numpy(dtype=float)
    ok = ~np.isnan(v)
    n = ok.sum(axis=1)
    xm = np.where(ok, x, 0).sum(axis=1) / np.maximum(n, 1)
    vm = np.where(ok, v, 0).sum(axis=1) / np.maximum(n, 1)
    cov = np.where(ok, (x - xm[:, None]) * (np.nan_to_num(v) - vm[:, None]), 0).sum(axis=1)
    var = np.where(ok, (x - xm[:, None]) ** 2, 0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where((n >= 4) & (var > 0) & (vm != 0), cov / var / np.abs(vm), np.nan)
    return pd.Series(slope, index=wide.index)


def candidates(data: Path, panel: pd.DataFrame) -> pd.DataFrame:
    """The candidate columns for every (group_id, mi) of the panel."""
    from churnkit.months import parse_month

    billing = pd.read_parquet(data / "billing", columns=["month", "group_id", "member_id", "charge"])
    usage = pd.read_parquet(data / "usage", columns=["month", "member_id", "call_count", "call_minutes", "forwarded_offnet_calls"])
    lines = billing.merge(usage, on=["month", "member_id"], how="left")
    lines["mi"] = lines["month"].map({m: parse_month(m) for m in lines["month"].unique()})
    lines = lines.drop(columns="month").fillna({"call_count": 0, "call_minutes": 0, "forwarded_offnet_calls": 0})
    monthly = lines.groupby(["group_id", "mi"]).agg(spend=("charge", "sum"), active=("member_id", "size"),
                                                    minutes=("call_minutes", "sum"))
    monthly["mpl"] = monthly["minutes"] / monthly["active"]
    keys = panel[["group_id", "mi"]].drop_duplicates()
    out = keys.set_index(["group_id", "mi"])
    for col, name in (("spend", "spend_slope_6m"), ("active", "lines_slope_6m"), ("mpl", "minutes_slope_6m")):
        wide = pd.concat({k: monthly[col].rename(index=lambda m: m + k, level="mi") for k in range(5, -1, -1)}, axis=1)
        out[name] = _slope(wide.reindex(out.index))
    prev = lines[["group_id", "member_id", "mi", "call_count", "call_minutes"]].assign(mi=lambda f: f["mi"] + 1)
    both = lines.merge(prev, on=["group_id", "member_id", "mi"], how="left", suffixes=("", "_prev"), indicator=True)
    had = both["_merge"] == "both"
    both["silent"] = had & (both["call_count_prev"] > 0) & (both["call_count"] == 0)
    both["fell"] = had & (both["call_minutes_prev"] > 0) & (both["call_minutes"] <= 0.5 * both["call_minutes_prev"])
    both["added"] = ~had
    g = both.groupby(["group_id", "mi"]).agg(silent=("silent", "sum"), fell=("fell", "sum"), added=("added", "sum"),
                                             active=("member_id", "size"))
    g = g.reindex(out.index)
    out["silent_lines_share"] = g["silent"] / g["active"]
    out["lines_added"] = g["added"]
    out["usage_fell_share"] = g["fell"] / g["active"]
    fwd = lines.loc[lines["forwarded_offnet_calls"] > 0, ["group_id", "member_id", "mi"]]
    window = pd.concat([fwd.assign(mi=fwd["mi"] + k) for k in range(3)])
    per_line = window.groupby(["group_id", "member_id", "mi"]).size()
    out["offnet_forwarding_repeat"] = (per_line[per_line >= 2].groupby(["group_id", "mi"]).size()
                                       .reindex(out.index).fillna(0))
    contracts = pd.read_parquet(data / "contracts.parquet")
    starts = contracts.assign(smi=pd.to_datetime(contracts["start"]).dt.year * 12 + pd.to_datetime(contracts["start"]).dt.month - 1)
    merged = keys.merge(starts[["group_id", "smi"]], on="group_id", how="left")
    merged["before"] = merged["smi"] <= merged["mi"]
    out["renewals"] = (merged.groupby(["group_id", "mi"])["before"].sum() - 1).clip(lower=0).reindex(out.index)
    return out.reset_index()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--scoring", type=int, default=6)
    parser.add_argument("--horizon", type=int, default=3)
    parser.add_argument("--only", help="comma-separated variant names to run (default: all)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from sklearn.metrics import log_loss

    from churnkit.model import lgbm
    from churnkit.model.metrics import roc_auc, top_decile_lift
    from churnkit.model.split import out_of_time_split
    from churnkit.model.train import fit_calibrated, model_features
    from churnkit.months import format_month

    started = time.time()
    data = simulated(args.groups, args.months, args.seed)
    H = args.horizon
    panel = panel_of(data, H)
    panel = panel.merge(candidates(data, panel), on=["group_id", "mi"], how="left", validate="one_to_one")
    print(f"candidates built ({time.time() - started:.0f} s)", flush=True)
    base, categorical = model_features(panel)
    usable = sorted(int(m) for m in panel["mi"].unique())
    scoring = usable[-args.scoring:]
    # noise columns: how much lift and AUC move when a signal carries no information at all
    rng = np.random.default_rng(args.seed)
    panel["noise_1"], panel["noise_2"] = rng.normal(size=len(panel)), rng.normal(size=len(panel))
    variants = {"today": base, **{f"+{c}": [*base, c] for c in CANDIDATES}, "+all": [*base, *CANDIDATES],
                "+noise_1": [*base, "noise_1"], "+noise_2": [*base, "noise_2"]}
    if args.only:
        variants = {k: v for k, v in variants.items() if k in args.only.split(",")}
    settings = lgbm.ModelSettings()
    rows = []
    for name, features in variants.items():
        ys, ps = [], []
        for S in scoring:
            known_months = [m for m in usable if m + H <= S]
            split = out_of_time_split(known_months, H)
            part = {n: panel[panel["mi"].isin(getattr(split, n))] for n in ("train", "valid")}
            known, scored = panel[panel["mi"].isin(known_months)], panel[panel["mi"] == S]
            fitted = fit_calibrated(part["train"], part["valid"], "label", features, categorical, settings, "platt")
            trees = int(fitted.booster.best_iteration or fitted.booster.current_iteration())
            levels = lgbm.category_levels(known, categorical)
            booster = lgbm.fit_rounds(lgbm.matrix(known, features, levels), known["label"], settings, trees)
            raw = lgbm.raw_score(booster, lgbm.matrix(scored, features, levels))
            y = scored["label"].to_numpy()
            rows.append({"variant": name, "month": format_month(S), "lift": top_decile_lift(y, raw), "auc": roc_auc(y, raw)})
            ys.append(y)
            ps.append(fitted.calibrator(raw))
        rows[-1]["log_loss_pooled"] = float(log_loss(np.concatenate(ys), np.clip(np.concatenate(ps), 1e-9, 1 - 1e-9)))
        print(f"  {name}: lift {np.mean([r['lift'] for r in rows[-len(scoring):]]):.3f} ({time.time() - started:.0f} s)", flush=True)
    table = pd.DataFrame(rows)
    summary = table.groupby("variant", sort=False).agg(lift=("lift", "mean"), auc=("auc", "mean"),
                                                       log_loss=("log_loss_pooled", "max"))
    ref = summary.loc["today"] if "today" in summary.index else summary.iloc[0]
    print("\n| signals | top-decile lift | d lift | ROC AUC | d AUC | log loss |\n|---|---|---|---|---|---|")
    for name, r in summary.iterrows():
        print(f"| {name} | {r['lift']:.3f} | {r['lift'] - ref['lift']:+.3f} | {r['auc']:.4f} | {r['auc'] - ref['auc']:+.4f} | {r['log_loss']:.4f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"scoring_months": [format_month(m) for m in scoring], "by_month": rows,
                                    "summary": summary.reset_index().to_dict(orient="records"),
                                    "seconds": round(time.time() - started, 1)}, indent=2, default=float) + "\n")
    print(f"\n{args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
