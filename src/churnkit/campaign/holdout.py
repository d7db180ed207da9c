"""The random holdout of a retention wave: a salted hash of (group_id, wave), stratified.

Within each stratum (recommended action / ``reason_1`` family) the groups are ordered by
SHA-256 of ``salt|wave|group_id`` and the first ``k`` are held out, with
``k = max(round(share x n), ceil(min_share x n))``: every stratum holds out its share (20% by
default) and never less than 10%, the same salt and list give the same holdout, and nobody can
pick which groups are held out without the salt.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"group_id": [str(i) for i in range(10)], "stratum": ["call/idle_lines"] * 10})
>>> drawn = draw_holdout(frame, wave="2026-10", salt="s")
>>> int((drawn["assignment"] == "holdout").sum()), float(drawn["assignment_probability"].iloc[0])
(2, 0.8)
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd

from churnkit.errors import UsageError

DEFAULT_SHARE = 0.20
MIN_SHARE = 0.10
MAX_SHARE = 0.50
DEFAULT_SALT = "churnkit"


def hash_unit(group_id: str, wave: str, salt: str) -> float:
    """A number in [0, 1) fixed by (salt, wave, group_id): the first 8 bytes of their SHA-256."""
    digest = hashlib.sha256(f"{salt}|{wave}|{group_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def holdout_count(n: int, share: float, min_share: float = MIN_SHARE) -> int:
    """Groups held out of a stratum of ``n``: the share rounded, at least ``min_share``."""
    if n <= 0:
        return 0
    return min(n, max(int(math.floor(share * n + 0.5)), math.ceil(min_share * n - 1e-9)))


def check_share(share: float) -> float:
    if not MIN_SHARE <= share <= MAX_SHARE:
        raise UsageError(f"--holdout must be between {MIN_SHARE:.2f} and {MAX_SHARE:.2f} (a share of the list), not {share}")
    return float(share)


def draw_holdout(frame: pd.DataFrame, wave: str, salt: str = DEFAULT_SALT, share: float = DEFAULT_SHARE) -> pd.DataFrame:
    """``frame`` (``group_id``, ``stratum``) with ``assignment`` (treat/holdout) and
    ``assignment_probability`` (the probability of treat in the group's stratum) added."""
    check_share(share)
    out = frame.copy()
    out["_u"] = [hash_unit(str(g), wave, salt) for g in out["group_id"]]
    out["_order"] = out.sort_values(["stratum", "_u", "group_id"], kind="stable").groupby("stratum", sort=False).cumcount()
    sizes = out.groupby("stratum")["group_id"].transform("size").to_numpy()
    kept = np.array([holdout_count(int(n), share) for n in sizes])
    held = out["_order"].to_numpy() < kept
    out["assignment"] = np.where(held, "holdout", "treat")
    out["assignment_probability"] = np.round(1 - kept / sizes, 6)
    return out.drop(columns=["_u", "_order"])
