"""``churnkit campaign plan``: the month's retention wave, from the scored file.

The wave is every scored group whose action is ``visit``, ``call`` or ``care``. Before anyone
sees the list a holdout is drawn (:mod:`churnkit.campaign.holdout`); the treated groups go to
their account managers, one workbook each, riskiest first; the team lead gets a summary; the
wave's rows (treated and holdout, with the scores, reasons and script at decision time) are
added to the data directory's ``retention`` table. All these files are written all or nothing.
"""

from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from churnkit.campaign import table as T
from churnkit.campaign.holdout import DEFAULT_SALT, DEFAULT_SHARE, check_share, draw_holdout
from churnkit.campaign.workbook import write_manager_workbook, write_summary
from churnkit.errors import DataError, UsageError
from churnkit.families import LANGS
from churnkit.io import write_all
from churnkit.months import format_month, parse_month
from churnkit.playbook import Playbook, load_playbook

ACTING = ("visit", "call", "care")
NEEDED = ["month", "group_id", "account_manager", "churn_probability", "risk_rank", "expected_loss", "action",
          "reason_1", "script_id"]
UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


@dataclass
class PlanResult:
    wave: str
    rows: pd.DataFrame
    workbooks: list[Path]
    summary: Path
    table: Path

    @property
    def treated(self) -> int:
        return int((self.rows["assignment"] == "treat").sum())

    @property
    def holdout(self) -> int:
        return int((self.rows["assignment"] == "holdout").sum())


def contact_window(wave: str, horizon: int) -> tuple[date, date]:
    """The wave's months: from the first day after the scored month to the end of the horizon."""
    m = parse_month(wave)
    first, last = format_month(m + 1), format_month(m + horizon)
    y, mo = int(last[:4]), int(last[5:])
    return date(int(first[:4]), int(first[5:]), 1), date(y, mo, calendar.monthrange(y, mo)[1])


def read_scored(path: Path) -> pd.DataFrame:
    """A scored file of ``churnkit score`` (its parquet twin when it lies beside the CSV)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such scored file; run `churnkit score --out {path}` first")
    twin = path.with_suffix(".parquet")
    try:
        if path.suffix.lower() == ".parquet" or twin.is_file():
            frame = pd.read_parquet(twin if path.suffix.lower() != ".parquet" else path)
        else:
            frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False, na_values=[""])
            for col in ("churn_probability", "expected_loss", "risk_rank", "saved_value"):
                if col in frame:
                    frame[col] = pd.to_numeric(frame[col], errors="coerce")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable scored file ({exc}); score the month again with `churnkit score`") from None
    missing = [c for c in NEEDED if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: column(s) {', '.join(missing)} missing; pass the scored CSV written by `churnkit score`")
    months = sorted(set(frame["month"].astype(str)))
    if len(months) != 1:
        raise DataError(f"{path}: holds months {', '.join(months[:3]) or 'none'}; a wave is planned from one month's scored file")
    frame["group_id"] = frame["group_id"].astype(str).str.lstrip("'")
    return frame


def wave_rows(scored: pd.DataFrame, salt: str = DEFAULT_SALT, share: float = DEFAULT_SHARE,
              model_version: str | None = None) -> pd.DataFrame:
    """The wave's ``retention`` rows (decision columns) for the acting groups of a scored table."""
    wave = str(scored["month"].iloc[0]) if len(scored) else ""
    acting = scored[scored["action"].isin(ACTING)].copy()
    reason = acting["reason_1"].fillna("").astype(str).replace("", "none")
    acting["stratum"] = acting["action"].astype(str) + "/" + reason
    drawn = draw_holdout(acting[["group_id", "stratum"]], wave, salt, share)
    rows = pd.DataFrame({
        "wave": wave, "group_id": acting["group_id"].astype(str), "assignment": drawn["assignment"],
        "assignment_probability": drawn["assignment_probability"], "stratum": acting["stratum"],
        "churn_probability": acting["churn_probability"], "expected_loss": acting["expected_loss"],
        "reason_1": acting["reason_1"], "recommended_action": acting["action"], "script_id": acting["script_id"],
        "model_version": model_version, "account_manager": acting["account_manager"],
    })
    return T.typed(rows)


def order_wave(treated: pd.DataFrame) -> pd.DataFrame:
    """The wave's order in the workbooks: by saved value (highest first) when the scored file was
    ranked by saved value (``ranked_by``, see churnkit.uplift.scoring), else riskiest first."""
    if "ranked_by" in treated.columns and (treated["ranked_by"] == "saved_value").any():
        return treated.sort_values(["saved_value", "risk_rank"], ascending=[False, True], kind="stable")
    return treated.sort_values("risk_rank", kind="stable")


def _file_names(managers: list[str], wave: str, lang: str) -> dict[str, str]:
    unassigned = "未分配" if lang == "zh" else "unassigned"
    names, used = {}, set()
    for manager in managers:
        base = UNSAFE.sub("_", manager).strip(" .") or unassigned
        name, k = base, 2
        while name.lower() in used:
            name, k = f"{base}-{k}", k + 1
        used.add(name.lower())
        names[manager] = f"{wave}-{name}.xlsx"
    return names


def merge_wave(existing: pd.DataFrame | None, rows: pd.DataFrame, replace: bool = False) -> pd.DataFrame:
    """The table with the wave's rows added; re-planning the same wave with the same draw keeps what
    was imported, a different draw is refused (the holdout of a released list must not move)."""
    if existing is None or existing.empty:
        return rows
    wave = rows["wave"].iloc[0] if len(rows) else None
    before = existing[existing["wave"] == wave]
    if len(before):
        key = ["group_id", "assignment"]
        same = before[key].sort_values(key).reset_index(drop=True).equals(rows[key].sort_values(key).reset_index(drop=True))
        if same:
            return existing
        if not replace:
            raise DataError(f"wave {wave} is already in the retention table with a different list or holdout; its workbooks may "
                            "have been handed out. Keep it, or pass --replace to plan it again from scratch")
        if before[T.MANAGER_COLUMNS].notna().any().any():
            raise DataError(f"wave {wave} already holds managers' records (imported workbooks); it cannot be replaced")
    return pd.concat([existing[existing["wave"] != wave], rows], ignore_index=True)


def plan_wave(scored: Path, data_dir: Path, out_dir: Path, salt: str = DEFAULT_SALT, share: float = DEFAULT_SHARE,
              lang: str = "zh", playbook: Path | Playbook | None = None, model_version: str | None = None,
              horizon: int = 3, replace: bool = False) -> PlanResult:
    """Plan the wave of ``scored``: workbooks in ``out_dir`` and rows in ``data_dir``'s retention table."""
    if lang not in LANGS:
        raise UsageError(f"--lang must be one of {', '.join(LANGS)}, not {lang!r}")
    check_share(share)
    if not Path(data_dir).is_dir():
        raise DataError(f"{data_dir}: no such data directory; pass the folder that holds groups, billing and churn")
    book = playbook if isinstance(playbook, Playbook) else load_playbook(playbook)
    frame = read_scored(scored)
    rows = wave_rows(frame, salt, share, model_version)
    if rows.empty:
        raise DataError(f"{scored}: no group has action visit, call or care; there is no wave to plan")
    wave = rows["wave"].iloc[0]
    target = T.writable(data_dir)
    merged = merge_wave(T.read_retention(data_dir), rows, replace)
    window = contact_window(wave, horizon)
    treated = frame.set_index("group_id").loc[rows.loc[rows["assignment"] == "treat", "group_id"]].reset_index()
    treated = order_wave(treated)
    treated["account_manager"] = treated["account_manager"].fillna("").astype(str)
    managers = sorted(set(treated["account_manager"]))
    names = _file_names(managers, wave, lang)
    out_dir = Path(out_dir)
    targets = []
    for manager in managers:
        mine = treated[treated["account_manager"] == manager]
        targets.append((out_dir / names[manager], lambda tmp, m=manager, g=mine: write_manager_workbook(
            tmp, g, wave, m, lang, book, window, share)))
    summary = out_dir / f"{wave}-{'汇总' if lang == 'zh' else 'summary'}.xlsx"
    targets.append((summary, lambda tmp: write_summary(tmp, rows, wave, lang, share, window)))
    targets.append((target, lambda tmp: T.write_parquet(merged, tmp)))
    write_all(targets)
    return PlanResult(wave, rows, [t[0] for t in targets[:-2]], summary, target)


def bundle_version(model: Path) -> str | None:
    """The model bundle's hash (first 12 hex digits), None when the folder holds no manifest."""
    manifest = Path(model) / "manifest.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["model_sha256"])[:12]
    except (OSError, ValueError, KeyError):
        return None
