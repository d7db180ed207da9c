"""``churnkit campaign``: plan a retention wave, import the managers' workbooks, measure, simulate.

A typer sub-app registered by :mod:`churnkit.cli`; every command is a thin shell over
:mod:`churnkit.campaign` and turns a ChurnkitError into one red line (``guarded``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

# defined before importing churnkit.cli, which registers it at its end
campaign_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help="Retention campaigns: plan a wave with a holdout, import what managers did, measure the effect.")

from churnkit.cli import _resolve_month, err, guarded, out  # noqa: E402

Data = Annotated[Path, typer.Option("--data", help="Data directory (its retention table is read and written).")]
Playbook = Annotated[Optional[Path], typer.Option("--playbook", help="Retention playbook TOML replacing the packaged one.")]


def _horizon(model: Path, horizon: Optional[int]) -> int:
    import json

    if horizon is not None:
        return horizon
    try:
        return int(json.loads((Path(model) / "manifest.json").read_text(encoding="utf-8"))["horizon"])
    except (OSError, ValueError, KeyError):
        return 3


@campaign_app.command()
@guarded
def plan(
    scored: Annotated[Path, typer.Option("--scored", help="The month's scored CSV from `churnkit score`.")],
    data: Data,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the workbooks (one per account manager, and a summary).")],
    holdout: Annotated[float, typer.Option("--holdout", help="Share of each stratum held out (0.10 to 0.50).")] = 0.20,
    salt: Annotated[str, typer.Option("--salt", help="Secret text mixed into the holdout hash; keep it the same for a wave.")] = "churnkit",
    lang: Annotated[str, typer.Option("--lang", help="Language of the workbooks: zh or en.")] = "zh",
    playbook: Playbook = None,
    model: Annotated[Path, typer.Option("--model", help="The bundle that scored the month (its hash is recorded).")] = Path("models/latest"),
    horizon: Annotated[Optional[int], typer.Option("--horizon", help="Months the wave runs and is measured over (default: the bundle's).")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Plan a wave again that is already in the table (before any import).")] = False,
) -> None:
    """Plan the month's retention wave: draw the holdout, write the managers' workbooks and the wave's rows."""
    from churnkit.campaign.plan import bundle_version, plan_wave

    result = plan_wave(scored, data, out_dir, salt=salt, share=holdout, lang=lang, playbook=playbook,
                       model_version=bundle_version(model), horizon=_horizon(model, horizon), replace=replace)
    out.print(f"wave {result.wave}: {result.treated} groups to {len(result.workbooks)} account managers, "
              f"{result.holdout} held out ({result.holdout / (result.treated + result.holdout):.1%})", soft_wrap=True)
    out.print(f"wrote {out_dir} ({len(result.workbooks)} workbooks and {result.summary.name}), {result.table}", soft_wrap=True)


@campaign_app.command("import")
@guarded
def import_(
    workbooks: Annotated[list[Path], typer.Argument(help="Filled workbooks (.xlsx) of the managers.")],
    data: Data,
    wave: Annotated[Optional[str], typer.Option("--wave", help="Refuse workbooks of any other wave (YYYY-MM).")] = None,
    playbook: Playbook = None,
) -> None:
    """Read the managers' workbooks back into the retention table (all or nothing, safe to repeat)."""
    from churnkit.campaign.importer import import_workbooks

    result = import_workbooks(workbooks, data, playbook=playbook, wave=wave)
    out.print(f"read {result.workbooks} workbooks: {result.rows} groups with records, {result.changed} rows changed"
              + (f", written to {result.table}" if result.table else " (the table was already up to date)"), soft_wrap=True)
    if result.deviations:
        err.print(f"[yellow]warning:[/yellow] {result.deviations} holdout groups were contacted: kept as deviations "
                  "and counted in the report", markup=True, highlight=False, soft_wrap=True)


@campaign_app.command()
@guarded
def effects(
    data: Data,
    month: Annotated[str, typer.Option("--month", help="Measure as of this month (YYYY-MM or latest).")] = "latest",
    horizon: Annotated[int, typer.Option("--horizon", help="Months after the wave in which churn is counted.")] = 3,
) -> None:
    """Print each measured wave's effect against its holdout, and all waves pooled."""
    from churnkit.months import parse_month
    from churnkit.report.retention import retention_figures

    figures = retention_figures(data, parse_month(_resolve_month(data, month, None)), horizon)
    if figures is None or figures["pooled"] is None:
        out.print("no retention wave whose horizon has passed")
        return
    for r in [*figures["waves"], {**figures["pooled"], "wave": "pooled"}]:
        out.print(f"{r['wave']}: treated {r['treated']} churn {r['churn_treated']:.1%}, holdout {r['holdout']} churn "
                  f"{r['churn_holdout']:.1%}; uplift {100 * r['uplift']:+.1f} points "
                  f"(95% {100 * r['uplift_lo']:+.1f} to {100 * r['uplift_hi']:+.1f}); holdout contacted {r['holdout_contacted']}", soft_wrap=True)


@campaign_app.command()
@guarded
def simulate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the data directory to.")],
    groups: Annotated[int, typer.Option(help="Number of groups.")] = 2000,
    months: Annotated[int, typer.Option(help="Number of months.")] = 24,
    start: Annotated[str, typer.Option(help="First month, YYYY-MM.")] = "2024-11",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 7,
    every: Annotated[int, typer.Option(help="Months between waves.")] = 3,
) -> None:
    """Simulated data with past retention waves run in it (true effects in _truth/)."""
    from churnkit.simulate.campaigns import simulate_campaigns

    s = simulate_campaigns(out_dir, groups=groups, months=months, start=start, seed=seed, every=every)
    out.print(f"wrote {out_dir}: {s['waves']} waves, {s['wave_groups']} wave rows; true pooled uplift "
              f"{100 * (s['true_pooled_uplift'] or 0):+.1f} points (see _truth/campaign_effects.json)", soft_wrap=True)
