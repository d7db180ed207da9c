"""The uplift model inside the risk model's bundle: ``uplift_<role>.txt`` (LightGBM text) beside
``model.txt``, hashed in the manifest's ``files``, and its record under the manifest's ``uplift``.
Loading checks the hashes, like the risk model's."""

from __future__ import annotations

import math

import lightgbm as lgb

from churnkit.model.bundle import Bundle, read_extra
from churnkit.uplift.learner import UpliftModel
from churnkit.uplift.training import json_safe


def file_name(role: str) -> str:
    return f"uplift_{role}.txt"


def uplift_parts(model: UpliftModel | None, record: dict) -> tuple[dict, dict[str, bytes]]:
    """The manifest's ``uplift`` entry and the files to write beside model.txt."""
    if model is None:
        return json_safe(record), {}
    files = {file_name(role): b.model_to_string().encode("utf-8") for role, b in model.boosters().items()}
    return json_safe({**record, "model": model.to_dict(), "roles": sorted(model.boosters())}), files


def load_uplift(bundle: Bundle) -> tuple[UpliftModel | None, dict]:
    """The bundle's uplift model (None when it has none) and its record (policy, evidence, bands)."""
    record = dict(bundle.manifest.get("uplift") or {"policy": "risk_value", "reason": "the bundle has no uplift record"})
    if "model" not in record:
        return None, record
    boosters = {role: lgb.Booster(model_str=read_extra(bundle, file_name(role)).decode("utf-8")) for role in record["roles"]}
    record["bands"] = [{**b, "upper": math.inf if b["upper"] is None else b["upper"]} for b in record.get("bands", [])]
    return UpliftModel.from_parts(record["model"], boosters), record
