"""A data directory's tables as DuckDB views over the files, scanned in place.

A table ``NAME`` is ``NAME.parquet``, ``NAME.csv`` or a folder ``NAME/`` of such files (see
:func:`churnkit.io.table_files`). Before any row is read, each file is checked cheaply: not
empty, a parquet footer that parses, CSV text in the expected encoding with a header line, the
same columns in every file. The table then becomes one view, ``raw_NAME``, over all its files,
with every column as stored (CSV as text) plus ``__source__``, the file each row comes from
(relative to the data directory). Nothing is loaded into Python: the view is scanned by every
query that reads it.

CSV exports in another encoding than UTF-8 (operators often export GB18030) are transcoded,
streaming, to UTF-8 copies in the engine's spill folder, since DuckDB reads UTF-8 only.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from churnkit.errors import DataError, StorageError, UsageError
from churnkit.io import SOURCE_COLUMN, check_readable, table_files

CHUNK = 1 << 22  # bytes decoded at a time when checking a CSV's encoding


@dataclass
class RawTable:
    """One table of a data directory as a view: its files and columns as stored."""

    name: str
    view: str
    files: list[Path]
    labels: list[str]  # the files relative to the data directory, as messages name them
    columns: dict[str, str]  # column -> DuckDB type of the view
    csv: bool = False
    window_view: str = ""  # the view of the files that may hold the window's months (else the view itself)

    def sql_type(self, column: str) -> str:
        return self.columns.get(column, "")


@dataclass
class Scan:
    """Every table of a data directory, opened as views on one DuckDB connection."""

    data_dir: Path
    tables: dict[str, RawTable] = field(default_factory=dict)
    scratch: Path | None = None  # transcoded CSV copies, removed by close()

    def close(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


def _label(data_dir: Path, path: Path) -> str:
    return str(path.relative_to(data_dir)) if path.is_relative_to(data_dir) else str(path)


def _sql_text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _parquet_columns(path: Path) -> list[str]:
    try:
        return list(pq.read_schema(path).names)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StorageError(f"{path}: not a readable parquet file ({first}); the file is truncated or corrupt, "
                           "export it again") from None


def _encoding(encoding: str | None) -> str:
    enc = encoding or "utf-8-sig"
    if enc.replace("-", "").replace("_", "").lower() in ("utf8", "utf8sig"):
        return "utf-8-sig"  # accept a BOM whatever the user typed
    try:
        codecs.lookup(enc)
    except LookupError:
        raise UsageError(f"--encoding {encoding!r} is not a known encoding; try gb18030, gbk or utf-8") from None
    return enc


def _decode_error(path: Path, enc: str, encoding: str | None, exc: UnicodeDecodeError, offset: int) -> StorageError:
    hint = ("operators often export GB18030: rerun with --encoding gb18030" if encoding is None
            else f"check the file's real encoding and pass it with --encoding (not {encoding})")
    return StorageError(f"{path}: not valid {enc} text (byte 0x{exc.object[exc.start]:02x} at offset "
                        f"{offset + exc.start}); {hint}")


def _check_csv(path: Path, encoding: str | None, scratch: Path | None) -> tuple[list[str], Path]:
    """The header of a CSV file and the UTF-8 file DuckDB reads (the file itself, or a transcoded
    copy under ``scratch``). Streams the whole file once to prove its encoding."""
    enc = _encoding(encoding)
    utf8 = enc == "utf-8-sig"
    decoder = codecs.getincrementaldecoder(enc)()
    target = path if utf8 else scratch / f"{len(list(scratch.iterdir()))}-{path.name}"
    sink = None if utf8 else open(target, "w", encoding="utf-8", newline="")
    head, offset = [], 0
    try:
        with open(path, "rb") as fh:
            while True:
                block = fh.read(CHUNK)
                try:
                    text = decoder.decode(block, final=not block)
                except UnicodeDecodeError as exc:
                    raise _decode_error(path, enc, encoding, exc, offset) from None
                if len("".join(head)) < 1 << 16:
                    head.append(text)
                if sink is not None:
                    sink.write(text)
                offset += len(block)
                if not block:
                    break
    finally:
        if sink is not None:
            sink.close()
    first = "".join(head).lstrip("\ufeff")
    lines = [line for line in first.splitlines() if line.strip()]
    if not lines:
        raise StorageError(f"{path}: file has no header line; export the table again with its column names")
    try:
        header = next(csv.reader(io.StringIO(lines[0])))
    except csv.Error as exc:
        raise StorageError(f"{path}: not a well-formed CSV ({exc}); export it again") from None
    return header, target


def clean_name(column: str) -> str:
    return str(column).strip().lstrip("\ufeff")


def open_table(con, data_dir: Path, name: str, encoding: str | None, scan: Scan,
               window: tuple[str, str] | None = None) -> RawTable | None:
    """Check the files of table ``name`` and create its view ``raw_<name>``; None when absent.
    With a ``window`` of months, also ``raw_<name>_window`` over only the parquet files whose
    footers say they may hold rows of those months (monthly exports: the other months' files are
    not read at all)."""
    files = table_files(data_dir, name)
    if not files:
        return None
    labels = [_label(data_dir, p) for p in files]
    parquet, text = [], []
    columns_of: list[list[str]] = []
    for path in files:
        check_readable(path)
        if path.suffix.lower() == ".parquet":
            columns_of.append(_parquet_columns(path))
            parquet.append(path)
        else:
            if scan.scratch is None and _encoding(encoding) != "utf-8-sig":
                scan.scratch = Path(tempfile.mkdtemp(prefix="churnkit-csv-"))
            header, readable = _check_csv(path, encoding, scan.scratch)
            columns_of.append(header)
            text.append((path, readable))
    names = [[clean_name(c) for c in cols] for cols in columns_of]
    for path, cols in zip(files, names):
        if set(cols) != set(names[0]):
            raise DataError(f"{path}: columns differ from {files[0].name} in table {name!r} "
                            f"({sorted(set(names[0]) ^ set(cols))}); give every file the same columns")
    rename = {raw: clean_name(raw) for raw in columns_of[0]}
    view = f"raw_{name}"
    types = _create_view(con, view, files, labels, parquet, text, rename)
    if window is not None:
        inside = [p for p in parquet if _may_hold(p, window)]
        if len(inside) < len(parquet) and (inside or text):
            _create_view(con, f"{view}_window", files, labels, inside, text, rename)
            view = f"{view}_window"
    return RawTable(name, f"raw_{name}", files, labels, types, csv=bool(text), window_view=view)


def _may_hold(path: Path, window: tuple[str, str]) -> bool:
    """Whether a parquet file may hold rows of the months ``window`` (or rows whose month is
    missing or unreadable, which validation must see), judged from its footer's statistics alone."""
    try:
        meta = pq.read_metadata(path)
        index = meta.schema.names.index("month")
    except (ValueError, OSError, pa.ArrowException):
        return True
    lows, highs = [], []
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(index).statistics
        if stats is None or not stats.has_min_max or stats.null_count is None or stats.null_count > 0:
            return True
        low, high = _month_of(stats.min), _month_of(stats.max)
        if low is None or high is None:
            return True
        lows.append(low)
        highs.append(high)
    return not lows or not (max(highs) < window[0] or min(lows) > window[1])


def _month_of(value) -> str | None:
    text = f"{value:%Y-%m}" if hasattr(value, "strftime") else str(value).strip()[:7]
    ok = len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit() and "01" <= text[5:] <= "12"
    return text if ok else None


def _create_view(con, view: str, files, labels, parquet, text, rename) -> dict[str, str]:
    parts = []
    if parquet:
        listed = ", ".join(_sql_text(p) for p in parquet)
        parts.append(f"SELECT * FROM read_parquet([{listed}], union_by_name = true, filename = '{SOURCE_COLUMN}')")
    if text:
        listed = ", ".join(_sql_text(readable) for _, readable in text)
        parts.append(f"SELECT * FROM read_csv([{listed}], all_varchar = true, header = true, union_by_name = true, "
                     f"filename = '{SOURCE_COLUMN}', auto_detect = true, delim = ',', quote = '\"', escape = '\"')")
    union = " UNION ALL BY NAME ".join(parts)
    # the source column names each file as the data directory shows it (transcoded copies too)
    sources = {str(p): label for p, label in zip(parquet, [labels[files.index(p)] for p in parquet])}
    sources.update({str(readable): labels[files.index(p)] for p, readable in text})
    mapping = " ".join(f"WHEN {_sql_text(k)} THEN {_sql_text(v)}" for k, v in sources.items())
    selected = ", ".join(f'"{raw}" AS "{clean}"' for raw, clean in rename.items())
    sql = (f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {selected}, "
           f"CASE {SOURCE_COLUMN} {mapping} ELSE {SOURCE_COLUMN} END AS {SOURCE_COLUMN} FROM ({union})")
    try:
        con.execute(sql)
        described = con.execute(f"DESCRIBE {view}").fetchall()
    except Exception as exc:  # duckdb raises its own error classes
        raise read_error(exc, files) from None
    return {row[0]: row[1] for row in described if row[0] != SOURCE_COLUMN}


_QUOTED = re.compile(r"""["']([^"']+\.(?:parquet|csv))["']""", re.IGNORECASE)


def read_error(exc: Exception, files: list[Path]) -> Exception:
    """A DuckDB read failure as a one-line StorageError naming the file it names, or as it is."""
    message = str(exc)
    first = message.splitlines()[0] if message else type(exc).__name__
    named = _QUOTED.findall(message)
    for path in files:
        if any(Path(n).name == path.name and (n == str(path) or str(path).endswith(n) or n.endswith(path.name)) for n in named):
            if path.suffix.lower() == ".parquet":
                detail = first.split(": ", 1)[-1] if ": " in first else first
                return StorageError(f"{path}: not a readable parquet file ({detail}); the file is truncated or corrupt, "
                                    "export it again")
            return StorageError(f"{path}: not a well-formed CSV ({first}); export it again")
    return exc


def open_scan(con, data_dir: Path, names, encoding: str | None = None, windows: dict | None = None) -> Scan:
    """Open every table in ``names`` present in ``data_dir`` as a view on ``con`` (raw DuckDB);
    ``windows`` maps a table to the months a command needs of it."""
    scan = Scan(Path(data_dir))
    try:
        for name in names:
            table = open_table(con, scan.data_dir, name, encoding, scan, (windows or {}).get(name))
            if table is not None:
                scan.tables[name] = table
    except BaseException:
        scan.close()
        raise
    return scan
