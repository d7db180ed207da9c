"""The `churnkit` command: thin wrappers that parse options, call one library function each,
print a short summary and turn a ChurnkitError into a red one-line message and its exit code."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from churnkit import __version__
from churnkit.engine import MemoryError_, out_of_memory
from churnkit.errors import ChurnkitError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Churn warnings for SME group customers.")
out = Console()
err = Console(stderr=True)

Encoding = Annotated[Optional[str], typer.Option("--encoding", help="CSV encoding, e.g. gb18030 (default UTF-8, BOM or not).")]
MemoryLimit = Annotated[Optional[str], typer.Option("--memory-limit", help="DuckDB memory limit, e.g. 2GB (default $CHURNKIT_MEMORY_LIMIT or 1GB); beyond it DuckDB spills to --temp-dir.")]
TempDir = Annotated[Optional[Path], typer.Option("--temp-dir", help="Folder DuckDB spills to (default $CHURNKIT_TEMP_DIR or the system's temporary folder).")]


Engine = Annotated[str, typer.Option("--engine", help="duckdb (default, in-process) or spark (Spark reads --data itself: a folder, hdfs://, s3a://, or catalog:DATABASE).")]


def _engine(memory_limit: str | None, temp_dir: Path | None):
    from churnkit.engine import EngineSettings

    return EngineSettings.from_env(memory_limit, temp_dir)


def guarded(func):
    """Run a command; a ChurnkitError becomes one red line on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except MemoryError_ as exc:
            err.print(f"[red]error:[/red] {escape(out_of_memory(exc))}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(4) from None
        except ChurnkitError as exc:
            problems = getattr(exc, "problems", None)
            if problems and len(problems) > 1:
                for problem in problems:
                    err.print(f"[red]error:[/red] {escape(str(problem))}", markup=True, highlight=False, soft_wrap=True)
            else:
                err.print(f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        out.print(f"churnkit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """churnkit: monthly churn-risk scoring of group customers with reasons and retention scripts."""


def _warn(messages: list[str]) -> None:
    for message in messages:
        err.print(f"[yellow]warning:[/yellow] {escape(message)}", markup=True, highlight=False, soft_wrap=True)


@app.command()
@guarded
def validate(
    data_dir: Annotated[Path, typer.Argument(help="Data directory (groups, billing, usage, ...); with --engine spark any URI Spark reads, or catalog:DATABASE.")],
    encoding: Encoding = None,
    engine: Engine = "duckdb",
    memory_limit: MemoryLimit = None,
    temp_dir: TempDir = None,
) -> None:
    """Check a data directory against the data contract; list every problem at once."""
    if engine == "spark":
        from churnkit.spark.validate import survey

        result = survey(data_dir, encoding=encoding)
    else:
        from churnkit.survey import survey

        result = survey(data_dir, encoding=encoding, engine=_engine(memory_limit, temp_dir))
    _warn(result.warnings)
    summary = result.summary
    table = Table(title=f"{data_dir}: valid (data contract v1)")
    for column in summary.columns:
        table.add_column(column, justify="right" if column in ("rows", "groups", "months") else "left")
    for _, row in summary.iterrows():
        table.add_row(*["" if (v is None or v != v) else str(v) for v in row])
    out.print(table)


@app.command()
@guarded
def simulate(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the data directory to.")],
    groups: Annotated[int, typer.Option(help="Number of groups.")] = 2000,
    months: Annotated[int, typer.Option(help="Number of months.")] = 24,
    start: Annotated[str, typer.Option(help="First month, YYYY-MM.")] = "2024-11",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 7,
) -> None:
    """Write a simulated operator data set (with the true churn causes in _truth/)."""
    from churnkit.simulate import simulate as run

    summary = run(out_dir, groups=groups, months=months, start=start, seed=seed)
    out.print(f"wrote {out_dir}: " + ", ".join(f"{k} {v}" for k, v in summary.items()))


@app.command()
@guarded
def features(
    data: Annotated[Path, typer.Option("--data", help="Data directory.")],
    month: Annotated[Optional[str], typer.Option("--month", help="Scoring month YYYY-MM.")] = None,
    months: Annotated[Optional[str], typer.Option("--months", help="A panel of months FROM:TO (YYYY-MM:YYYY-MM).")] = None,
    out_file: Annotated[Optional[Path], typer.Option("--out", help="Also write the table to this .parquet or .csv file.")] = None,
    store: Annotated[Path, typer.Option("--store", help="Folder keeping one parquet per month.")] = Path("features"),
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not write to the store.")] = False,
    encoding: Encoding = None,
    engine: Engine = "duckdb",
    memory_limit: MemoryLimit = None,
    temp_dir: TempDir = None,
) -> None:
    """Compute the warning signals of every scored group for a month or a panel of months."""
    from churnkit.errors import UsageError
    from churnkit.features import build_features, scoring_window, store_features
    from churnkit.io import write_frame
    from churnkit.months import parse_month, parse_month_range
    from churnkit.validate import load_dataset

    if (month is None) == (months is None):
        raise UsageError("give exactly one of --month YYYY-MM or --months FROM:TO")
    wanted = [parse_month(month)] if month else parse_month_range(months)
    dataset = load_dataset(data, encoding=encoding, window=(scoring_window(min(wanted))[0], max(wanted)),
                           engine=_engine(memory_limit, temp_dir))
    _warn(dataset.warnings)
    frame = build_features(dataset, wanted, engine=engine)
    written = []
    if out_file is not None:
        written.append(write_frame(frame, out_file))
    if not no_store:
        written.extend(store_features(frame, store))
    out.print(f"{len(frame)} group-months x {frame.shape[1] - 2} columns; wrote {', '.join(map(str, written)) or 'nothing'}")


@app.command()
@guarded
def train(
    data: Annotated[Path, typer.Option("--data", help="Data directory with the churn table.")],
    horizon: Annotated[int, typer.Option(help="Months ahead a label looks (churn in (M, M+H]).")] = 3,
    out_dir: Annotated[Path, typer.Option("--out", help="Bundle folder to write.")] = Path("models/latest"),
    calibration: Annotated[str, typer.Option(help="platt (default), isotonic or beta.")] = "platt",
    tracking_uri: Annotated[Optional[str], typer.Option("--tracking-uri", help="MLflow store (default sqlite:///mlflow.db or $MLFLOW_TRACKING_URI).")] = None,
    no_track: Annotated[bool, typer.Option("--no-track", help="Do not log the run to MLflow.")] = False,
    tune: Annotated[bool, typer.Option("--tune", help="Pick tree size from a small grid by validation-month log loss.")] = False,
    refit: Annotated[bool, typer.Option("--refit", help="After the evaluation, refit the scoring model on every usable month (calibration carried over).")] = False,
    treatment: Annotated[str, typer.Option("--treatment", help="Retention waves' contacted groups: feature (default: flagged, predicted as not contacted), holdout (left out, holdout weighted), exclude, or ignore.")] = "feature",
    encoding: Encoding = None,
    engine: Engine = "duckdb",
    memory_limit: MemoryLimit = None,
    temp_dir: TempDir = None,
) -> None:
    """Train the churn model out of time, compare it with the rule baseline, write a bundle."""
    from churnkit.errors import UsageError
    from churnkit.model.calibration import METHODS
    from churnkit.model.train import train as run

    if horizon < 1:
        raise UsageError(f"--horizon must be at least 1 month, not {horizon}")
    if calibration not in METHODS:
        raise UsageError(f"--calibration must be one of {', '.join(METHODS)}, not {calibration!r}")
    if treatment not in ("feature", "holdout", "exclude", "ignore"):
        raise UsageError(f"--treatment must be one of feature, holdout, exclude, ignore, not {treatment!r}")
    dataset = _open(engine, data, encoding, None, memory_limit, temp_dir)
    with out.status("training") as status:
        result = run(dataset, horizon=horizon, out=out_dir, calibration=calibration, tracking_uri=tracking_uri,
                     track=not no_track, engine=engine, tune_grid=tune, refit=refit, treatment=treatment,
                     progress=lambda m: status.update(m))
    _warn(result.warnings)
    m, b = result.evaluation["model"], result.evaluation["baseline"]
    table = Table(title=f"test months {result.split.describe()['test_months']} (unseen by model and calibration)")
    for column in ("metric", "LightGBM", "95% interval", "rule baseline"):
        table.add_column(column)
    for key in ("roc_auc", "pr_auc", "top_decile_lift", "emp", "brier", "ece"):
        interval = f"{m[key + '_lo']:.3f}-{m[key + '_hi']:.3f}"
        table.add_row(key, f"{m[key]:.3f}", interval, f"{b[key]:.3f}" if key in b else "")
    out.print(table)
    out.print(f"bundle {result.bundle}; {result.rows} snapshots; "
              f"{'champion (beats the baseline)' if result.champion else 'does not beat the baseline'}"
              + (f"; MLflow run {result.run_id}" if result.run_id else ""))
    if result.uplift:
        u = result.uplift
        why = f" ({u['reason']})" if u.get("reason") else ""
        out.print(f"retention waves: {u.get('treated_snapshots', 0)} treated snapshots ({u['treatment']}); the list is "
                  f"ranked by {u['policy']}{why}", soft_wrap=True)


@app.command()
@guarded
def score(
    data: Annotated[Path, typer.Option("--data", help="Data directory.")],
    month: Annotated[str, typer.Option("--month", help="Scoring month YYYY-MM, or 'latest' for the last month in billing.")],
    out_file: Annotated[Path, typer.Option("--out", help="Scored CSV to write (a .parquet twin and .excluded.csv go beside it).")],
    model: Annotated[str, typer.Option("--model", help="Model bundle folder, or a registered model such as models:/churnkit@champion.")] = "models/latest",
    tracking_uri: Annotated[Optional[str], typer.Option("--tracking-uri", help="MLflow store of a models:/ --model (default $MLFLOW_TRACKING_URI or sqlite:///mlflow.db).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of reasons and scripts: zh or en.")] = "zh",
    playbook: Annotated[Optional[Path], typer.Option("--playbook", help="Retention playbook TOML replacing the packaged one.")] = None,
    top: Annotated[int, typer.Option("--top", help="Print the top N groups.")] = 0,
    encoding: Encoding = None,
    engine: Engine = "duckdb",
    memory_limit: MemoryLimit = None,
    temp_dir: TempDir = None,
) -> None:
    """Score every group for a month: risk, reasons, retention script and action, in a CSV for Excel."""
    from churnkit.features import scoring_window
    from churnkit.model.tracking import model_folder
    from churnkit.months import parse_month
    from churnkit.score import score as run

    month = _resolve_month(data, month, encoding, engine)
    wanted = parse_month(month)
    with model_folder(model, tracking_uri) as bundle, out.status("loading and validating the data") as status:
        dataset = _open(engine, data, encoding, scoring_window(wanted), memory_limit, temp_dir)
        if engine == "spark":
            from churnkit.spark.score import score as run
        else:
            run = functools.partial(run, engine=engine)
        result = run(dataset, wanted, model=bundle, out=out_file, lang=lang, playbook=playbook,
                     progress=lambda m: status.update(m))
    _warn(dataset.warnings)
    s = result.summary
    if top:
        table = Table(title=f"top {top} groups at risk, {month}")
        for column in ("rank", "group", "probability", "reason", "action"):
            table.add_column(column)
        for _, row in result.scored.head(top).iterrows():
            table.add_row(str(row["risk_rank"]), str(row["group_name"] or row["group_id"]), f"{row['churn_probability']:.1%}",
                          str(row["reason_1_text"] or "-"), row["action"])
        out.print(table)
    out.print(f"scored {s['scored']} groups, excluded {s['excluded']}; top-decile expected loss {s['top_decile_expected_loss']:,.0f} yuan; "
              + ", ".join(f"{k} {v}" for k, v in s["actions"].items()))
    out.print(f"wrote {', '.join(map(str, result.paths))}")


def _open(engine: str, data, encoding: str | None, window, memory_limit: str | None, temp_dir: Path | None):
    """The data directory opened and validated by the engine that will read it."""
    if engine == "spark":
        from churnkit.spark.validate import load_dataset as on_spark

        return on_spark(data, encoding=encoding, window=window)
    from churnkit.validate import load_dataset

    return load_dataset(data, encoding=encoding, window=window, engine=_engine(memory_limit, temp_dir))


def _resolve_month(data: Path, month: str, encoding: str | None, engine: str = "duckdb") -> str:
    """``latest`` becomes the last month in billing; anything else is returned as given."""
    from churnkit.errors import DataError
    from churnkit.validate import latest_month

    if month != "latest":
        return month
    if engine == "spark":
        from churnkit.spark.validate import latest_month
    found = latest_month(data, encoding)
    if found is None:
        raise DataError(f"{data}: billing holds no readable month for --month latest; run `churnkit validate {data}`")
    return found


@app.command()
@guarded
def report(
    data: Annotated[Path, typer.Option("--data", help="Data directory.")],
    month: Annotated[str, typer.Option("--month", help="Report month YYYY-MM, or 'latest' for the last month in billing.")],
    out_file: Annotated[Path, typer.Option("--out", help="HTML file to write (its .json twin goes beside it).")],
    model: Annotated[Path, typer.Option("--model", help="Model bundle folder.")] = Path("models/latest"),
    scored: Annotated[Optional[Path], typer.Option("--scored", help="The month's scored CSV from `churnkit score` (else the month is scored).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the report: zh or en.")] = "zh",
    encoding: Encoding = None,
    engine: Engine = "duckdb",
    memory_limit: MemoryLimit = None,
    temp_dir: TempDir = None,
) -> None:
    """Write the monthly report: churn rates, this month's risk, a backtest of earlier warnings, drift."""
    from churnkit.model.bundle import load_bundle
    from churnkit.months import parse_month
    from churnkit.report.build import check_options, data_window, report as run
    from churnkit.validate import load_dataset

    check_options(out_file, lang)
    wanted = parse_month(_resolve_month(data, month, encoding))
    bundle = load_bundle(model)
    with out.status("loading and validating the data") as status:
        dataset = load_dataset(data, encoding=encoding, window=data_window(wanted, bundle.horizon),
                               engine=_engine(memory_limit, temp_dir))
        result = run(dataset, wanted, model=bundle, out=out_file, scored=scored, lang=lang, engine=engine,
                     progress=lambda m: status.update(m))
    _warn(dataset.warnings)
    f = result.figures
    last = f["churn_rates"][-1] if f["churn_rates"] else None
    held = [b for b in f["backtest"] if not b["in_sample"]]
    out.print(f"{f['month']}: " + (f"{last['groups_churned']} of {last['groups_at_start']} groups left "
              f"(absolute {last['absolute_churn_rate']:.2%}, relative {last['relative_churn_rate'] or 0:.2%}); " if last else "")
              + f"{f['risk']['scored']} scored, expected yearly loss {f['risk']['expected_loss_total']:,.0f} yuan; "
              + f"{len(f['backtest'])} months backtested ({len(held)} held out); "
              + (f"{sum(d['psi'] > 0.2 for d in f['drift'])} signals drifted" if f["drift_note"] is None else "no drift reference in the bundle"))
    out.print(f"wrote {result.html}, {result.json}")


from churnkit.cli_campaign import campaign_app  # noqa: E402  (retention campaigns)
app.add_typer(campaign_app, name="campaign")

if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
