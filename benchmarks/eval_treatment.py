"""Treatment-aware training measured on the simulator: naive retrain, contacted rows left out, or flagged.

    .venv/bin/python benchmarks/eval_treatment.py [--groups 2000] [--months 24] [--seeds 11,12,13] [--every 1]

For each seed, the same simulated world twice (same groups, same files up to the first wave):
without campaigns (``churnkit.simulate.simulate``) and with a retention wave every ``--every``
months (``churnkit.simulate.campaigns``, true effects in ``_truth/``). On each, the training
panel and churnkit's out-of-time split (train / validation / test months); every model is fitted
on the training months and calibrated on the validation months as ``churnkit train`` does:

* ``before``: the world without campaigns (what the model would be had nobody acted on the list);
* ``naive``: the campaign world, every row (``--treatment ignore``);
* ``holdout``: the campaign world without the treated groups' snapshots near a wave, the holdout
  weighted 1 / (1 - e) (``model/treatment.py``, the default);
* ``exclude``: the same without the weights;
* ``feature``: the campaign world with a 0/1 ``contacted`` column, predicted as untreated.

Judged on the campaign world: the Brier score and mean predicted against realised churn of the
holdout groups of the waves planned in the test and validation months (their outcome is what
happens without contact), and the mean predicted risk of the groups the contacts saved (truth),
at their wave month (waves of the validation and test months only: no model learned from them). Printed and written to ``benchmarks/results/eval_treatment.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "eval_treatment.json"


def worlds(root: Path, groups: int, months: int, seed: int, every: int) -> tuple[Path, Path]:
    from churnkit.simulate import simulate
    from churnkit.simulate.campaigns import simulate_campaigns

    plain, camp = root / f"plain-{seed}", root / f"camp-{seed}-{every}"
    if not (plain / "churn.parquet").exists():
        simulate(plain, groups=groups, months=months, start="2024-01", seed=seed)
    if not (camp / "retention.parquet").exists():
        simulate_campaigns(camp, groups=groups, months=months, start="2024-01", seed=seed, every=every)
    return plain, camp


def measure(plain: Path, camp: Path, horizon: int = 3) -> dict:
    from churnkit.campaign.table import read_retention
    from churnkit.features import month_indexes, training_panel, usable_months
    from churnkit.model import lgbm
    from churnkit.model.split import out_of_time_split
    from churnkit.model.train import fit_calibrated, model_features
    from churnkit.model.lgbm import UNTREATED as CONTACTED
    from churnkit.model.treatment import treatment_aware
    from churnkit.months import parse_month
    from churnkit.validate import load_dataset

    settings = lgbm.ModelSettings(threads=1)
    data = {k: load_dataset(p) for k, p in (("plain", plain), ("camp", camp))}
    split = out_of_time_split(usable_months(month_indexes(data["camp"]), horizon), horizon)
    panels = {k: training_panel(d, horizon) for k, d in data.items()}
    retention = read_retention(camp)
    variants = {"before": panels["plain"], "naive": panels["camp"],
                **{mode: treatment_aware(panels["camp"], retention, horizon, mode)[0] for mode in ("holdout", "exclude", "feature")},
                "holdout-window": treatment_aware(panels["camp"], retention, horizon, "holdout", after=0)[0]}
    camp_panel = panels["camp"].assign(mi=panels["camp"]["month"].map(parse_month))
    held = retention[retention["assignment"] == "holdout"].assign(mi=lambda r: r["wave"].map(parse_month))
    judged = camp_panel.merge(held[["group_id", "mi"]], on=["group_id", "mi"])
    judged = judged[judged["mi"].isin(split.valid + split.test)]
    truth = pd.read_parquet(camp / "_truth" / "campaigns.parquet")
    saved = truth[truth["saved"]].assign(mi=lambda r: r["wave"].map(parse_month))
    saved_rows = camp_panel.merge(saved[["group_id", "mi"]], on=["group_id", "mi"])
    saved_rows = saved_rows[saved_rows["mi"].isin(split.valid + split.test)]  # out of every model's training months
    out = {"holdout_rows": int(len(judged)), "holdout_churn": float(judged["label"].mean()), "saved_rows": int(len(saved_rows))}
    for name, panel in variants.items():
        mi = panel["month"].map(parse_month)
        features, categorical = model_features(panel)
        if CONTACTED in panel.columns:
            features = [*features, CONTACTED]
        fitted = fit_calibrated(panel[mi.isin(split.train)], panel[mi.isin(split.valid)], "label", features, categorical, settings)
        score = lambda f: fitted.predict_proba(f.assign(**{CONTACTED: 0}) if CONTACTED in features else f)  # noqa: E731
        p = score(judged)
        out[name] = {"brier_holdout": float(np.mean((p - judged["label"].to_numpy()) ** 2)), "predicted_holdout": float(p.mean()),
                     "predicted_saved": float(score(saved_rows).mean()) if len(saved_rows) else None,
                     "training_rows": int(mi.isin(split.train).sum())}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seeds", default="11,12,13")
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--root", type=Path, default=Path("/tmp/churnkit-eval-treatment"))
    args = parser.parse_args(argv)
    results = []
    for seed in (int(s) for s in args.seeds.split(",")):
        got = {"seed": seed, **measure(*worlds(args.root, args.groups, args.months, seed, args.every))}
        results.append(got)
        print(f"seed {seed}: {got['holdout_rows']} holdout rows, churn {got['holdout_churn']:.4f}; {got['saved_rows']} saved groups")
        for name in ("before", "naive", "holdout", "holdout-window", "exclude", "feature"):
            r = got[name]
            print(f"  {name:8s} Brier {r['brier_holdout']:.5f}  predicted holdout {r['predicted_holdout']:.4f}  "
                  f"predicted saved {r['predicted_saved']:.4f}  training rows {r['training_rows']}", flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
