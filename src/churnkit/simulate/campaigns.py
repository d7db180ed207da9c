"""Retention campaigns in the simulated world, with their true effects under ``_truth/``.

``simulate_campaigns`` runs the same world as :func:`churnkit.simulate.simulate` (same seed, same
groups; the files match the plain run up to the first wave) and, at each wave month W, plans a
wave as ``churnkit campaign plan`` would: a proxy score from what the operator could see in W
(the group's warning episode, its profile, noise), the value policy's action, ``reason_1`` from
the episode's signals, the playbook's script, and the same stratified salted-hash holdout.

Simulated managers follow the list with realistic gaps: some groups are never reached (visit
90%, call 80%, care 70% reached), a quarter get another script, and a few holdout groups are
contacted by mistake (4%). Contact works by cause: a reached group that was going to leave
within the horizon stays with a probability that depends on whether its script answers its true
cause (50% when it does, 10% when not, never for a business that closes), scaled by the action
(visit 1, call 0.75, care 0.4). Some contacted groups that were not going to leave are pushed
out by the contact (call 0.5%, care 1.5%): a proactive offer can wake a sleeping customer.

For every wave group both outcomes are drawn with common random numbers, as if treated and as
if held out; ``_truth/campaigns.parquet`` keeps them, and ``_truth/campaign_effects.json`` the
true uplift (holdout minus treated churn within the horizon) per wave and pooled.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from churnkit.campaign import table as T
from churnkit.campaign.holdout import DEFAULT_SHARE, draw_holdout
from churnkit.months import format_month
from churnkit.playbook import load_playbook
from churnkit.policy import ValuePolicy
from churnkit.simulate import signals as sig
from churnkit.simulate.events import EventLog
from churnkit.simulate.members import LinePool
from churnkit.simulate.simulation import _check, _clear_stale_months
from churnkit.simulate.world import World, build_world, first_day
from churnkit.simulate.writer import Writer, write

HORIZON = 3
REACH = {"visit": 0.9, "call": 0.8, "care": 0.7}
FOLLOW_SCRIPT = 0.75
HOLDOUT_MISTAKE = 0.04
SAVE_MATCH, SAVE_OTHER = 0.50, 0.10
STRENGTH = {"visit": 1.0, "call": 0.75, "care": 0.4}
BACKFIRE = {"visit": 0.0, "call": 0.005, "care": 0.015}
ANSWERS = {  # cause -> the reason families whose scripts answer it
    "competitor_poaching": {"competitor_contact", "call_forwarding", "exit_intent", "contract_expiry", "member_loss"},
    "price": {"spend_decline", "contract_expiry", "addon_cancellation"},
    "service_failure": {"complaints", "idle_lines"},
    "business_closure": set(),
    "silent": {"profile", "contract_expiry"},
}


def _reason(flags: np.ndarray, intensity: np.ndarray) -> np.ndarray:
    """reason_1 as the operator would see it: the first family among the episode's signals."""
    out = np.full(len(flags), "profile", dtype=object)
    for family in reversed(sig.FAMILY_ORDER):
        bits = [b for b, f in sig.FAMILY.items() if f == family]
        if bits:
            shown = np.bitwise_or.reduce([sig.has(flags, b) for b in bits]) & (intensity > 0)
            out[shown] = family
    return out


def _plan(world: World, m: int, spend: np.ndarray, rng, salt: str, share: float, book) -> pd.DataFrame:
    n = world.n
    alive = (world.open_month <= m) & ((world.churn_month < 0) | (world.churn_month > m)) & (spend > 0)
    intensity = world.intensity(m)
    small = np.where(world.size <= 9, 0.01, 0.0) + np.where(world.tier == 2, 0.01, 0.0)
    p = np.clip(0.01 + 0.5 * intensity + small + rng.normal(0, 0.01, n), 0.002, 0.95)
    frame = pd.DataFrame({"grp": np.arange(n), "churn_probability": np.round(p, 4), "spend": spend,
                          "value_tier": np.array(["A", "B", "C"])[world.tier], "arrears_total": 0.0})
    frame["expected_loss"] = np.round(frame["churn_probability"] * frame["spend"] * 12, 2)
    frame["action"] = ValuePolicy().actions(frame)
    frame["reason_1"] = _reason(world.ep_flags, intensity)
    frame = frame[alive & (frame["action"] != "none").to_numpy()].copy()
    frame["group_id"] = world.group_id[frame["grp"]].astype(str)
    frame["stratum"] = frame["action"] + "/" + frame["reason_1"]
    frame["script_id"] = [book.script_for(f, "zh").id for f in frame["reason_1"]]
    drawn = draw_holdout(frame[["group_id", "stratum"]], format_month(m), salt, share)
    frame["assignment"], frame["assignment_probability"] = drawn["assignment"], drawn["assignment_probability"]
    return frame.reset_index(drop=True)


def _behave(frame: pd.DataFrame, rng, scripts: list, m: int) -> dict:
    """The managers' records as if each group were treated, and as if held out."""
    k = len(frame)
    reach = frame["action"].map(REACH).to_numpy()
    u_reach, u_script, u_mistake = rng.random(k), rng.random(k), rng.random(k)
    other = np.array([s.id for s in scripts])[rng.integers(0, len(scripts), k)]
    script = np.where(u_script < FOLLOW_SCRIPT, frame["script_id"], other)
    day = first_day(np.full(k, m + 1)) + rng.integers(0, 28, k)
    offered = rng.random(k) < np.where(frame["action"] == "care", 0.0, 0.4)
    cost = np.where(offered, np.round(rng.uniform(20, 200, k)), np.nan)
    return {"treat": u_reach < reach, "holdout": u_mistake < HOLDOUT_MISTAKE, "script": script, "day": day,
            "offer": np.where(offered, "话费优惠", None), "cost": cost, "u_save": rng.random(k), "u_back": rng.random(k),
            "k_back": rng.integers(1, HORIZON + 1, k)}


def _outcome(world: World, frame: pd.DataFrame, b: dict, contacted: np.ndarray, m: int, families: dict) -> tuple:
    """Churn month under the given contacts: (new churn month, saved, backfired)."""
    g = frame["grp"].to_numpy()
    churn = world.churn_month[g]
    leaving = (churn > m) & (churn <= m + HORIZON)
    cause = np.where(world.cause[g] >= 0, world.cause[g], sig.SILENT)
    answers = np.array([families.get(s) in ANSWERS[sig.CAUSE_NAMES[c]] for s, c in zip(b["script"], cause)])
    p_save = np.where(answers, SAVE_MATCH, SAVE_OTHER) * frame["action"].map(STRENGTH).to_numpy()
    p_save[cause == sig.CAUSE_NAMES.index("business_closure")] = 0.0
    saved = contacted & leaving & (b["u_save"] < p_save)
    back = contacted & ~leaving & (b["u_back"] < frame["action"].map(BACKFIRE).to_numpy())
    new = np.where(saved, -1, np.where(back, m + b["k_back"], churn))
    return new, saved, back


def _run_wave(world: World, m: int, spend: np.ndarray, rng, salt: str, share: float, book) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = _plan(world, m, spend, rng, salt, share, book)
    scripts = list(book.scripts("zh"))
    families = {s.id: s.family for s in scripts}
    b = _behave(frame, rng, scripts, m)
    treat = (frame["assignment"] == "treat").to_numpy()
    if_treated = _outcome(world, frame, b, b["treat"], m, families)
    if_held = _outcome(world, frame, b, b["holdout"], m, families)
    new, saved, back = (np.where(treat, a, h) for a, h in zip(if_treated, if_held))
    contacted = np.where(treat, b["treat"], b["holdout"])
    g = frame["grp"].to_numpy()
    world.churn_month[g] = new
    world.cause[g[saved]] = -1
    world.ep_end[g[saved]] = np.minimum(world.ep_end[g[saved]], m)
    world.cause[g[back]] = sig.SILENT
    world.near_end[g[back]] = False
    wave = format_month(m)
    rows = pd.DataFrame({
        "wave": wave, "group_id": frame["group_id"], "assignment": frame["assignment"],
        "assignment_probability": frame["assignment_probability"], "stratum": frame["stratum"],
        "churn_probability": frame["churn_probability"], "expected_loss": frame["expected_loss"],
        "reason_1": frame["reason_1"], "recommended_action": frame["action"], "script_id": frame["script_id"],
        "model_version": "simulated", "account_manager": world.manager[g],
        "contacted": np.where(contacted, b["day"].astype("datetime64[D]"), np.datetime64("NaT")),
        "action_taken": np.where(contacted, frame["action"], None), "script_used": np.where(contacted, b["script"], None),
        "offer": np.where(contacted, b["offer"], None), "offer_cost": np.where(contacted, b["cost"], np.nan), "note": None,
    })
    within = lambda c: ((c > m) & (c <= m + HORIZON)).astype(int)  # noqa: E731
    truth = pd.DataFrame({"wave": wave, "group_id": frame["group_id"], "assignment": frame["assignment"],
                          "churn_if_treated": within(if_treated[0]), "churn_if_holdout": within(if_held[0]),
                          "saved": saved, "backfired": back})
    return rows, truth


def wave_months(first: int, months: int, every: int = 3, start_after: int = 6) -> list[int]:
    """Wave months whose horizon ends inside the data: every ``every`` months after ``start_after``."""
    return list(range(first + start_after, first + months - HORIZON, every))


def true_effects(truth: pd.DataFrame) -> dict:
    """True uplift (holdout minus treated churn within the horizon, all wave groups) per wave and pooled."""
    def one(part: pd.DataFrame) -> dict:
        return {"groups": len(part), "uplift": float((part["churn_if_holdout"] - part["churn_if_treated"]).mean()),
                "uplift_treated": float((part["churn_if_holdout"] - part["churn_if_treated"])[part["assignment"] == "treat"].mean())}
    return {"horizon": HORIZON, "waves": {w: one(p) for w, p in truth.groupby("wave")}, "pooled": one(truth)}


def simulate_campaigns(out: Path, groups: int = 2000, months: int = 24, start: str = "2024-11", seed: int = 7,
                       every: int = 3, share: float = DEFAULT_SHARE, salt: str | None = None) -> dict:
    """:func:`churnkit.simulate.simulate` with retention waves; also writes ``retention.parquet``."""
    out, n, months, first, seed = _check(out, groups, months, start, seed)
    rng_world, rng_lines, rng_events, rng_campaigns = np.random.default_rng(seed).spawn(4)
    world = build_world(rng_world, n, first, months)
    pool, log = LinePool(world, rng_lines), EventLog(n, rng_events)
    out.mkdir(parents=True, exist_ok=True)
    _clear_stale_months(out, {f"{format_month(m)}.parquet" for m in range(first, first + months)})
    writer, book = Writer(out, world), load_playbook(None)
    waves, rows, truths = set(wave_months(first, months, every)), [], []
    for m in range(first, first + months):
        effect = world.intensity(m)
        pool.step(m, effect)
        cols, has_usage = pool.bill(m, effect)
        writer.month(m, cols, has_usage)
        log.record(m, pool.lines["grp"], pool.lines["number"], world.ep_flags, effect)
        if m in waves:
            spend = np.bincount(cols["grp"], weights=cols["charge"], minlength=n)
            r, t = _run_wave(world, m, spend, rng_campaigns, salt or f"sim-{seed}", share, book)
            rows.append(r)
            truths.append(t)
    writer.events(*log.tables())
    writer.groups()
    writer.contracts()
    writer.churn_and_truth()
    retention = pd.concat(rows, ignore_index=True) if rows else T.empty()
    T.write_parquet(retention, out / "retention.parquet")
    truth = pd.concat(truths, ignore_index=True) if truths else pd.DataFrame()
    write(pa.Table.from_pandas(truth, preserve_index=False), out / "_truth" / "campaigns.parquet")
    effects = true_effects(truth) if len(truth) else {}
    (out / "_truth" / "campaign_effects.json").write_text(json.dumps(effects, indent=1) + "\n", encoding="utf-8")
    return {"out": str(out), "groups": n, "months": months, "waves": len(rows), "wave_groups": len(retention),
            "true_pooled_uplift": effects.get("pooled", {}).get("uplift")}
