"""This month's risk, from the scored file: actions, deciles, the top groups, each account
manager's list, and the reason families that dominate the top decile.

A group is **at risk** for its manager when the value policy gives it an action (visit, call or
care); ``none`` means no warning worth acting on, or a group not worth the cost of retention.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from churnkit.errors import DataError
from churnkit.output import SCORED_COLUMNS, excluded_path
from churnkit.policy import ACTIONS

AT_RISK = ("visit", "call", "care")
TOP_GROUPS = 20
MANAGER_ROWS = 10
UNASSIGNED = ""


def _unescape(value):
    """Undo the scored CSV's apostrophe before text that a spreadsheet would run as a formula."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def read_scored(path: Path, month: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scored file of ``month`` and its excluded list, as ``churnkit score`` wrote them.

    The parquet twin is read when it lies beside the CSV (exact types), otherwise the CSV itself.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such scored file; run `churnkit score --month {month} --out {path}` or leave out --scored")
    twin = path.with_suffix(".parquet")
    parquet = twin if path.suffix.lower() == ".csv" and twin.is_file() else path if path.suffix.lower() == ".parquet" else None
    try:
        if parquet is not None:
            scored = _read_parquet(parquet)
        else:
            scored = pd.read_csv(path, encoding="utf-8-sig", dtype={"group_id": str, "month": str}, keep_default_na=False,
                                 na_values=[""]).map(_unescape)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable scored file ({exc}); score again with `churnkit score`") from None
    missing = [c for c in SCORED_COLUMNS if c not in scored.columns]
    if missing:
        raise DataError(f"{path}: column(s) {', '.join(missing)} missing; it is not a churnkit scored file (v1), "
                        "score again with `churnkit score`")
    months = sorted(set(scored["month"].astype(str)))
    if months != [month]:
        raise DataError(f"{path}: column month holds {', '.join(months[:3]) or 'nothing'}, not {month}; "
                        f"pass the scored file of {month} or leave out --scored to score it")
    excluded_file = excluded_path(path.with_suffix(".csv"))
    excluded = (pd.read_csv(excluded_file, encoding="utf-8-sig", dtype=str, keep_default_na=False)
                if excluded_file.is_file() else pd.DataFrame(columns=["month", "group_id", "group_name", "reason", "detail"]))
    for col in ("churn_probability", "expected_loss", "spend"):
        scored[col] = pd.to_numeric(scored[col], errors="coerce")
    return scored.sort_values("risk_rank", kind="stable").reset_index(drop=True), excluded


TEXTS = ("reason_1_text", "reason_2_text", "reason_3_text", "script_steps")  # only the listed groups' are read


def shown(scored: pd.DataFrame, top: int = TOP_GROUPS, rows: int = MANAGER_ROWS) -> pd.Series:
    """The groups the report lists by name (the top ``top`` and each manager's first ``rows`` at
    risk), as a mask over ``scored``."""
    rank = scored["risk_rank"]
    mask = rank.isin(rank.nsmallest(top))
    risky = scored[scored["action"].isin(AT_RISK)]
    manager = risky["account_manager"].astype(object).where(risky["account_manager"].notna(), UNASSIGNED)
    firsts = risky["risk_rank"].groupby(manager, sort=False).nsmallest(rows)
    return mask | rank.isin(firsts)


def _read_parquet(path: Path) -> pd.DataFrame:
    """The scored parquet with the sentences and script steps of the listed groups only: at
    200,000 groups the texts are three quarters of the table's memory, and the report shows a
    few hundred of them."""
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    texts = [c for c in TEXTS if c in names]
    scored = pd.read_parquet(path, columns=[c for c in names if c not in texts])
    if not texts or "risk_rank" not in scored or not {"action", "account_manager"} <= set(scored.columns):
        return pd.read_parquet(path) if texts else scored
    ranks = [int(r) for r in scored.loc[shown(scored), "risk_rank"]]
    if not ranks:
        return scored.assign(**dict.fromkeys(texts))[names]
    listed = pq.read_table(path, columns=["risk_rank", *texts], filters=[("risk_rank", "in", ranks)]).to_pandas()
    return scored.merge(listed, on="risk_rank", how="left", validate="one_to_one")[names]


def by_action(scored: pd.DataFrame) -> dict:
    out = {}
    for action in ACTIONS:
        part = scored[scored["action"] == action]
        out[action] = {"groups": int(len(part)), "expected_loss": round(float(part["expected_loss"].sum()), 2),
                       "mean_probability": float(part["churn_probability"].mean()) if len(part) else None}
    return out


def by_decile(scored: pd.DataFrame) -> list[dict]:
    rows = []
    for decile, part in scored.groupby("risk_decile", sort=True):
        rows.append({"decile": int(decile), "groups": int(len(part)),
                     "min_probability": float(part["churn_probability"].min()),
                     "mean_probability": float(part["churn_probability"].mean()),
                     "expected_groups_lost": round(float(part["churn_probability"].sum()), 2),
                     "expected_loss": round(float(part["expected_loss"].sum()), 2),
                     "spend": round(float(part["spend"].sum()), 2)})
    return rows


def top_families(scored: pd.DataFrame) -> list[dict]:
    """Reason families of the top decile: how many groups have each as reason_1, and the family's
    share of all risk-raising SHAP impact in the decile (when impact columns are present)."""
    top = scored[scored["risk_decile"] == 1]
    counts = top["reason_1"].replace("", np.nan).dropna().value_counts()
    impacts = {c[len("impact_"):]: float(top[c].clip(lower=0).sum()) for c in top.columns if c.startswith("impact_")}
    total = sum(impacts.values())
    families = sorted(set(counts.index) | {f for f, v in impacts.items() if v > 0},
                      key=lambda f: (-counts.get(f, 0), -impacts.get(f, 0.0), f))
    return [{"family": f, "groups_reason_1": int(counts.get(f, 0)),
             "share_reason_1": float(counts.get(f, 0) / len(top)) if len(top) else None,
             "impact_share": (impacts[f] / total) if f in impacts and total > 0 else None} for f in families]


def _group_row(row: pd.Series, steps: bool = True) -> dict:
    """A group as the report lists it; ``steps`` adds the script's full text (the top list only)."""
    out = {"risk_rank": int(row["risk_rank"]), "group_id": str(row["group_id"]),
            "group_name": None if pd.isna(row["group_name"]) else str(row["group_name"]),
            "account_manager": None if pd.isna(row["account_manager"]) else str(row["account_manager"]),
            "value_tier": None if pd.isna(row["value_tier"]) else str(row["value_tier"]),
            "churn_probability": float(row["churn_probability"]), "expected_loss": float(row["expected_loss"]),
            "spend": float(row["spend"]), "action": str(row["action"]), "risk_decile": int(row["risk_decile"]),
            "reasons": [str(row[f"reason_{k}_text"]) for k in (1, 2, 3) if isinstance(row[f"reason_{k}_text"], str) and row[f"reason_{k}_text"]],
            "script_title": "" if pd.isna(row["script_title"]) else str(row["script_title"])}
    if steps:
        out["script_steps"] = "" if pd.isna(row["script_steps"]) else str(row["script_steps"])
    return out


def managers(scored: pd.DataFrame, rows: int = MANAGER_ROWS) -> list[dict]:
    """One entry per account manager (blank managers together): portfolio, at-risk groups, actions."""
    manager = scored["account_manager"].astype(object).where(scored["account_manager"].notna(), UNASSIGNED)
    out = []
    for name, part in scored.groupby(manager, sort=True):
        risky = part[part["action"].isin(AT_RISK)].sort_values("risk_rank", kind="stable")
        out.append({"account_manager": name or None, "groups": int(len(part)), "at_risk": int(len(risky)),
                    "top_decile": int((part["risk_decile"] == 1).sum()),
                    "expected_loss": round(float(part["expected_loss"].sum()), 2),
                    "expected_loss_at_risk": round(float(risky["expected_loss"].sum()), 2),
                    "actions": {a: int((part["action"] == a).sum()) for a in ACTIONS},
                    "groups_at_risk": [_group_row(r, steps=False) for _, r in risky.head(rows).iterrows()]})
    return sorted(out, key=lambda m: (-m["expected_loss_at_risk"], m["account_manager"] or "\uffff"))


def risk_summary(scored: pd.DataFrame, excluded: pd.DataFrame, top: int = TOP_GROUPS) -> dict:
    """The report's ``risk`` figures."""
    scored = scored.sort_values("risk_rank", kind="stable")
    reasons = excluded["reason"].value_counts().sort_index().to_dict() if len(excluded) else {}
    return {"scored": int(len(scored)), "excluded": int(len(excluded)), "excluded_by_reason": {k: int(v) for k, v in reasons.items()},
            "expected_loss_total": round(float(scored["expected_loss"].sum()), 2),
            "spend_total": round(float(scored["spend"].sum()), 2),
            "expected_groups_lost": round(float(scored["churn_probability"].sum()), 2),
            "by_action": by_action(scored), "by_decile": by_decile(scored), "top_decile_families": top_families(scored),
            "top": [_group_row(r) for _, r in scored.head(top).iterrows()], "managers": managers(scored)}
