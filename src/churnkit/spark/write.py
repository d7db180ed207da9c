"""The scored files written by Spark, all or nothing, on any file system Spark writes.

The scored table goes out as a parquet folder (part files in rank order) and as one CSV for the
operations team: each executor turns its rows into CSV text exactly as
:mod:`churnkit.output` does (same columns, text that a spreadsheet would run as a formula
prefixed with an apostrophe), Spark writes those parts, and the driver's JVM joins them behind a
UTF-8 BOM and the header into one file, streaming. The excluded list is written the same way.
Everything is first written under a hidden folder beside the target; only when every file is
complete are they renamed into place, so a failure leaves the previous month's files untouched.
"""

from __future__ import annotations

import uuid

import pandas as pd

from churnkit.output import for_spreadsheet
from churnkit.spark.files import FileSystem, uri_of


def csv_blocks(df, columns: list[str], ints: tuple[str, ...] = ()):
    """One text row per batch of ``df``: its rows as CSV (CRLF between rows, no header)."""
    def run(batches):
        for frame in batches:
            if frame.empty:
                continue
            frame = frame[columns]
            for col in ints:
                frame[col] = frame[col].astype("Int64")
            text = for_spreadsheet(frame).to_csv(index=False, header=False, lineterminator="\r\n")
            yield pd.DataFrame({"value": [text[:-2]]})

    return df.mapInPandas(run, "value string")


def header(columns: list[str]) -> bytes:
    return ("\ufeff" + ",".join(columns) + "\r\n").encode("utf-8")


def targets(out) -> dict[str, str]:
    """The three final paths beside ``out`` (the scored CSV)."""
    uri = uri_of(out)
    stem = uri[: -len(".csv")]
    return {"csv": uri, "parquet": f"{stem}.parquet", "excluded": f"{stem}.excluded.csv"}


def write_scored(spark, scored, excluded, out, columns: list[str], excluded_columns: list[str],
                 ints: tuple[str, ...] = ()) -> list[str]:
    """Write ``scored`` (in rank order) as ``out`` (CSV) and its parquet twin, and ``excluded``
    as ``<stem>.excluded.csv``; returns the three paths."""
    final = targets(out)
    fs = FileSystem(spark, final["csv"])
    folder = final["csv"].rsplit("/", 1)[0]
    fs.mkdirs(folder)
    scratch = f"{folder}/.churnkit-{uuid.uuid4().hex}"
    try:
        scored.select(*columns).write.parquet(f"{scratch}/parquet")
        _one_csv(fs, csv_blocks(scored, columns, ints), f"{scratch}/csv", columns, f"{scratch}/scored.csv")
        _one_csv(fs, csv_blocks(excluded, excluded_columns), f"{scratch}/excluded", excluded_columns, f"{scratch}/excluded.csv")
        for name, staged in (("csv", "scored.csv"), ("parquet", "parquet"), ("excluded", "excluded.csv")):
            fs.rename(f"{scratch}/{staged}", final[name])
    finally:
        fs.delete(scratch)
    return [final["csv"], final["parquet"], final["excluded"]]


def _one_csv(fs: FileSystem, blocks, parts: str, columns: list[str], target: str) -> None:
    blocks.write.text(parts, lineSep="\r\n")
    files = [e.uri for e in fs.listing(parts) if e.name.startswith("part-")]
    fs.concat(header(columns), files, target)
