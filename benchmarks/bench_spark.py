"""The monthly job on a Spark cluster at province scale: wall time per step, the driver's peak
memory and the throughput per executor core (README, "Beyond one machine").

Runs ``churnkit.spark`` on the 200,000-group x 12-month simulation (generated once into
benchmarks/data/, as the other benchmarks do) on Spark's ``local-cluster`` mode: a master and
``--executors`` worker processes with one executor each, started from the pip ``pyspark``. The
job runs in a fresh driver process; a sampler in this process reads the driver's Python and JVM
high-water marks (``VmHWM``) from /proc. The executors are separate processes and not counted:
the figure shows what the driver holds, which must stay under 2 GB at any scale.

The model is trained once on data/sample (by DuckDB, not timed): scoring cost depends on the
trees, not on the data they were fitted to.

    python benchmarks/bench_spark.py [--groups 200000] [--months 12] [--executors 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_features import RESULTS, ROOT, ensure_data  # noqa: E402

DRIVER = r"""
import json, os, sys, time
t0 = time.perf_counter()
marks = {}
def mark(name):
    marks[name] = time.perf_counter()
import pyspark
os.environ.setdefault("SPARK_HOME", os.path.dirname(pyspark.__file__))
from pyspark.sql import SparkSession
data, model, out, master, memory = sys.argv[1:6]
spark = (SparkSession.builder.master(master).appName("bench-spark").config("spark.ui.enabled", "false")
         .config("spark.executor.memory", memory).config("spark.driver.memory", "1g").getOrCreate())
from churnkit.features import scoring_window
from churnkit.months import parse_month
from churnkit.spark import load_dataset, score, session
s = session()
mark("session")
from churnkit.spark.validate import latest_month
month = parse_month(latest_month(data))
dataset = load_dataset(data, window=scoring_window(month))
mark("validate")
result = score(dataset, month, model, out, progress=lambda m: mark(m))
mark("done")
executors = s.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1  # counted after the job: all registered
print(json.dumps({"t0": t0, "marks": marks, "executors": executors, "summary": result.summary,
                  "cores": int(s.sparkContext.defaultParallelism)}))
"""


def hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def driver_jvm(pid: int) -> int | None:
    """The driver's JVM: the child of the Python driver running SparkSubmit."""
    import psutil

    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "org.apache.spark.deploy.SparkSubmit" in " ".join(child.cmdline()):
                return child.pid
        except psutil.Error:
            continue
    return None


def executor_cpu_s(jvm: int, seen: dict[int, float]) -> None:
    """CPU seconds of each executor so far (its JVM, reaped and live Python workers), into ``seen``."""
    import psutil

    for child in psutil.Process(jvm).children():
        try:
            if "CoarseGrainedExecutorBackend" not in " ".join(child.cmdline()):
                continue
            t = child.cpu_times()
            cpu = t.user + t.system + t.children_user + t.children_system
            for worker in child.children(recursive=True):
                w = worker.cpu_times()
                cpu += w.user + w.system
            seen[child.pid] = max(seen.get(child.pid, 0.0), cpu)
        except psutil.Error:
            continue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--executors", type=int, default=2)
    parser.add_argument("--executor-memory", default="2g")
    args = parser.parse_args()
    data = ensure_data(args.groups, args.months, "2025-11", 7)
    work = Path(tempfile.mkdtemp(prefix="bench-spark-"))
    model = work / "model"
    print("training the model on data/sample (not timed) ...", flush=True)
    subprocess.run([str(Path(sys.executable).parent / "churnkit"), "train", "--data", str(ROOT / "data" / "sample"), "--out", str(model),
                    "--no-track"], check=True, stdout=subprocess.DEVNULL)
    master = f"local-cluster[{args.executors},1,{int(args.executor_memory.rstrip('g')) * 1024}]"
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    print(f"scoring {args.groups:,} groups x {args.months} months on {master} ...", flush=True)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(data), str(model), str(work / "out" / "scored.csv"), master,
                             args.executor_memory], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    jvm, py_kb, jvm_kb, cpu = None, 0, 0, {}
    while proc.poll() is None:
        jvm = jvm or driver_jvm(proc.pid)
        py_kb = max(py_kb, hwm_kb(proc.pid))
        jvm_kb = max(jvm_kb, hwm_kb(jvm)) if jvm else jvm_kb
        if jvm:
            executor_cpu_s(jvm, cpu)
        time.sleep(0.5)
    wall = time.perf_counter() - started
    output = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"the driver failed (exit {proc.returncode}):\n{output[-2000:]}")
    run = json.loads(output.strip().splitlines()[-1])
    names = {"session": "session", "validate": "validate", "building the signals": "score_setup",
             "predicting": "signals", "explaining": "predict_rank", "writing the scored file": "explain_setup",
             "done": "explain_write"}
    wall_s, last = {}, run["t0"]
    for key, t in sorted(run["marks"].items(), key=lambda kv: kv[1]):
        wall_s[names.get(key, key)] = round(t - last, 1)
        last = t
    wall_s["total"] = round(wall, 1)
    job = wall_s["validate"] + sum(v for k, v in wall_s.items() if k in ("score_setup", "signals", "predict_rank",
                                                                          "explain_setup", "explain_write"))
    cores = max(run["executors"], 1)  # one core each
    figures = {
        "groups": args.groups,
        "months": args.months,
        "scored": run["summary"]["scored"],
        "executors": run["executors"],
        "executor_cores": cores,
        "executor_memory": args.executor_memory,
        "wall_s": wall_s,
        "driver_peak_rss_mb": round((py_kb + jvm_kb) / 1024, 1),
        "driver_python_peak_rss_mb": round(py_kb / 1024, 1),
        "driver_jvm_peak_rss_mb": round(jvm_kb / 1024, 1),
        "groups_per_core_s": {"validate_and_score": round(args.groups / job / cores, 1),
                              "score": round(args.groups / (job - wall_s["validate"]) / cores, 1)},
        # the executors' own CPU time: what a cluster pays per group, whatever else shared the machine
        "executor_cpu_s": round(sum(cpu.values()), 1),
        "groups_per_executor_cpu_s": round(args.groups / sum(cpu.values()), 1) if cpu else None,
        "machine_cores": os.cpu_count(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "spark.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    if figures["driver_peak_rss_mb"] > 2048:
        raise SystemExit(f"driver peak RSS {figures['driver_peak_rss_mb']} MB is above 2 GB")


if __name__ == "__main__":
    main()
