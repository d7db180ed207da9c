"""How often the first reason names the true cause, on the simulator's truth.

    python benchmarks/reasons_truth.py [--data data/sample]

Trains on the data set (out of time, as `churnkit train`), then scores each of the last
test-like months M whose horizon is inside the data. Among the groups that truly churn in
(M, M + 3] and are in the top risk decile, and whose churn came with warning signals
(`_truth/causes.parquet`, `warned`), it counts how often `reason_1` (and any of reason_1..3)
is one of the families that truly explain the cause (`matching_families`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--months", type=int, default=4, help="number of scoring months to pool")
    args = parser.parse_args(argv)

    from churnkit.months import format_month, parse_month
    from churnkit.model.train import train
    from churnkit.score import score
    from churnkit.validate import load_dataset

    dataset = load_dataset(args.data)
    truth = pd.read_parquet(args.data / "_truth" / "causes.parquet")
    work = Path(tempfile.mkdtemp(prefix="churnkit-truth-"))
    # the evaluated model, not the refit: the scoring months below are usable months, which the
    # refit learns from (they would be in-sample); the evaluated model never learned from them
    result = train(dataset, out=work / "model", track=False, n_boot=20, refit=False)
    last = parse_month(dataset.months[-1])
    months = [m for m in range(last - 3 - args.months + 1, last - 3 + 1)]
    rows = []
    for month in months:
        scored = score(dataset, month, result.bundle, work / f"scored-{format_month(month)}.csv").scored
        joined = scored.merge(truth, on="group_id", how="inner")
        churn_mi = joined["churn_month"].map(parse_month)
        joined = joined[(churn_mi > month) & (churn_mi <= month + 3)]
        rows.append(joined.assign(scoring_month=format_month(month)))
    pooled = pd.concat(rows, ignore_index=True)
    top = pooled[(pooled["risk_decile"] == 1) & pooled["warned"]]
    fams = top["matching_families"].str.split(";")
    first = [r in f for r, f in zip(top["reason_1"], fams)]
    any3 = [bool({a, b, c} & set(f)) for a, b, c, f in zip(top["reason_1"], top["reason_2"], top["reason_3"], fams)]
    report = {
        "scoring_months": [format_month(m) for m in months],
        "true_churners_scored": int(len(pooled)),
        "true_churners_top_decile": int((pooled["risk_decile"] == 1).sum()),
        "warned_churners_top_decile": int(len(top)),
        "reason_1_matches_cause": round(float(pd.Series(first).mean()), 3) if len(top) else None,
        "any_reason_matches_cause": round(float(pd.Series(any3).mean()), 3) if len(top) else None,
        "by_cause": {cause: round(float(pd.Series(first)[(top["cause"] == cause).to_numpy()].mean()), 3)
                     for cause in sorted(top["cause"].unique())},
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    out = ROOT / "benchmarks" / "results" / "reasons_truth.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
