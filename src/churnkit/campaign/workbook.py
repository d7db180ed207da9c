"""Writing the wave's workbooks with openpyxl: one per account manager, and the team lead's summary.

Every manager workbook keeps ``group_id`` as text (an 18-digit id never turns into 5.1E+17),
freezes the header and the id column, has filters, fitted widths and wrapped reasons and
script steps, and validates the input columns with drop-downs (action taken, script used), a
date range (contact date within the wave's months) and a number >= 0 (offer cost). The sheet is
protected without a password: only the input cells can be edited, filtering and sorting still
work.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from churnkit.campaign import layout as L
from churnkit.families import family_label
from churnkit.playbook import Playbook

HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")
INPUT_FILL = PatternFill("solid", fgColor="FFF8DC")
OPEN = Protection(locked=False)
TOP_WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")


def _protect(ws) -> None:
    """Lock every cell not marked open; let people filter, sort and resize."""
    p = ws.protection
    p.sheet = True
    p.autoFilter = False
    p.sort = False
    p.formatColumns = False
    p.formatRows = False
    p.selectLockedCells = False
    p.selectUnlockedCells = False


def _head(ws, labels: list[str], widths: list[int]) -> None:
    ws.append(labels)
    for i, width in enumerate(widths, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[L.column_letter(i)].width = width
    ws.row_dimensions[1].height = 30


def _validations(ws, first_col: int, first_row: int, last_row: int, lang: str, scripts: int, window: tuple[date, date]) -> None:
    """Drop-downs and checks on the input columns starting at column ``first_col``."""
    col = {key: L.column_letter(first_col + i) for i, key in enumerate(L.INPUT_KEYS)}

    def cells(key: str) -> str:
        return f"{col[key]}{first_row}:{col[key]}{max(last_row, first_row)}"

    script_sheet = L.SCRIPT_SHEET[lang]
    lo, hi = window
    checks = [
        ("action_taken", DataValidation(type="list", formula1='"' + ",".join(L.ACTION_LABELS[lang].values()) + '"',
                                        allow_blank=True)),
        ("script_used", DataValidation(type="list", formula1=f"'{script_sheet}'!$A$2:$A${scripts + 1}", allow_blank=True)),
        ("contacted", DataValidation(type="date", operator="between", formula1=f"DATE({lo.year},{lo.month},{lo.day})",
                                     formula2=f"DATE({hi.year},{hi.month},{hi.day})", allow_blank=True)),
        ("offer_cost", DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)),
    ]
    words = L.WORDS[lang]
    errors = {"action_taken": words["bad_action"], "script_used": words["bad_script"], "offer_cost": words["bad_cost"],
              "contacted": words["bad_date"].format(first=lo.isoformat(), last=hi.isoformat())}
    for key, dv in checks:
        dv.error = errors[key]
        dv.errorTitle = "churnkit"
        dv.showErrorMessage = True
        ws.add_data_validation(dv)
        dv.add(cells(key))


def _open_inputs(ws, first_col: int, rows: range) -> None:
    for r in rows:
        for i, key in enumerate(L.INPUT_KEYS):
            cell = ws.cell(row=r, column=first_col + i)
            cell.protection = OPEN
            cell.fill = INPUT_FILL
            cell.alignment = TOP_WRAP if key in L.WRAPPED else TOP
            if key == "contacted":
                cell.number_format = "yyyy-mm-dd"
            elif key == "offer_cost":
                cell.number_format = "0.00"


def _script_sheet(wb: Workbook, book: Playbook, lang: str) -> int:
    w = L.WORDS[lang]
    ws = wb.create_sheet(L.SCRIPT_SHEET[lang])
    _head(ws, [w["script_id"], w["script_title"], w["script_family"], w["script_steps"]], [16, 36, 14, 90])
    scripts = book.scripts(lang)
    for s in scripts:
        ws.append([s.id, s.title, family_label(s.family, lang), s.steps.replace(" | ", "\n")])
        for cell in ws[ws.max_row]:
            cell.alignment = TOP_WRAP
    ws.freeze_panes = "B2"
    _protect(ws)
    return len(scripts)


def _meta(wb: Workbook, values: dict) -> None:
    ws = wb.create_sheet(L.META_SHEET)
    for key, value in values.items():
        ws.append([key, value])
    ws.sheet_state = "hidden"
    _protect(ws)


def _list_row(row: pd.Series, lang: str) -> list:
    reasons = [str(row[f"reason_{k}_text"]) for k in (1, 2, 3)
               if isinstance(row.get(f"reason_{k}_text"), str) and row[f"reason_{k}_text"]]
    script = f"{row['script_id']} {row['script_title']}".strip() if row.get("script_id") else ""
    return [int(row["risk_rank"]), str(row["group_id"]), row.get("group_name") or "",
            L.ACTION_LABELS[lang].get(row["action"], row["action"]), float(row["churn_probability"]),
            round(float(row["expected_loss"]), 2), "\n".join(reasons), script,
            str(row.get("script_steps") or "").replace(" | ", "\n")]


def write_manager_workbook(path: Path, rows: pd.DataFrame, wave: str, manager: str, lang: str, book: Playbook,
                           window: tuple[date, date], share: float) -> None:
    """One manager's workbook: ``rows`` are their treated groups (scored-file columns), riskiest first."""
    wb = Workbook()
    ws = wb.active
    ws.title = L.LIST_SHEET[lang]
    keys = [c[0] for c in L.LIST_COLUMNS]
    _head(ws, L.header(L.LIST_COLUMNS, lang), [c[3] for c in L.LIST_COLUMNS])
    first_input = keys.index("contacted") + 1
    for _, row in rows.iterrows():
        ws.append(_list_row(row, lang))
        r = ws.max_row
        for i, key in enumerate(keys[:first_input - 1], start=1):
            cell = ws.cell(row=r, column=i)
            cell.alignment = TOP_WRAP if key in L.WRAPPED else TOP
        ws.cell(row=r, column=2).number_format = "@"
        ws.cell(row=r, column=5).number_format = "0.0%"
        ws.cell(row=r, column=6).number_format = "#,##0"
    last = max(ws.max_row, 2)
    _open_inputs(ws, first_input, range(2, last + 1))
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{L.column_letter(len(keys))}{last}"
    n_scripts = _script_sheet(wb, book, lang)
    _validations(ws, first_input, 2, last, lang, n_scripts, window)
    _protect(ws)

    other = wb.create_sheet(L.OTHER_SHEET[lang], 1)
    _head(other, L.header(L.OTHER_COLUMNS, lang), [c[3] for c in L.OTHER_COLUMNS])
    for r in range(2, L.OTHER_ROWS + 2):
        cell = other.cell(row=r, column=1)
        cell.protection = OPEN
        cell.number_format = "@"
        cell.fill = INPUT_FILL
    _open_inputs(other, 2, range(2, L.OTHER_ROWS + 2))
    _validations(other, 2, 2, L.OTHER_ROWS + 1, lang, n_scripts, window)
    other.freeze_panes = "B2"
    _protect(other)
    _meta(wb, {"format": L.FORMAT, "wave": wave, "account_manager": manager, "lang": lang, "groups": len(rows),
               "first_contact": window[0].isoformat(), "last_contact": window[1].isoformat(), "holdout_share": share})
    wb.properties.title = L.WORDS[lang]["title"].format(wave=wave, manager=manager)
    wb.properties.creator = "churnkit"
    wb.save(path)


def write_summary(path: Path, wave_rows: pd.DataFrame, wave: str, lang: str, share: float, window: tuple[date, date]) -> None:
    """The team lead's workbook: per manager, groups on the list, expected loss and actions."""
    w = L.WORDS[lang]
    actions = list(L.ACTION_LABELS[lang])[:3]
    wb = Workbook()
    ws = wb.active
    ws.title = w["summary_sheet"]
    labels = [w["manager"], w["groups"], w["expected_loss"]] + [L.ACTION_LABELS[lang][a] for a in actions] + [w["holdout"]]
    _head(ws, labels, [18, 12, 18] + [12] * len(actions) + [12])
    treat = wave_rows[wave_rows["assignment"] == "treat"]
    held = wave_rows[wave_rows["assignment"] == "holdout"]
    managers = sorted(set(wave_rows["account_manager"].fillna("")))
    for manager in managers:
        mine = treat[treat["account_manager"].fillna("") == manager]
        ws.append([manager or w["not_set"], len(mine), round(float(mine["expected_loss"].sum()), 2),
                   *[int((mine["recommended_action"] == a).sum()) for a in actions],
                   int((held["account_manager"].fillna("") == manager).sum())])
    ws.append([w["total"], len(treat), round(float(treat["expected_loss"].sum()), 2),
               *[int((treat["recommended_action"] == a).sum()) for a in actions], len(held)])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in ws.iter_rows(min_row=2, min_col=3, max_col=3):
        row[0].number_format = "#,##0"
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = f"A1:{L.column_letter(len(labels))}{ws.max_row}"
    about = wb.create_sheet(w["about"])
    about.column_dimensions["A"].width = 100
    about.append([w["summary_title"].format(wave=wave)])
    about.append([w["about_text"].format(wave=wave, share=share, first=window[0].isoformat(), last=window[1].isoformat())])
    about["A2"].alignment = TOP_WRAP
    wb.properties.creator = "churnkit"
    wb.save(path)
