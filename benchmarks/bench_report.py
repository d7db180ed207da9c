"""Benchmark of `churnkit report` at province scale, against `churnkit score` in the same run.

    python benchmarks/bench_report.py [--data DIR] [--groups 200000] [--months 12]

Trains the default model on the committed sample, then on the province-scale set of
`make bench-features` (200,000 groups x 12 months) times, for its last month:

1. the reference: ``churnkit score`` (load of M-6..M and validation, then scoring with SHAP);
2. ``churnkit report`` reusing that scored file: load of its window and validation, then each
   step (signals for the backtest months and M, churn rates, backtest, drift, writing).

Each process's peak RSS is measured in a child process of its own. Figures go to stdout and
``benchmarks/results/report.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _job(kind: str, data: Path, month: int, bundle: Path, work: Path, queue) -> None:
    from churnkit.validate import load_dataset

    marks = {}
    t0 = time.perf_counter()
    if kind == "score":
        from churnkit.features import scoring_window
        from churnkit.score import score

        dataset = load_dataset(data, window=scoring_window(month))
        marks["load_validate_s"] = time.perf_counter() - t0
        steps = []
        score(dataset, month, bundle, work / "scored.csv", progress=lambda m: steps.append((m, time.perf_counter())))
    else:
        from churnkit.model.bundle import load_bundle
        from churnkit.report.build import data_window, report

        dataset = load_dataset(data, window=data_window(month, load_bundle(bundle).horizon))
        marks["load_validate_s"] = time.perf_counter() - t0
        steps = []
        report(dataset, month, bundle, work / "report.html", scored=work / "scored.csv",
               progress=lambda m: steps.append((m, time.perf_counter())))
    end = time.perf_counter()
    stamps = [s[1] for s in steps] + [end]
    for i, (name, _) in enumerate(steps):
        marks[f"step: {name}"] = stamps[i + 1] - stamps[i]
    marks["after_load_s"] = end - t0 - marks["load_validate_s"]
    marks["total_s"] = end - t0
    marks["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(marks)


def measure(kind: str, *args) -> dict:
    """Run one job in a fresh process (spawned: OpenMP threads of this one do not survive a fork)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_job, args=(kind, *args, queue))
    proc.start()
    while True:
        try:
            result = queue.get(timeout=5)
            break
        except Exception:  # queue.Empty: still running, unless the child died
            if not proc.is_alive():
                raise SystemExit(f"the {kind} job died (exit code {proc.exitcode})") from None
    proc.join()
    return {k: round(v, 2) for k, v in result.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--groups", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_score import province_dir

    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from churnkit.model.train import train
    from churnkit.months import parse_month
    from churnkit.validate import load_dataset

    data = args.data or province_dir(args.groups, args.months)
    work = Path(tempfile.mkdtemp(prefix="churnkit-bench-report-"))
    bundle = train(load_dataset(ROOT / "data" / "sample"), out=work / "model", track=False, n_boot=20).bundle
    billing = data / "billing" if (data / "billing").is_dir() else data / "billing.parquet"
    month = parse_month(str(pc.max(pq.read_table(billing, columns=["month"])["month"]))[:7])
    score = measure("score", data, month, bundle, work)
    rep = measure("report", data, month, bundle, work)
    figures = json.loads((work / "report.json").read_text(encoding="utf-8"))
    result = {"data": data.name, "groups_scored": figures["risk"]["scored"], "backtest_months": len(figures["backtest"]),
              "score": score, "report": rep, "report_to_score_ratio": round(rep["total_s"] / score["total_s"], 2),
              "report_after_load_to_score_after_load_ratio": round(rep["after_load_s"] / score["after_load_s"], 2),
              "html_mb": round((work / "report.html").stat().st_size / 2**20, 2)}
    print(f"report on {data.name}: {result['groups_scored']:,} groups scored, {result['backtest_months']} months backtested")
    for name, part in (("churnkit score (reference)", score), ("churnkit report --scored", rep)):
        print(f"  {name}:")
        for key, value in part.items():
            print(f"    {key:40s} {value}")
    for key in ("report_to_score_ratio", "report_after_load_to_score_after_load_ratio", "html_mb"):
        print(f"  {key:42s} {result[key]}")
    out = ROOT / "benchmarks" / "results" / "report.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
