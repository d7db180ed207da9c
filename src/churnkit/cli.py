"""The `churnkit` command: thin wrappers that parse options, call one library function each,
print a short summary and turn a ChurnkitError into a red one-line message and its exit code."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from churnkit import __version__
from churnkit.errors import ChurnkitError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Churn warnings for SME group customers.")
out = Console()
err = Console(stderr=True)

Encoding = Annotated[Optional[str], typer.Option("--encoding", help="CSV encoding, e.g. gb18030 (default UTF-8, BOM or not).")]


def guarded(func):
    """Run a command; a ChurnkitError becomes one red line on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ChurnkitError as exc:
            problems = getattr(exc, "problems", None)
            if problems and len(problems) > 1:
                for problem in problems:
                    err.print(f"[red]error:[/red] {problem}", markup=True, highlight=False, soft_wrap=True)
            else:
                err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
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
        err.print(f"[yellow]warning:[/yellow] {message}", markup=True, highlight=False, soft_wrap=True)


@app.command()
@guarded
def validate(
    data_dir: Annotated[Path, typer.Argument(help="Data directory (groups, billing, usage, ...).")],
    encoding: Encoding = None,
) -> None:
    """Check a data directory against the data contract; list every problem at once."""
    from churnkit.validate import load_dataset, summarise

    dataset = load_dataset(data_dir, encoding=encoding)
    _warn(dataset.warnings)
    summary = summarise(dataset)
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
