"""Checks remembered: which files of a data directory already passed the data contract.

A monthly run opens the same export several times (``validate``, then ``train``, ``score`` and
``report``), and each command would otherwise check the same rows again: at province scale the
row checks cost as much as the signals themselves. After a load passes, the files it checked are
recorded by fingerprint, with the months of billing and usage it checked (all, or a window). A
later load of the same files for the same or a narrower window skips the row checks; the cheap
checks of each file (readable, its columns) always run.

A file's fingerprint is its path, size and modification time, plus a digest of its content where
that is cheap to read: the footer of a parquet file (row counts, byte offsets and statistics of
every column chunk), the whole of a CSV file. Any change to any file (added, removed, rewritten)
gives a new fingerprint and the full checks run again. ``churnkit validate`` always checks every
row. The records live in the cache folder (``CHURNKIT_CACHE_DIR``, default ``~/.cache/churnkit``;
``off`` keeps no record).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from churnkit import __version__

FOOTER_TAIL = 8  # a parquet file ends with the footer's length (4 bytes) and the magic "PAR1"
CHUNK = 1 << 20


def _digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        if path.suffix.lower() == ".parquet":
            f.seek(0, os.SEEK_END)
            size = f.tell()
            if size >= FOOTER_TAIL:
                f.seek(size - FOOTER_TAIL)
                length = int.from_bytes(f.read(4), "little")
                f.seek(max(0, size - FOOTER_TAIL - length))
                h.update(f.read(length + FOOTER_TAIL))
        else:
            for block in iter(lambda: f.read(CHUNK), b""):
                h.update(block)
    return h.hexdigest()


def fingerprint(tables: dict[str, list[Path]], encoding: str | None) -> str:
    """One digest of every table's files (path, size, modification time, content digest), the
    CSV encoding and churnkit's version (a newer version may check more)."""
    h = hashlib.sha256(f"{__version__}\0{encoding or ''}".encode())
    for name in sorted(tables):
        for path in sorted(tables[name]):
            st = path.stat()
            h.update(f"\0{name}\0{path.resolve()}\0{st.st_size}\0{st.st_mtime_ns}\0{_digest(path)}".encode())
    return h.hexdigest()


class CheckRecord:
    """The record of passed checks for one data directory in ``folder`` (None: keep none)."""

    def __init__(self, folder: Path | None, data_dir: Path):
        self.path = None
        if folder is not None:
            key = hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:24]
            self.path = Path(folder) / "checked" / f"{key}.json"

    def _read(self) -> dict:
        if self.path is None or not self.path.is_file():
            return {}
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def covers(self, print_: str, scope: tuple[str, str] | None) -> bool:
        """Whether files with fingerprint ``print_`` passed checks of ``scope`` (None: every
        month) or of a scope holding it."""
        record = self._read()
        if record.get("fingerprint") != print_:
            return False
        for done in record.get("scopes", []):
            if done == "all" or (scope is not None and done[0] <= scope[0] and scope[1] <= done[1]):
                return True
        return False

    def remember(self, print_: str, scope: tuple[str, str] | None) -> None:
        """Add ``scope`` to the passed checks of these files (a new fingerprint starts afresh).
        A cache that cannot be written is no error: the next load checks again."""
        if self.path is None:
            return
        record = self._read()
        scopes = record.get("scopes", []) if record.get("fingerprint") == print_ else []
        entry = "all" if scope is None else list(scope)
        if entry not in scopes:
            scopes.append(entry)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"fingerprint": print_, "scopes": scopes}), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
