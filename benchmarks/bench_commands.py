"""Every monthly command, run as a user runs it, against one DuckDB scan-and-aggregate.

    python benchmarks/bench_commands.py [--groups 200000] [--months 12] [--steps validate,features,train,score,report]

Generates the data set once into the git-ignored ``benchmarks/data/province-<groups>x<months>/``
(see bench_features.py), then runs, each as a fresh process whose peak RSS is its own, with the scan measured again after every step:

* ``scan``: the reference, one DuckDB query reading billing and usage in place, joined per line
  and month and aggregated per group and month (bench_features.SCAN_SQL);
* ``churnkit validate DATA``, ``churnkit features --month M``, ``churnkit train``,
  ``churnkit score --month M`` and ``churnkit report --month M --scored ...`` with their default
  settings (DuckDB memory limit 1GB, spill to the system's temporary folder).

With ``--scans ends`` (the province benchmark) the scan runs only before the first step and after
the last, and every step is set against their mean.

Writes ``benchmarks/results/commands-<groups>.json``: per step its wall seconds, peak RSS in MB and
its ratio to the scan measured in the same run (the report's also to the score job), plus the
goals of the province-scale issue and whether each was met. The machine is shared and noisy:
read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_features import RESULTS, ROOT, SCAN_SQL, ensure_data, months_of, source, warm_cache  # noqa: E402

CK = [sys.executable, "-m", "churnkit.cli"]
GOALS = {  # (ratio to the scan, peak RSS in MB) at 200,000 groups; the report's ratio is to the score job
    "features": (1.5, 1536), "score": (10.0, 2048), "validate": (3.0, 2048), "report": (2.0, 2048), "train": (None, 4096),
}
PROVINCE_RSS_MB = 8192


def measured(cmd: list[str]) -> dict:
    """Run ``cmd`` from a fresh wrapper process; its wall time and peak RSS."""
    code = ("import json, resource, subprocess, sys, time; t = time.perf_counter(); "
            "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "print(json.dumps({'rc': r.returncode, 'wall_s': time.perf_counter() - t, "
            "'peak_rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "
            "'tail': (r.stdout + r.stderr)[-600:]}))")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise SystemExit(f"{' '.join(cmd[2:])} failed ({result['rc']}):\n{result['tail']}")
    return result


def scan_cmd(root: Path) -> list[str]:
    sql = SCAN_SQL.format(billing=source(root, "billing"), usage=source(root, "usage"))
    return [sys.executable, "-c", f"import duckdb; print(duckdb.sql({sql!r}).fetchall())"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--start", default="2025-11")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--steps", default="validate,features,train,score,report")
    parser.add_argument("--scans", choices=["around", "ends"], default="around",
                        help="scan after every step (each step against the two scans around it) or only before the "
                             "first and after the last (each step against their mean: a province's scans take minutes)")
    args = parser.parse_args()
    root = ensure_data(args.groups, args.months, args.start, args.seed)
    from churnkit.months import format_month

    month = format_month(months_of(root)[-1])
    work = HERE / "data" / f"work-{args.groups}"
    work.mkdir(parents=True, exist_ok=True)
    model, scored = work / "model", work / "scored.csv"
    commands = {
        "validate": ["validate", root],
        "features": ["features", "--data", root, "--month", month, "--no-store", "--out", work / "features.parquet"],
        # 12 months leave too few labelled months for a 3-month horizon's split: the benchmark trains on H = 1
        "train": ["train", "--data", root, "--out", model, "--no-track", "--horizon", "1"],
        "score": ["score", "--data", root, "--month", month, "--model", model, "--out", scored],
        "report": ["report", "--data", root, "--month", month, "--model", model, "--scored", scored, "--out", work / "report.html"],
    }
    warm_cache(root)
    # the scan is measured before and after every step, and each step is set against the mean of
    # the two around it: on a shared machine the load drifts during a run of many minutes
    scans = [measured(scan_cmd(root))]
    figures = {"scan": scans[0]}
    around = {}
    print(f"scan: {scans[0]['wall_s']:.1f} s, {scans[0]['peak_rss_mb']:.0f} MB", flush=True)
    steps = args.steps.split(",")
    for i, step in enumerate(steps):
        figures[step] = measured([*CK, *map(str, commands[step])])
        print(f"{step}: {figures[step]['wall_s']:.1f} s, {figures[step]['peak_rss_mb']:.0f} MB", flush=True)
        if args.scans == "around" or i == len(steps) - 1:
            scans.append(measured(scan_cmd(root)))
            print(f"scan: {scans[-1]['wall_s']:.1f} s", flush=True)
        if args.scans == "around":
            around[step] = (scans[-2]["wall_s"] + scans[-1]["wall_s"]) / 2
    if args.scans == "ends":
        around = dict.fromkeys(steps, (scans[0]["wall_s"] + scans[-1]["wall_s"]) / 2)
    scan_s = sum(s["wall_s"] for s in scans) / len(scans)
    results = {"groups": args.groups, "months": args.months, "scans": args.scans, "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
               "scan_s": round(scan_s, 2), "steps": {}}
    for step, fig in figures.items():
        if step == "scan":
            continue
        ratio = fig["wall_s"] / around[step]
        entry = {"wall_s": round(fig["wall_s"], 2), "peak_rss_mb": round(fig["peak_rss_mb"]), "scan_s_around": round(around[step], 2),
                 "ratio_to_scan": round(ratio, 2)}
        goal_ratio, goal_rss = GOALS.get(step, (None, None))
        if step == "report" and "score" in figures:
            entry["ratio_to_score"] = round(fig["wall_s"] / figures["score"]["wall_s"], 2)
            ratio = entry["ratio_to_score"]
        if args.groups >= 1_000_000:
            goal_ratio, goal_rss = None, PROVINCE_RSS_MB
        entry["goal"] = {"ratio": goal_ratio, "peak_rss_mb": goal_rss,
                         "met": (goal_ratio is None or ratio <= goal_ratio) and (goal_rss is None or fig["peak_rss_mb"] <= goal_rss)}
        results["steps"][step] = entry
    results["scan_peak_rss_mb"] = round(max(s["peak_rss_mb"] for s in scans))
    results["scan_s_all"] = [round(s["wall_s"], 2) for s in scans]
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"commands-{args.groups}.json"
    path.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
