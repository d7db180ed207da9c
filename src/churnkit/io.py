"""Reading a data directory and writing output files safely.

A table ``NAME`` is ``NAME.parquet``, ``NAME.csv`` or a folder ``NAME/`` of such files. Every
column is read as it is stored (CSV as text) and typed later by :mod:`churnkit.validate`, so a
bad value is reported with its row instead of crashing the reader. Output files are written to
a temporary name in the target folder and renamed into place, so a crash or a full disk never
leaves a half-written file at the final path.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from churnkit.errors import DataError, StorageError, UsageError

SOURCE_COLUMN = "__source__"


def table_files(data_dir: Path, name: str) -> list[Path]:
    """The files holding table ``name`` in ``data_dir`` (empty list when the table is absent)."""
    data_dir = Path(data_dir)
    candidates = [data_dir / f"{name}.parquet", data_dir / f"{name}.csv"]
    found = [p for p in candidates if p.is_file()]
    folder = data_dir / name
    if folder.is_dir():
        files = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".parquet", ".csv")
        )
        if not files:
            raise DataError(
                f"{folder}: folder has no .parquet or .csv files; put the monthly files of "
                f"table {name!r} there or remove the folder"
            )
        found.extend(files)
        if len(found) > len(files):
            raise DataError(
                f"{data_dir}: table {name!r} is given twice (a file and a folder); keep one"
            )
    elif len(found) > 1:
        raise DataError(
            f"{data_dir}: table {name!r} is given twice ({found[0].name} and {found[1].name}); keep one"
        )
    return found


def check_readable(path: Path) -> None:
    """Refuse a file that cannot be opened or holds no byte, naming it and the fix."""
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        raise StorageError(f"{path}: cannot read ({exc.strerror})") from None
    if size == 0:
        raise StorageError(f"{path}: file is empty (0 bytes); export the table again or remove the file")


def read_file(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """Read one parquet or CSV file; CSV cells stay text. One-line errors name the file and fix."""
    path = Path(path)
    check_readable(path)
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path)
    return _read_csv(path, encoding)


def _read_parquet(path: Path) -> pd.DataFrame:
    # identifiers never become numbers; pandas' default conversion keeps ints exact.
    return _parquet_table(path).to_pandas()


def _parquet_table(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StorageError(
            f"{path}: not a readable parquet file ({first}); the file is truncated or corrupt, "
            "export it again"
        ) from None


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    enc = encoding or "utf-8-sig"
    if enc.replace("-", "").lower() == "utf8":
        enc = "utf-8-sig"  # accept a BOM whatever the user typed
    try:
        return pd.read_csv(
            path, dtype=str, encoding=enc, keep_default_na=False, na_values=[""], skipinitialspace=False
        )
    except UnicodeDecodeError as exc:
        hint = (
            "operators often export GB18030: rerun with --encoding gb18030"
            if encoding is None
            else f"check the file's real encoding and pass it with --encoding (not {encoding})"
        )
        raise StorageError(
            f"{path}: not valid {enc} text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); {hint}"
        ) from None
    except LookupError:
        raise UsageError(f"--encoding {encoding!r} is not a known encoding; try gb18030, gbk or utf-8") from None
    except pd.errors.EmptyDataError:
        raise StorageError(f"{path}: file has no header line; export the table again with its column names") from None
    except pd.errors.ParserError as exc:
        first = str(exc).splitlines()[0]
        raise StorageError(f"{path}: not a well-formed CSV ({first}); export it again") from None


def read_table(data_dir: Path, name: str, encoding: str | None = None) -> pd.DataFrame | None:
    """All files of a small table ``name`` (one row per group or per wave, such as ``retention``)
    as one pandas frame with a ``__source__`` column naming each row's file; None when the table
    is absent. The commands open line tables in the engine instead (:mod:`churnkit.validate`)."""
    files = table_files(data_dir, name)
    if not files:
        return None
    if len(files) > 1 and all(p.suffix.lower() == ".parquet" for p in files):
        return _read_parquet_folder(data_dir, name, files)
    frames = []
    for path in files:
        frame = read_file(path, encoding)
        name_in_dir = str(path.relative_to(data_dir)) if path.is_relative_to(data_dir) else str(path)
        frame[SOURCE_COLUMN] = pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), [name_in_dir])
        frames.append(frame)
    if len(frames) == 1:
        return frames[0]
    columns = [set(f.columns) for f in frames]
    if any(c != columns[0] for c in columns):
        odd = next(p for p, c in zip(files, columns) if c != columns[0])
        raise DataError(
            f"{odd}: columns differ from {files[0].name} in table {name!r} "
            f"({sorted(columns[0] ^ set(frames[files.index(odd)].columns))}); give every file the same columns"
        )
    merged = pd.concat(frames, ignore_index=True)
    merged[SOURCE_COLUMN] = merged[SOURCE_COLUMN].astype("category")
    return merged


def _read_parquet_folder(data_dir: Path, name: str, files: list[Path]) -> pd.DataFrame:
    """Monthly parquet files joined as Arrow tables (no pandas copy per file)."""
    tables, sources = [], []
    for path in files:
        if path.stat().st_size == 0:
            raise StorageError(f"{path}: file is empty (0 bytes); export the table again or remove the file")
        table = _parquet_table(path)
        if set(table.column_names) != set(tables[0].column_names if tables else table.column_names):
            raise DataError(
                f"{path}: columns differ from {files[0].name} in table {name!r} "
                f"({sorted(set(tables[0].column_names) ^ set(table.column_names))}); give every file the same columns"
            )
        tables.append(table.select(tables[0].column_names) if tables else table)
        sources.append(np.full(table.num_rows, len(sources), dtype=np.int32))
    try:
        merged = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # the files disagree on a column's type (say text in one month): join them as pandas
        # objects, so that validation names the offending rows and file
        frame = pd.concat([t.to_pandas() for t in tables], ignore_index=True)
    else:
        del tables
        frame = merged.to_pandas(split_blocks=True, self_destruct=True)  # frees Arrow buffers as it goes
        del merged
    labels = [str(p.relative_to(data_dir)) if p.is_relative_to(data_dir) else str(p) for p in files]
    frame[SOURCE_COLUMN] = pd.Categorical.from_codes(np.concatenate(sources), labels)
    return frame


# ---------------------------------------------------------------------------------------- output


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(final: Path, commit: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; on success rename it into place atomically.

    On any error the temporary file is removed and ``final`` is left as it was. An ``OSError``
    (disk full, permission) becomes a StorageError naming the final path. With ``commit=False``
    the written and flushed temporary file is left for the caller to rename (see
    :func:`commit_all`), so several files can be written before any of them replaces its target.
    """
    final = Path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a written file gets the mode open() would give
        os.close(fd)
    except OSError as exc:
        raise StorageError(f"{final}: cannot write ({exc.strerror or exc}); check the folder and free space") from None
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        if commit:
            os.replace(tmp, final)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(
            f"{final}: cannot write ({exc.strerror or exc}); nothing was changed there, free space or choose another --out"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def commit_all(staged: list[tuple[Path, Path]]) -> None:
    """Rename each written temporary file onto its final path (after all were written and flushed);
    on failure the temporary files not yet renamed are removed."""
    for i, (tmp, final) in enumerate(staged):
        try:
            os.replace(tmp, final)
        except OSError as exc:
            for rest, _ in staged[i:]:
                Path(rest).unlink(missing_ok=True)
            raise StorageError(f"{final}: cannot write ({exc.strerror or exc}); free space or choose another --out") from None


def write_all(targets: list[tuple[Path, Callable[[Path], None]]]) -> list[Path]:
    """Write several files all or nothing: each ``write(tmp)`` runs and is flushed under a temporary
    name beside its final path, and only when every one succeeded are they renamed into place."""
    staged: list[tuple[Path, Path]] = []
    try:
        for final, write in targets:
            with atomic_path(final, commit=False) as tmp:
                write(tmp)
            staged.append((tmp, Path(final)))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    commit_all(staged)
    return [Path(final) for final, _ in targets]


def write_atomic(final: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and move the result to ``final`` atomically."""
    with atomic_path(final) as tmp:
        write(tmp)
    return Path(final)


def write_frame(frame: pd.DataFrame, final: Path) -> Path:
    """Write a frame to parquet or CSV (by extension) atomically; CSV is UTF-8 with BOM."""
    final = Path(final)
    suffix = final.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise StorageError(f"{final}: unknown output format; use a .parquet or .csv file name")

    def write(tmp: Path) -> None:
        if suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n")

    return write_atomic(final, write)
