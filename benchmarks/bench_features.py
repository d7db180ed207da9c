"""How far the signal builder is from the floor: one DuckDB scan-and-aggregate of billing and usage.

    python benchmarks/bench_features.py [--groups 200000] [--months 12]

Generates a province-scale data set once into the git-ignored
``benchmarks/data/province-<groups>x<months>/`` with :func:`churnkit.simulate.simulate` (reused when
present), then measures, each in a fresh subprocess so that its peak RSS is its own:

* ``scan``: the floor, a single DuckDB query that reads billing and usage in place, joins them
  per line and month and aggregates per group and month (lines, spend, zero-call lines, calls);
* ``build``: validation and :func:`churnkit.signals.build.signals_of` for the last month (the engine data plane);
* ``panel``: the same for every month of the data (what training builds), unless ``--no-panel``.

Prints a small table with the ratio build_s / scan_s and writes ``benchmarks/results/features.json``
(git-ignored): ``groups``, ``months``, ``rows_per_table``, ``scan_s``, ``build_s``, ``ratio``,
``peak_rss_mb`` (of the build), plus the panel and the scan's own figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
RESULTS = HERE / "results"
DONE = "_complete.json"  # written last by the generator: a half-written set is generated again

SCAN_SQL = """
SELECT count(*) AS group_months, sum(lines) AS lines, sum(spend) AS spend, sum(zero_lines) AS zero_lines
FROM (
    SELECT b.group_id, b.month, count(*) AS lines, sum(b.charge) AS spend,
           sum(CASE WHEN coalesce(u.call_count, 0) = 0 THEN 1 ELSE 0 END) AS zero_lines,
           sum(coalesce(u.call_count, 0)) AS calls
    FROM read_parquet('{billing}') AS b
    LEFT JOIN read_parquet('{usage}') AS u ON b.member_id = u.member_id AND b.month = u.month
    GROUP BY b.group_id, b.month
)
"""


# --- the data set ------------------------------------------------------------------------------
def data_dir(groups: int, months: int) -> Path:
    return DATA / f"province-{groups}x{months}"


def ensure_data(groups: int, months: int, start: str, seed: int) -> Path:
    out = data_dir(groups, months)
    if (out / DONE).is_file():
        print(f"reusing {out.relative_to(ROOT)}", flush=True)
        return out
    print(f"generating {groups:,} groups x {months} months into {out.relative_to(ROOT)} (once) ...", flush=True)
    t = time.perf_counter()
    # in a subprocess, so that the generator's memory is not this process's
    code = ("import json, sys; from churnkit.simulate import simulate; "
            "r = simulate(sys.argv[1], groups=int(sys.argv[2]), months=int(sys.argv[3]), start=sys.argv[4], "
            "seed=int(sys.argv[5])); print(json.dumps(r.get('rows', {})))")
    subprocess.run([sys.executable, "-c", code, str(out), str(groups), str(months), start, str(seed)], check=True)
    (out / DONE).write_text(json.dumps({"groups": groups, "months": months, "start": start, "seed": seed,
                                        "seconds": round(time.perf_counter() - t, 1)}))
    print(f"generated in {time.perf_counter() - t:.0f} s", flush=True)
    return out


def source(root: Path, table: str) -> str:
    single = root / f"{table}.parquet"
    return str(single) if single.is_file() else str(root / table / "*.parquet")


def rows_per_table(root: Path) -> dict[str, int]:
    import pyarrow.parquet as pq

    rows = {}
    for table in ("groups", "billing", "usage", "addons", "complaints", "intel", "contracts", "churn"):
        single, folder = root / f"{table}.parquet", root / table
        files = [single] if single.is_file() else sorted(folder.glob("*.parquet")) if folder.is_dir() else []
        if files:
            rows[table] = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    return rows


def months_of(root: Path) -> list[int]:
    from churnkit.months import parse_month

    folder = root / "billing"
    if folder.is_dir():
        return sorted(parse_month(f.stem) for f in folder.glob("*.parquet"))
    import duckdb

    got = duckdb.sql(f"SELECT DISTINCT month FROM read_parquet('{source(root, 'billing')}')").fetchall()
    return sorted(parse_month(str(m)[:7]) for (m,) in got)


def warm_cache(root: Path) -> None:
    """Read every file once so that no measurement pays for the cold disk and the next does not."""
    for f in root.rglob("*.parquet"):
        with open(f, "rb") as fh:
            while fh.read(1 << 24):
                pass


# --- one measurement, run in a child process ----------------------------------------------------
def child(step: str, root: Path, threads: int | None, memory_limit: str | None) -> dict:
    import duckdb

    def configure(con):
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            con.execute(f"SET memory_limit = '{memory_limit}'")

    t = time.perf_counter()
    if step == "scan":
        con = duckdb.connect()
        configure(con)
        result = con.execute(SCAN_SQL.format(billing=source(root, "billing"), usage=source(root, "usage"))).fetchone()
        info = {"group_months": int(result[0]), "lines": int(result[1])}
    else:
        from churnkit.features import scoring_window
        from churnkit.signals.build import connect, signals_of
        from churnkit.validate import load_dataset

        con = connect("duckdb")
        configure(con.con)
        months = months_of(root)
        wanted = months[-1:] if step == "build" else months
        window = (scoring_window(wanted[0])[0], wanted[-1]) if step == "build" else None
        frame = signals_of(load_dataset(root, con=con, window=window), wanted)
        info = {"rows": len(frame), "months_built": len(wanted)}
    seconds = time.perf_counter() - t
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return {"step": step, "seconds": seconds, "peak_rss_mb": peak_kb / 1024, **info}


def measure(step: str, root: Path, args) -> dict:
    """Run ``step`` in a fresh interpreter; its own peak RSS comes back with its wall time."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", step, "--data-dir", str(root)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.memory_limit:
        cmd += ["--memory-limit", args.memory_limit]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    runs = []
    for _ in range(args.repeat):
        done = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["seconds"])
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    print(f"  {step:<6} {best['seconds']:8.2f} s  {best['peak_rss_mb']:8.0f} MB", flush=True)
    return best


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--groups", type=int, default=200_000)
    p.add_argument("--months", type=int, default=12)
    p.add_argument("--start", default="2025-01")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data-dir", type=Path, help="measure this parquet data directory instead of generating one")
    p.add_argument("--no-panel", action="store_true", help="skip the all-months panel build")
    p.add_argument("--repeat", type=int, default=1, help="runs per step (best wall time, highest peak RSS)")
    p.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    p.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 1GB (default: DuckDB's own, 80%% of RAM)")
    p.add_argument("--out", type=Path, default=RESULTS / "features.json")
    p.add_argument("--child", choices=("scan", "build", "panel"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        print(json.dumps(child(args.child, args.data_dir, args.threads, args.memory_limit)))
        return 0

    root = args.data_dir or ensure_data(args.groups, args.months, args.start, args.seed)
    rows = rows_per_table(root)
    months = months_of(root)
    groups = rows.get("groups", args.groups)
    warm_cache(root)
    print(f"{groups:,} groups x {len(months)} months; billing {rows.get('billing', 0):,} rows, "
          f"usage {rows.get('usage', 0):,} rows", flush=True)
    scan = measure("scan", root, args)
    build = measure("build", root, args)
    panel = None if args.no_panel else measure("panel", root, args)

    ratio = build["seconds"] / scan["seconds"]
    print()
    print(f"{'step':<28}{'wall s':>10}{'peak RSS MB':>14}{'x scan':>9}")
    table = [("scan (floor: one DuckDB query)", scan), ("build (last month)", build)]
    if panel:
        table.append((f"panel ({len(months)} months)", panel))
    for label, r in table:
        print(f"{label:<28}{r['seconds']:>10.2f}{r['peak_rss_mb']:>14.0f}{r['seconds'] / scan['seconds']:>9.2f}")

    result = {
        "groups": groups,
        "months": len(months),
        "rows_per_table": rows,
        "scan_s": round(scan["seconds"], 3),
        "build_s": round(build["seconds"], 3),
        "ratio": round(ratio, 3),
        "peak_rss_mb": round(build["peak_rss_mb"], 1),
        "scan_peak_rss_mb": round(scan["peak_rss_mb"], 1),
        "panel_s": None if panel is None else round(panel["seconds"], 3),
        "panel_peak_rss_mb": None if panel is None else round(panel["peak_rss_mb"], 1),
        "panel_ratio": None if panel is None else round(panel["seconds"] / scan["seconds"], 3),
        "scored_groups_last_month": build["rows"],
        "threads": args.threads, "memory_limit": args.memory_limit, "repeat": args.repeat,
        "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "data_dir": str(root),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
