"""The ``simulate`` entry point: argument checks, the monthly loop, the summary."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from churnkit.errors import UsageError
from churnkit.months import format_month, parse_month
from churnkit.simulate import signals as sig
from churnkit.simulate.events import EventLog
from churnkit.simulate.members import MAX_GROUPS, LinePool
from churnkit.simulate.world import build_world
from churnkit.simulate.writer import Writer

_MONTH_FILE = re.compile(r"^\d{4}-\d{2}\.parquet$")


def _count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise UsageError(f"simulate: {name} must be a whole number, got {value!r}")
    return int(value)


def _check(out, groups, months, start, seed) -> tuple[Path, int, int, int, int]:
    groups, months, seed = _count("groups", groups), _count("months", months), _count("seed", seed)
    if not 1 <= groups <= MAX_GROUPS:
        raise UsageError(f"simulate: groups must be between 1 and {MAX_GROUPS}, got {groups}")
    if not 1 <= months <= 240:
        raise UsageError(f"simulate: months must be between 1 and 240, got {months}")
    if seed < 0:
        raise UsageError(f"simulate: seed must be 0 or more, got {seed}")
    first = parse_month(start)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"simulate: --out {out} is a file; give a folder")
    return out, groups, months, first, seed


def _clear_stale_months(out: Path, keep: set[str]) -> None:
    """Remove month files of an earlier run into the same folder that this run does not write."""
    for table in ("billing", "usage"):
        folder = out / table
        if folder.is_dir():
            for f in folder.iterdir():
                if _MONTH_FILE.match(f.name) and f.name not in keep:
                    f.unlink()


def simulate(out: Path, groups: int, months: int, start: str, seed: int) -> dict:
    """Write a synthetic data directory in the churnkit data contract format.

    Parameters
    ----------
    out : Path
        Folder to write; created if missing. Tables of an earlier run there are replaced.
    groups : int
        Number of group customers (1..2,500,000: a province is about 2,000,000).
    months : int
        Number of monthly billing/usage files, from ``start`` on (1..240).
    start : str
        First month, ``YYYY-MM``.
    seed : int
        Seed of ``numpy.random.default_rng``: the same arguments give byte-identical files.

    Returns
    -------
    dict
        ``groups``, ``months``, ``start``, ``end``, ``churned_groups``, ``yearly_churn_rate``
        (annualised from the monthly hazard of the groups at risk), ``warned_share`` (share of
        churners with precursor signals), ``causes`` (churners per cause), ``rows`` (per table).

    Raises
    ------
    UsageError
        For groups or months < 1 (or too large), a negative seed, or a malformed start month.
    """
    out, n, months, first, seed = _check(out, groups, months, start, seed)
    rng_world, rng_lines, rng_events = np.random.default_rng(seed).spawn(3)
    world = build_world(rng_world, n, first, months)
    pool = LinePool(world, rng_lines)
    log = EventLog(n, rng_events)
    out.mkdir(parents=True, exist_ok=True)
    _clear_stale_months(out, {f"{format_month(m)}.parquet" for m in range(first, first + months)})
    writer = Writer(out, world)
    at_risk = 0
    for m in range(first, first + months):
        effect = world.intensity(m)
        pool.step(m, effect)
        cols, has_usage = pool.bill(m, effect)
        writer.month(m, cols, has_usage)
        log.record(m, pool.lines["grp"], pool.lines["number"], world.ep_flags, effect)
        if m > first:
            staying = (world.churn_month < 0) | (world.churn_month >= m)
            at_risk += int(((world.open_month <= m - 2) & staying).sum())
    writer.events(*log.tables())
    writer.groups()
    writer.contracts()
    writer.churn_and_truth()
    churned = world.churn_month >= 0
    warned = float((world.ep_flags[churned] != 0).mean()) if churned.any() else 0.0
    monthly = churned.sum() / at_risk if at_risk else 0.0
    causes = {name: int((world.cause == i).sum()) for i, name in enumerate(sig.CAUSE_NAMES)}
    return {
        "out": str(out),
        "groups": n,
        "months": months,
        "start": format_month(first),
        "end": format_month(first + months - 1),
        "churned_groups": int(churned.sum()),
        "yearly_churn_rate": round(float(1 - (1 - monthly) ** 12), 4),
        "warned_share": round(warned, 4),
        "causes": causes,
        "rows": dict(writer.rows),
    }
