"""``churnkit campaign import``: the managers' filled workbooks read back into the retention table.

Every workbook is checked before anything is written, and every problem is reported at once,
each naming the file, sheet, row and cell and saying how to fix it: a workbook that is not a
churnkit campaign workbook or is of another wave, a changed or unknown ``group_id``, an unknown
action or script, a contact date that is not a date or lies outside the wave's months, an offer
cost that is not a number >= 0. Only when all workbooks pass is the table rewritten, once,
atomically; a failed import changes nothing. A holdout group recorded as contacted (on the
other-contacts sheet) is kept and counted as a deviation. Importing the same workbooks again
changes nothing; a row whose input cells are all empty leaves the table's row as it was.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from churnkit.campaign import layout as L
from churnkit.campaign import table as T
from churnkit.errors import DataError
from churnkit.io import write_all
from churnkit.playbook import Playbook, load_playbook


class WorkbookError(DataError):
    """One or more workbooks cannot be imported; ``problems`` lists each one."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
        super().__init__(problems[0] + more + "; nothing was imported")


@dataclass
class ImportResult:
    workbooks: int
    rows: int  # rows with a manager's input
    changed: int  # retention rows whose managers' columns changed
    deviations: int  # holdout rows of the imported waves with a contact date
    table: Path | None  # None when nothing changed (the file was left untouched)


def _text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _as_date(value) -> date | None | str:
    """A date, None when empty, or the offending text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return str(value)


class _Reader:
    """Collects the records and the problems of the workbooks of one import."""

    def __init__(self, retention: pd.DataFrame, book: Playbook, wave: str | None):
        self.table = retention
        self.wave = wave
        self.problems: list[str] = []
        self.records: dict[tuple[str, str], tuple[dict, str]] = {}
        self.scripts = {s.id for s in book.scripts("zh")} | set(retention["script_id"].dropna())
        self.waves = set(retention["wave"])

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def read(self, path: Path) -> None:
        path = Path(path)
        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except FileNotFoundError:
            return self.problem(str(path), "no such file; check the path")
        except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
            return self.problem(str(path), "not an .xlsx workbook; pass the workbooks written by `churnkit campaign plan` "
                                           "(save them as .xlsx, not .xls or .csv)")
        try:
            self._read_book(path, wb)
        finally:
            wb.close()

    def _read_book(self, path: Path, wb) -> None:
        if L.META_SHEET not in wb.sheetnames:
            return self.problem(str(path), f"not a churnkit campaign workbook (no sheet {L.META_SHEET}); "
                                           "import the workbooks written by `churnkit campaign plan`")
        meta = {str(r[0]): r[1] for r in wb[L.META_SHEET].iter_rows(values_only=True) if r and r[0] is not None}
        wave, lang = str(meta.get("wave")), str(meta.get("lang"))
        if meta.get("format") != L.FORMAT or lang not in L.LIST_SHEET:
            return self.problem(str(path), f"sheet {L.META_SHEET} was changed or is of another churnkit version; "
                                           "use the workbook as `churnkit campaign plan` wrote it")
        if self.wave is not None and wave != self.wave:
            return self.problem(str(path), f"workbook of wave {wave}, not of wave {self.wave}; import it without --wave "
                                           f"{self.wave} or pass the workbooks of wave {self.wave}")
        if wave not in self.waves:
            return self.problem(str(path), f"workbook of wave {wave}, which the retention table does not hold; "
                                           "import it into the data directory its wave was planned in")
        window = (date.fromisoformat(str(meta["first_contact"])), date.fromisoformat(str(meta["last_contact"])))
        manager = "" if meta.get("account_manager") is None else str(meta["account_manager"])
        rows = self.table[self.table["wave"] == wave]
        mine = set(rows.loc[(rows["assignment"] == "treat") & (rows["account_manager"].fillna("") == manager), "group_id"])
        everyone = dict(zip(rows["group_id"], rows["assignment"]))
        for kind, columns, allowed in (("list", L.LIST_COLUMNS, mine), ("other", L.OTHER_COLUMNS, set(everyone))):
            sheet = (L.LIST_SHEET if kind == "list" else L.OTHER_SHEET)[lang]
            if sheet not in wb.sheetnames:
                self.problem(f"{path}, sheet {sheet}", "sheet missing; do not rename or delete the workbook's sheets")
                continue
            self._read_sheet(path, wb[sheet], sheet, columns, lang, wave, window, allowed, kind)

    def _read_sheet(self, path, ws, sheet, columns, lang, wave, window, allowed, kind) -> None:
        keys = [c[0] for c in columns]
        expected = L.header(columns, lang)
        rows = ws.iter_rows(values_only=True)
        head = list(next(rows, ()))
        for i, label in enumerate(expected):
            found = head[i] if i < len(head) else None
            if found != label:
                cell = f"{L.column_letter(i + 1)}1"
                return self.problem(f"{path}, sheet {sheet}, cell {cell}", f"header {found!r} where {label!r} belongs; "
                                                                             "do not insert, move or rename columns")
        at = {k: i for i, k in enumerate(keys)}
        for r, values in enumerate(rows, start=2):
            values = list(values) + [None] * (len(keys) - len(values))
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            where = f"{path}, sheet {sheet}, row {r}"
            gid = values[at["group_id"]]
            cell = f"{L.column_letter(at['group_id'] + 1)}{r}"
            if not isinstance(gid, str):
                hint = ("it is stored as a number (a spreadsheet may have turned it into 5.1E+17); " if gid is not None else "it is empty; ")
                self.problem(f"{where}, cell {cell}", f"group_id {gid}: {hint}enter it as text, exactly as planned")
                continue
            gid = gid.strip().lstrip("'")
            if gid not in allowed:
                fix = ("it is not on this manager's list of the wave: the group_id cells must not be changed, copy the "
                       "original back" if kind == "list" else f"it is not a group of wave {wave}: record only groups of this wave")
                self.problem(f"{where}, cell {cell}", f"group_id {gid}: {fix}")
                continue
            record = self._inputs(values, at, r, where, lang, window)
            if record is None or all(v is None for v in record.values()):
                continue
            key = (wave, gid)
            if key in self.records and self.records[key][0] != record:
                self.problem(where, f"group {gid} is recorded differently in {self.records[key][1]}; keep one record per group")
                continue
            self.records[key] = (record, where)

    def _inputs(self, values, at, r, where, lang, window) -> dict | None:
        def cell(key: str) -> str:
            return f"{where}, cell {L.column_letter(at[key] + 1)}{r}"

        ok = True
        contacted = _as_date(values[at["contacted"]])
        if isinstance(contacted, str):
            self.problem(cell("contacted"), f"{contacted!r} is not a date; enter the date of first contact as YYYY-MM-DD")
            ok = False
        elif contacted is not None and not window[0] <= contacted <= window[1]:
            self.problem(cell("contacted"), f"contact date {contacted} lies outside the wave's months "
                                            f"({window[0]} to {window[1]}); correct the date, or leave it empty if not reached")
            ok = False
        labels = {label: code for code, label in L.ACTION_LABELS[lang].items()} | {c: c for c in T.TAKEN}
        action = _text(values[at["action_taken"]])
        if action is not None and action not in labels:
            self.problem(cell("action_taken"), f"unknown action {action!r}; pick one of {', '.join(L.ACTION_LABELS[lang].values())}")
            ok = False
        script = _text(values[at["script_used"]])
        if script is not None:
            script = script.split()[0]
            if script not in self.scripts:
                self.problem(cell("script_used"), f"unknown script {script!r}; pick a script id of the playbook (sheet "
                                                  f"{L.SCRIPT_SHEET[lang]}) or leave it empty")
                ok = False
        cost = values[at["offer_cost"]]
        if isinstance(cost, str) and cost.strip():
            try:
                cost = float(cost.strip())
            except ValueError:
                pass
        if cost is not None and not (isinstance(cost, str) and not cost.strip()):
            if isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost < 0 or cost != cost:
                self.problem(cell("offer_cost"), f"offer cost {cost!r} is not a number of yuan >= 0; enter 0 for no offer")
                ok = False
        else:
            cost = None
        if not ok:
            return None
        return {"contacted": contacted, "action_taken": labels.get(action) if action else None, "script_used": script,
                "offer": _text(values[at["offer"]]), "offer_cost": None if cost is None else float(cost),
                "note": _text(values[at["note"]])}


def apply_records(retention: pd.DataFrame, records: dict[tuple[str, str], dict]) -> tuple[pd.DataFrame, int]:
    """The table with the records' managers' columns set, and how many rows changed."""
    out = retention.copy()
    index = {key: i for i, key in enumerate(zip(out["wave"], out["group_id"]))}
    changed = 0
    for key, record in records.items():
        i = index[key]
        before = [out.at[i, c] for c in T.MANAGER_COLUMNS]
        after = [record[c] for c in T.MANAGER_COLUMNS]
        if any(not _same(a, b) for a, b in zip(before, after)):
            changed += 1
            for c, v in zip(T.MANAGER_COLUMNS, after):
                out.at[i, c] = v
    return T.typed(out), changed


def _same(a, b) -> bool:
    a_missing, b_missing = a is None or a is pd.NA or a != a, b is None or b is pd.NA or b != b
    if a_missing or b_missing:
        return a_missing and b_missing
    return a == b


def import_workbooks(paths: list[Path], data_dir: Path, playbook: Path | Playbook | None = None,
                     wave: str | None = None) -> ImportResult:
    """Read ``paths`` back into ``data_dir``'s retention table, all or nothing."""
    if not paths:
        raise DataError("no workbook given; pass the managers' .xlsx files")
    retention = T.read_retention(data_dir)
    if retention is None:
        raise DataError(f"{data_dir}: no retention table; plan the wave with `churnkit campaign plan` first")
    target = T.writable(data_dir)
    book = playbook if isinstance(playbook, Playbook) else load_playbook(playbook)
    reader = _Reader(retention, book, wave)
    for path in paths:
        reader.read(path)
    if reader.problems:
        raise WorkbookError(reader.problems)
    records = {k: v[0] for k, v in reader.records.items()}
    updated, changed = apply_records(retention, records)
    waves = {k[0] for k in records}
    touched = updated[updated["wave"].isin(waves)]
    deviations = int(((touched["assignment"] == "holdout") & touched["contacted"].notna()).sum())
    if changed:
        write_all([(target, lambda tmp: T.write_parquet(updated, tmp))])
    return ImportResult(len(paths), len(records), changed, deviations, target if changed else None)
