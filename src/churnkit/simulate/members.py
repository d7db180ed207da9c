"""Member lines: who is in which group each month, and what each line is billed and uses."""

from __future__ import annotations

import numpy as np

from churnkit.simulate import signals as sig
from churnkit.simulate import vocab
from churnkit.simulate.seasons import season
from churnkit.simulate.world import World

PLANS = np.array([8, 18, 28, 38, 58, 88, 128, 158, 238], dtype=np.float64)
LINE_TURNOVER = 0.011  # monthly share of a healthy group's lines that leave (and are replaced)
RANDOM_SPACE = 500_000_000  # phone numbers 130xxxxxxxx-134xxxxxxxx: lines with their own number
BLOCK_SPACE = 500_000  # 135xxxxxxxx-139xxxxxxxx: blocks of 1000 numbers bought by a group
WIDE_BLOCK_SPACE = 2_500_000  # beyond 500,000 groups: blocks continue at 180xxxxxxxx-199xxxxxxxx
MAX_GROUPS = WIDE_BLOCK_SPACE
_LINE_FIELDS = ("number", "grp", "plan", "base_min", "base_data", "migrant", "dormant",
                "forwarder", "joined")  # fmt: skip


class LinePool:
    """The active lines, sorted by group then number, updated month by month."""

    def __init__(self, world: World, rng: np.random.Generator):
        self.w = world
        self.rng = rng
        self.growth = np.exp(rng.normal(0.0, 0.35, world.n))  # healthy growth or shrinkage
        self.serial = 0
        self.next_rank = np.zeros(world.n, dtype=np.int64)  # next free number of each block
        self.random_key = (387_420_489, int(rng.integers(0, RANDOM_SPACE)))
        self.block_key = (117_649, int(rng.integers(0, BLOCK_SPACE)))
        self.minutes_factor = np.array([i[4] for i in vocab.INDUSTRIES])[world.industry]
        self.migrant_share = np.array([i[5] for i in vocab.INDUSTRIES])[world.industry]
        self.lines = {f: np.zeros(0) for f in _LINE_FIELDS}
        self.lines["grp"] = np.zeros(0, dtype=np.int64)

    # -- numbers ---------------------------------------------------------------------
    def _own_numbers(self, k: int) -> np.ndarray:
        idx = np.arange(self.serial, self.serial + k, dtype=np.int64)
        self.serial += k
        a, b = self.random_key
        return 13_000_000_000 + (idx * a + b) % RANDOM_SPACE

    def _block_numbers(self, grp: np.ndarray, rank: np.ndarray) -> np.ndarray:
        a, b = self.block_key
        # up to 500,000 groups the numbers are those of earlier releases (same seed, same files);
        # a province needs more blocks than 135-139 hold, so larger runs spill into 180-199
        space = BLOCK_SPACE if self.w.n <= BLOCK_SPACE else WIDE_BLOCK_SPACE
        block = (grp.astype(np.int64) * a + b) % space
        low = block < BLOCK_SPACE
        return np.where(low, 13_500_000_000 + block * 1000, 18_000_000_000 + (block - BLOCK_SPACE) * 1000) + rank

    # -- line creation ---------------------------------------------------------------
    def _new_lines(self, grp: np.ndarray, month: int, founders: bool) -> dict:
        """Lines joining ``grp`` (sorted): founders mostly, joiners often, get block numbers."""
        rng, w, k = self.rng, self.w, len(grp)
        from_block = rng.random(k) < (0.85 if founders else 0.5)
        counts = np.bincount(grp[from_block], minlength=w.n)
        starts = np.cumsum(counts) - counts
        rank = np.zeros(k, dtype=np.int64)
        rank[from_block] = self.next_rank[grp[from_block]] + (
            np.arange(int(from_block.sum())) - starts[grp[from_block]]
        )
        self.next_rank += counts
        from_block &= rank < 1000  # the block is used up: the line brings its own number
        number = np.where(from_block, self._block_numbers(grp, rank), self._own_numbers(k))
        choice = np.rint(rng.normal(3.2 + 3.0 * np.log(w.plan_level[grp]), 1.3, k))
        plan = PLANS[np.clip(choice, 0, len(PLANS) - 1).astype(int)]
        plan[rng.random(k) < 0.04] = np.nan  # plan not known to the export
        base_min = (
            np.exp(rng.normal(np.log(180.0), 0.8, k))
            * self.minutes_factor[grp]
            * np.sqrt(np.nan_to_num(plan, nan=38.0) / 38.0)
        )
        return dict(
            number=number, grp=grp.astype(np.int64), plan=plan, base_min=base_min,
            base_data=np.exp(rng.normal(np.log(1500.0), 1.0, k)),
            migrant=rng.random(k) < self.migrant_share[grp], dormant=rng.random(k) < 0.04,
            forwarder=rng.random(k) < 0.03, joined=np.full(k, month, dtype=np.int64),
        )  # fmt: skip

    def _founders(self, groups: np.ndarray, month: int) -> dict:
        return self._new_lines(np.repeat(groups, self.w.size[groups]), month, True)

    # -- monthly update --------------------------------------------------------------
    def step(self, month: int, effect: np.ndarray) -> None:
        """Lines leave and join so that ``self.lines`` holds the lines active in ``month``."""
        w, rng, lines = self.w, self.rng, self.lines
        parts = []
        if month == w.start:
            parts.append(self._founders(np.flatnonzero(w.open_month <= month), month))
        else:
            g = lines["grp"]
            leave_bulk = sig.has(w.ep_flags, sig.MEMBER_LEAVE) * effect
            p_leave = LINE_TURNOVER + 0.3 * leave_bulk[g]
            leave = (rng.random(len(g)) < p_leave) | (w.churn_month[g] == month)
            # a group that is not churning keeps at least one line
            stay = np.bincount(g[~leave], minlength=w.n)
            first = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else g
            rescue = first[(stay[g[first]] == 0) & (w.churn_month[g[first]] != month)]
            leave[rescue] = False
            parts.append({f: a[~leave] for f, a in lines.items()})
            alive = (w.open_month < month) & ((w.churn_month < 0) | (w.churn_month > month))
            episode = np.minimum(effect * 1.5, 1.0)
            lam = LINE_TURNOVER * w.size * self.growth * (1.0 - episode) * alive
            joins = rng.poisson(lam)
            if joins.sum():
                parts.append(self._new_lines(np.repeat(np.arange(w.n), joins), month, False))
            opening = np.flatnonzero(w.open_month == month)
            if len(opening):
                parts.append(self._founders(opening, month))
        merged = {f: np.concatenate([p[f] for p in parts]) for f in _LINE_FIELDS}
        order = np.lexsort((merged["number"], merged["grp"]))
        self.lines = {f: a[order] for f, a in merged.items()}

    def bill(self, month: int, effect: np.ndarray) -> tuple[dict, np.ndarray]:
        """Billing and usage columns of the active lines, and the mask of lines with usage."""
        rng, w, L = self.rng, self.w, self.lines
        g, k = L["grp"], len(L["grp"])
        flags = w.ep_flags[g]
        e = effect[g]
        factor, migrant_idle = season(month)

        def on(bit: int) -> np.ndarray:
            return np.where(sig.has(flags, bit), e, 0.0)

        p_idle = np.where(L["dormant"], 0.85, 0.03) + L["migrant"] * migrant_idle
        p_idle = p_idle + 0.45 * on(sig.IDLE) + 0.15 * on(sig.MINUTES_DROP)
        idle = rng.random(k) < p_idle
        level = (1.0 - 0.5 * on(sig.MINUTES_DROP)) * (1.0 - 0.3 * on(sig.IDLE))
        minutes = L["base_min"] * factor * level * rng.gamma(4.0, 0.25, k)
        minutes = np.where(idle, 0.0, np.maximum(1.0, np.rint(minutes)))
        calls = np.where(minutes > 0, 1 + rng.poisson(np.maximum(minutes / 2.4 - 1, 0)), 0)
        data = L["base_data"] * rng.gamma(2.0, 0.5, k) * np.where(idle, 0.05, 1.0)
        data = np.rint(np.where(idle & (rng.random(k) < 0.7), 0.0, data))
        has_usage = (calls > 0) | (data > 0)

        fwd = np.where(L["forwarder"], rng.poisson(8.0, k), 0)
        off = rng.binomial(fwd, 0.15)
        moving = rng.random(k) < 0.4 * on(sig.FORWARD)
        extra = np.where(moving, 3 + rng.poisson(4.0 + 14.0 * e), 0)
        fwd, off = fwd + extra, off + rng.binomial(extra, 0.85)
        p_hot = 0.005 + 0.22 * on(sig.HOTLINE)
        hotline = np.where(rng.random(k) < p_hot, 1 + rng.poisson(0.5 + e), 0)
        quiet = ~has_usage  # a line without traffic has no forwarded or hotline calls either
        fwd, off, hotline = (np.where(quiet, 0, a) for a in (fwd, off, hotline))

        plan = L["plan"]
        known = ~np.isnan(plan)
        base = np.where(known, plan, 20.0)
        included = np.where(known, plan * 6.0, 0.0)
        charge = base + 0.12 * np.maximum(minutes - included, 0.0)
        charge += 0.003 * np.maximum(data - np.where(known, plan * 60.0, 0.0), 0.0)
        charge += 5.0 * rng.poisson(0.3, k)  # value-added services billed on the line
        below = rng.random(k) < 0.06 + 0.5 * on(sig.SPEND_DROP)
        charge = np.where(below, base * rng.uniform(0.4, 0.95, k), charge)
        charge *= 1.0 - 0.25 * on(sig.SPEND_DROP)
        new = L["joined"] == month
        charge = np.where(new & (month > w.start), charge * rng.uniform(0.1, 1.0, k), charge)
        charge = np.round(np.maximum(charge, 0.0), 2)

        owes = rng.random(k) < 0.012 + 0.35 * on(sig.ARREARS)
        arrears = np.where(owes, np.round(charge * rng.uniform(0.5, 2.5, k), 2), 0.0)
        arrears[rng.random(k) < 0.015] = np.nan  # unknown to the export
        cols = dict(
            grp=g, number=L["number"], charge=charge, plan_fee=plan, arrears=arrears,
            call_count=calls, call_minutes=minutes, forwarded_calls=fwd,
            forwarded_offnet_calls=off, competitor_hotline_calls=hotline, data_mb=data,
        )  # fmt: skip
        return cols, has_usage
