"""Small inline scored files and planned waves for the campaign tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FAMILIES = ["member_loss", "spend_decline", "idle_lines", "contract_expiry"]
MANAGERS = ["张三", "李四", "王/五"]


def scored_frame(n: int = 60, seed: int = 1, month: str = "2026-10", actions=("visit", "call", "care", "none"),
                 families=FAMILIES) -> pd.DataFrame:
    """A scored table as `churnkit score` writes it (the columns the campaign reads), 18-digit ids."""
    rng = np.random.default_rng(seed)
    p = np.round(rng.uniform(0.03, 0.6, n), 4)
    frame = pd.DataFrame({
        "month": month, "group_id": [f"51010000{i:010d}" for i in range(n)], "group_name": [f"测试公司{i}" for i in range(n)],
        "account_manager": [MANAGERS[i % len(MANAGERS)] for i in range(n)], "value_tier": "B", "active_lines": 5,
        "spend": 100.0, "churn_probability": p, "risk_rank": 0, "risk_decile": 1, "expected_loss": np.round(p * 1200, 2),
        "action": [actions[i % len(actions)] for i in range(n)], "reason_1": [families[i % len(families)] for i in range(n)],
        "reason_1_impact": 0.1, "reason_1_text": "近3个月成员数减少25%（12→9条）", "reason_2": "", "reason_2_impact": np.nan,
        "reason_2_text": "", "reason_3": "", "reason_3_impact": np.nan, "reason_3_text": "",
        "script_id": "RS-MEMBER-01", "script_title": "成员批量减少：查明去向", "script_steps": "1. 准备：账单 | 2. 必问：去向",
    })
    frame = frame.sort_values("churn_probability", ascending=False, kind="stable").reset_index(drop=True)
    frame["risk_rank"] = np.arange(1, n + 1)
    return frame


def write_scored(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    return path


def planned(tmp: Path, n: int = 60, **kwargs):
    """A data directory with one planned wave; returns (data_dir, PlanResult)."""
    from churnkit.campaign.plan import plan_wave

    data = tmp / "data"
    data.mkdir(parents=True, exist_ok=True)
    scored = write_scored(scored_frame(n), tmp / "scored.csv")
    return data, plan_wave(scored, data, tmp / "workbooks", **kwargs)
