"""A data directory's tables read by Spark, each a temporary view ``raw_<name>``.

``--data`` is a folder Spark reads (a local path, ``hdfs://...``, ``s3a://...``) holding a
table as ``NAME.parquet``, ``NAME.csv`` or a folder ``NAME/`` of such files, as on one machine;
or ``catalog:DATABASE``, whose tables ``DATABASE.groups``, ``DATABASE.billing``, ... come from the
Spark catalog (Hive metastore, Unity, Glue). Every column keeps its stored type (CSV as text)
and ``__source__`` names the file of each row, relative to the data directory (or the catalog
table). Before any row is read each file is checked from the driver as :mod:`churnkit.scan`
checks it, with the same messages: not empty, a parquet footer that parses, CSV text with a
header line in the expected encoding, the same columns in every file. Rows are read by the
executors only.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field

from churnkit.errors import DataError, StorageError
from churnkit.io import SOURCE_COLUMN
from churnkit.scan import _encoding, clean_name
from churnkit.spark.files import Entry, FileSystem, table_files, uri_of

CATALOG = "catalog:"


@dataclass
class SparkTable:
    """One table of a data directory as a Spark view."""

    name: str
    view: str
    labels: list[str]
    columns: dict[str, str]  # column -> Spark type name (upper case: DOUBLE, STRING, ...)
    files: list[str] = field(default_factory=list)  # display paths, as messages name them


@dataclass
class Source:
    """Where the tables come from: a folder (``root``, a Hadoop URI) or a catalog database."""

    given: str
    root: str | None = None
    database: str | None = None

    @classmethod
    def parse(cls, data) -> "Source":
        text = str(data)
        if text.startswith(CATALOG):
            return cls(text, database=text[len(CATALOG):])
        return cls(text, root=uri_of(text))

    def display(self, entry: Entry, root_uri: str) -> str:
        """A file as the user named the folder: the given text followed by the relative path."""
        return f"{self.given.rstrip('/')}/{relative(entry.uri, root_uri)}"


def relative(uri: str, root: str) -> str:
    return uri[len(root):].lstrip("/") if uri.startswith(root) else uri


def open_tables(spark, source: Source, names, encoding: str | None = None) -> dict[str, SparkTable]:
    """Check and open every table of ``names`` present in ``source``."""
    if source.database is not None:
        return {n: t for n in names if (t := _catalog_table(spark, source.database, n)) is not None}
    fs = FileSystem(spark, source.root)
    if not fs.is_dir(source.root):
        raise DataError(f"{source.given}: no such data directory; pass the folder holding groups, billing and usage")
    root = fs.qualified(source.root)
    out = {}
    for name in names:
        table = _folder_table(spark, fs, source, root, name, encoding)
        if table is not None:
            out[name] = table
    return out


def _catalog_table(spark, database: str, name: str) -> SparkTable | None:
    if not spark.catalog.tableExists(f"{database}.{name}"):
        return None
    from pyspark.sql import functions as F

    label = f"{database}.{name}"
    df = spark.table(label)
    df = df.toDF(*[clean_name(c) for c in df.columns]).withColumn(SOURCE_COLUMN, F.lit(label))
    return _view(df, name, [label], [label])


def _folder_table(spark, fs: FileSystem, source: Source, root: str, name: str, encoding: str | None) -> SparkTable | None:
    entries = table_files(fs, root, name)
    if not entries:
        return None
    shown = [source.display(e, root) for e in entries]
    columns_of, parquet, text = [], [], []
    for entry, path in zip(entries, shown):
        if entry.size == 0:
            raise StorageError(f"{path}: file is empty (0 bytes); export the table again or remove the file")
        if entry.name.lower().endswith(".parquet"):
            columns_of.append(_parquet_schema(fs, entry.uri, path))
            parquet.append(entry)
        else:
            columns_of.append({c: "STRING" for c in _csv_header(fs, entry.uri, path, encoding)})
            text.append(entry)
    names = [[clean_name(c) for c in cols] for cols in columns_of]
    for path, cols in zip(shown, names):
        if set(cols) != set(names[0]):
            raise DataError(f"{path}: columns differ from {entries[0].name} in table {name!r} "
                            f"({sorted(set(names[0]) ^ set(cols))}); give every file the same columns")
    frames = []
    if parquet:
        frames.extend(_read_parquet(spark, parquet, [columns_of[entries.index(e)] for e in parquet]))
    if text:
        frames.append(spark.read.csv([e.uri for e in text], header=True, inferSchema=False, multiLine=True,
                                     encoding=_encoding(encoding).replace("utf-8-sig", "UTF-8"), quote='"', escape='"'))
    frames = [_labelled(df, root, source) for df in frames]
    df = _union(frames)
    return _view(df, name, [relative(e.uri, root) for e in entries], shown)


def _parquet_schema(fs: FileSystem, uri: str, path: str) -> dict[str, str]:
    """Column -> physical type of a parquet file, from its footer alone (read in the driver's JVM)."""
    jvm = fs.jvm
    try:
        reader = jvm.org.apache.parquet.hadoop.ParquetFileReader.open(
            jvm.org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(fs.path(uri), fs.conf))
        try:
            fields = reader.getFileMetaData().getSchema().getFields()
            return {str(f.getName()): str(f.toString()).split(" ", 2)[-1] for f in fields}
        finally:
            reader.close()
    except Exception as exc:  # py4j raises the JVM's exception
        text = str(exc)
        first = next((line.split(": ", 1)[-1] for line in text.splitlines() if "Exception" in line), text.splitlines()[0] if text else "")
        raise StorageError(f"{path}: not a readable parquet file ({first.strip()[:200]}); the file is truncated or corrupt, "
                           "export it again") from None


def _csv_header(fs: FileSystem, uri: str, path: str, encoding: str | None) -> list[str]:
    """The header of a CSV file, from its first bytes (the encoding is proven on those bytes)."""
    enc = _encoding(encoding)
    head = fs.head(uri)
    try:
        text = codecs.getincrementaldecoder(enc)().decode(head, final=False)
    except UnicodeDecodeError as exc:
        hint = ("operators often export GB18030: rerun with --encoding gb18030" if encoding is None
                else f"check the file's real encoding and pass it with --encoding (not {encoding})")
        raise StorageError(f"{path}: not valid {enc} text (byte 0x{exc.object[exc.start]:02x} at offset "
                           f"{exc.start}); {hint}") from None
    lines = [line for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    if not lines:
        raise StorageError(f"{path}: file has no header line; export the table again with its column names")
    try:
        return next(csv.reader(io.StringIO(lines[0])))
    except csv.Error as exc:
        raise StorageError(f"{path}: not a well-formed CSV ({exc}); export it again") from None


def _read_parquet(spark, entries: list[Entry], schemas: list[dict[str, str]]):
    """One read per distinct file schema; columns whose type differs between files become text
    (validation then names the rows that are not numbers), as DuckDB's union by name does."""
    groups: dict[tuple, list[Entry]] = {}
    for entry, schema in zip(entries, schemas):
        groups.setdefault(tuple(sorted(schema.items())), []).append(entry)
    types: dict[str, set] = {}
    for schema in schemas:
        for col, t in schema.items():
            types.setdefault(col, set()).add(t)
    clash = {c for c, t in types.items() if len(t) > 1}
    frames = []
    for files in groups.values():
        df = spark.read.parquet(*[e.uri for e in files])
        for col in clash:
            df = df.withColumn(col, df[col].cast("string"))
        frames.append(df)
    return frames


def _labelled(df, root: str, source: Source):
    """``df`` with ``__source__``: each row's file relative to the data directory."""
    from pyspark.sql import functions as F

    path = F.url_decode(F.col("_metadata.file_path"))
    prefix = root.rstrip("/") + "/"
    df = df.withColumn(SOURCE_COLUMN, F.when(path.startswith(prefix), F.substring(path, len(prefix) + 1, 1 << 20))
                       .otherwise(path))
    return df.toDF(*[clean_name(c) for c in df.columns])


def _union(frames):
    """The frames stacked by column name; a column stored with different types in different
    files (text in a CSV, numbers in parquet) becomes text in all of them, as DuckDB unites them."""
    types: dict[str, set] = {}
    for df in frames:
        for f in df.schema.fields:
            types.setdefault(f.name, set()).add(f.dataType.simpleString())
    clash = [c for c, t in types.items() if len(t) > 1]
    out = None
    for df in frames:
        for col in clash:
            if col in df.columns:
                df = df.withColumn(col, df[col].cast("string"))
        out = df if out is None else out.unionByName(df, allowMissingColumns=True)
    return out


def _view(df, name: str, labels: list[str], shown: list[str]) -> SparkTable:
    view = f"raw_{name}"
    df.createOrReplaceTempView(view)
    columns = {f.name: f.dataType.simpleString().upper() for f in df.schema.fields if f.name != SOURCE_COLUMN}
    return SparkTable(name, view, labels, columns, shown)
