"""Files on any file system Spark reads (a local folder, ``hdfs://``, ``s3a://``), through
Hadoop's FileSystem API in the driver's JVM: listing a data directory, the first bytes of a CSV
(its header), and joining part files into one file by streams (no file passes through Python).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from churnkit.errors import DataError, StorageError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")
HEAD_BYTES = 1 << 16


def uri_of(data) -> str:
    """``data`` as a Hadoop path string: a URI as given (``hdfs://nn/x``; a path mangled by
    ``pathlib``, ``hdfs:/nn/x``, gets its second slash back), a local path made absolute."""
    text = str(data)
    if _SCHEME.match(text):
        scheme, rest = text.split(":", 1)
        if scheme != "file" and rest.startswith("/") and not rest.startswith("//"):
            rest = "/" + rest
        return f"{scheme}:{rest}"
    return str(Path(text).absolute())


@dataclass(frozen=True)
class Entry:
    uri: str
    name: str
    size: int
    is_file: bool


class FileSystem:
    """The Hadoop FileSystem of a path, seen from the driver."""

    def __init__(self, spark, uri: str):
        self.spark = spark
        self.jvm = spark._jvm
        self.conf = spark._jsc.hadoopConfiguration()
        self.root = self.jvm.org.apache.hadoop.fs.Path(uri)
        self.fs = self.root.getFileSystem(self.conf)
        self.fs.setWriteChecksum(False)  # no .crc sidecar files beside the outputs on a local disk

    def path(self, uri: str):
        return self.jvm.org.apache.hadoop.fs.Path(uri)

    def qualified(self, uri: str) -> str:
        return str(self.fs.makeQualified(self.path(uri)).toString())

    def exists(self, uri: str) -> bool:
        return bool(self.fs.exists(self.path(uri)))

    def is_dir(self, uri: str) -> bool:
        return bool(self.fs.exists(self.path(uri)) and self.fs.getFileStatus(self.path(uri)).isDirectory())

    def entry(self, uri: str) -> Entry | None:
        p = self.path(uri)
        if not self.fs.exists(p):
            return None
        status = self.fs.getFileStatus(p)
        return Entry(str(status.getPath().toString()), status.getPath().getName(), int(status.getLen()), bool(status.isFile()))

    def listing(self, uri: str) -> list[Entry]:
        return sorted((Entry(str(s.getPath().toString()), s.getPath().getName(), int(s.getLen()), bool(s.isFile()))
                       for s in self.fs.listStatus(self.path(uri))), key=lambda e: e.name)

    def head(self, uri: str, n: int = HEAD_BYTES) -> bytes:
        """The first ``n`` bytes of a file (fewer when it is shorter)."""
        stream = self.fs.open(self.path(uri))
        try:
            bounded = self.jvm.org.apache.commons.io.input.BoundedInputStream(stream, n)
            return bytes(self.jvm.org.apache.commons.io.IOUtils.toByteArray(bounded))  # byte[] comes back by value
        finally:
            stream.close()

    def concat(self, header: bytes, parts: list[str], target: str) -> None:
        """Write ``header`` then every part file, in order, into ``target`` (streamed in the JVM)."""
        out = self.fs.create(self.path(target), True)
        try:
            if header:
                out.write(bytearray(header))
            for part in parts:
                stream = self.fs.open(self.path(part))
                try:
                    self.jvm.org.apache.hadoop.io.IOUtils.copyBytes(stream, out, 1 << 20, False)
                finally:
                    stream.close()
        finally:
            out.close()

    def delete(self, uri: str) -> None:
        self.fs.delete(self.path(uri), True)

    def rename(self, source: str, target: str) -> None:
        if self.fs.exists(self.path(target)):
            self.fs.delete(self.path(target), True)
        if not self.fs.rename(self.path(source), self.path(target)):
            raise StorageError(f"{target}: cannot write (rename from {source} failed); check the folder and free space")

    def mkdirs(self, uri: str) -> None:
        self.fs.mkdirs(self.path(uri))


def table_files(fs: FileSystem, root: str, name: str) -> list[Entry]:
    """The files of table ``name`` under ``root``, as :func:`churnkit.io.table_files` finds them
    on a local disk (same rules, same messages)."""
    found = [e for e in (fs.entry(f"{root}/{name}.parquet"), fs.entry(f"{root}/{name}.csv")) if e is not None and e.is_file]
    folder = f"{root}/{name}"
    if fs.is_dir(folder):
        files = [e for e in fs.listing(folder) if e.is_file and e.name.lower().endswith((".parquet", ".csv"))]
        if not files:
            raise DataError(f"{folder}: folder has no .parquet or .csv files; put the monthly files of "
                            f"table {name!r} there or remove the folder")
        if found:
            raise DataError(f"{root}: table {name!r} is given twice (a file and a folder); keep one")
        return files
    if len(found) > 1:
        raise DataError(f"{root}: table {name!r} is given twice ({found[0].name} and {found[1].name}); keep one")
    return found
