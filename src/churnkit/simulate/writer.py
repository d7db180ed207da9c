"""Turn the simulator's integer-coded arrays into the contract's parquet tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from churnkit.months import format_month
from churnkit.simulate import signals as sig
from churnkit.simulate import vocab
from churnkit.simulate.world import World


def write(table: pa.Table, path: Path) -> int:
    """Write one parquet file (snappy, no pandas metadata: same data, same bytes).

    Member ids of the monthly files are sorted within each group and often consecutive (a
    group's number block), so they are stored with the delta (prefix-sharing) string
    encoding, a third of the size of a dictionary of unique numbers.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    options: dict = {}
    if "month" in table.column_names and "member_id" in table.column_names:
        options["use_dictionary"] = [c for c in table.column_names if c != "member_id"]
        options["column_encoding"] = {"member_id": "DELTA_BYTE_ARRAY"}
    pq.write_table(table, path, compression="snappy", **options)
    return table.num_rows


def _text(values: np.ndarray) -> pa.Array:
    """Integer ids (phone numbers, 18-digit group ids) as text."""
    return pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string())


def _coded(codes: np.ndarray, words) -> pa.Array:
    """Small vocabularies stored as codes, decoded to plain strings."""
    dictionary = pa.array([str(w) for w in words], type=pa.string())
    return pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(codes, dtype=np.int32)), dictionary
    ).dictionary_decode()


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(days, dtype="datetime64[D]"), type=pa.date32())


def _floats(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.float64), from_pandas=True)  # NaN -> null


def _ints(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64))


class Writer:
    """Writes the data directory; keeps the group id strings for every table."""

    def __init__(self, out: Path, world: World):
        self.out = out
        self.world = world
        self.gid = _text(world.group_id)
        self.rows: dict[str, int] = {}

    def _group(self, grp: np.ndarray) -> pa.Array:
        return self.gid.take(pa.array(np.asarray(grp, dtype=np.int64)))

    def _count(self, name: str, rows: int) -> None:
        self.rows[name] = self.rows.get(name, 0) + rows

    def month(self, month: int, cols: dict, has_usage: np.ndarray) -> None:
        """billing/YYYY-MM.parquet and usage/YYYY-MM.parquet."""
        label = format_month(month)
        k = len(cols["grp"])
        billing = pa.table({
            "month": pa.repeat(pa.scalar(label), k), "group_id": self._group(cols["grp"]),
            "member_id": _text(cols["number"]), "charge": _floats(cols["charge"]),
            "plan_fee": _floats(cols["plan_fee"]), "arrears": _floats(cols["arrears"]),
        })  # fmt: skip
        self._count("billing", write(billing, self.out / "billing" / f"{label}.parquet"))
        u = {f: a[has_usage] for f, a in cols.items()}
        usage = pa.table({
            "month": pa.repeat(pa.scalar(label), int(has_usage.sum())),
            "group_id": self._group(u["grp"]), "member_id": _text(u["number"]),
            "call_count": _ints(u["call_count"]), "call_minutes": _floats(u["call_minutes"]),
            "forwarded_calls": _ints(u["forwarded_calls"]),
            "forwarded_offnet_calls": _ints(u["forwarded_offnet_calls"]),
            "competitor_hotline_calls": _ints(u["competitor_hotline_calls"]),
            "data_mb": _floats(u["data_mb"]),
        })  # fmt: skip
        self._count("usage", write(usage, self.out / "usage" / f"{label}.parquet"))

    def groups(self) -> None:
        w = self.world
        table = pa.table({
            "group_id": self.gid,
            "group_name": pa.array(w.name.tolist(), type=pa.string()),
            "industry": _coded(w.industry, [i[0] for i in vocab.INDUSTRIES]),
            "region": _coded(w.region, [r[0] for r in vocab.REGIONS]),
            "value_tier": _coded(w.tier, ["A", "B", "C"]),
            "account_manager": pa.array(w.manager.tolist(), type=pa.string()),
            "contract_end": _dates(w.contract_end), "opened": _dates(w.opened_day),
        })  # fmt: skip
        self._count("groups", write(table, self.out / "groups.parquet"))

    def contracts(self) -> None:
        g, start, end = self.world.contracts
        table = pa.table({"group_id": self._group(g), "start": _dates(start), "end": _dates(end)})
        self._count("contracts", write(table, self.out / "contracts.parquet"))

    def events(self, addons: dict, complaints: dict, intel: dict) -> None:
        table = pa.table({
            "group_id": self._group(addons["grp"]), "member_id": _text(addons["member"]),
            "product": _coded(addons["product"], vocab.PRODUCTS),
            "action": _coded(addons["action"], ["subscribe", "cancel"]),
            "date": _dates(addons["date"]),
        })  # fmt: skip
        self._count("addons", write(table, self.out / "addons.parquet"))
        unknown = pa.array(np.asarray(complaints["member"]) < 0, type=pa.bool_())
        member = pc.if_else(unknown, pa.scalar(None, pa.string()), _text(complaints["member"]))
        table = pa.table({
            "group_id": self._group(complaints["grp"]), "member_id": member,
            "date": _dates(complaints["date"]),
            "category": _coded(complaints["category"], vocab.COMPLAINT_CATEGORIES),
        })  # fmt: skip
        self._count("complaints", write(table, self.out / "complaints.parquet"))
        notes = [n for kind in vocab.INTEL_KINDS for n in vocab.INTEL_NOTES[str(kind)]]
        table = pa.table({
            "group_id": self._group(intel["grp"]), "date": _dates(intel["date"]),
            "kind": _coded(intel["kind"], vocab.INTEL_KINDS),
            "note": _coded(intel["kind"].astype(np.int32) * 5 + intel["note"], notes),
        })  # fmt: skip
        self._count("intel", write(table, self.out / "intel.parquet"))

    def churn_and_truth(self) -> None:
        w = self.world
        churned = np.flatnonzero(w.churn_month >= 0)
        months = pa.array([format_month(m) for m in w.churn_month[churned]], type=pa.string())
        table = pa.table({"group_id": self._group(churned), "churn_month": months})
        self._count("churn", write(table, self.out / "churn.parquet"))
        flags, near = w.ep_flags[churned], w.near_end[churned]
        key = flags.astype(np.int64) * 2 + near
        kinds, which = np.unique(key, return_inverse=True)
        names = [sig.families(int(k) // 2, bool(k % 2)) for k in kinds]
        fams = _coded(which, names) if len(kinds) else pa.array([], type=pa.string())
        table = pa.table({
            "group_id": self._group(churned), "churn_month": months,
            "cause": _coded(w.cause[churned], sig.CAUSE_NAMES),
            "warned": pa.array(flags != 0, type=pa.bool_()),
            "matching_families": fams,
        })  # fmt: skip
        write(table, self.out / "_truth" / "causes.parquet")
