"""The groups: who they are, their agreements, who churns when and why, and their episodes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from churnkit.simulate import signals as sig
from churnkit.simulate import vocab
from churnkit.simulate.seasons import EPOCH_MONTH

BASE_HAZARD = 0.0072  # monthly churn hazard of an average group outside renewal time
TERMS = np.array([12, 24, 36])
TERM_P = [0.45, 0.35, 0.20]
# Hazard multiplier by months since the agreement ended (d = month - end month).
EXPIRY_BOOST = {-1: 1.6, 0: 3.5, 1: 6.0, 2: 3.0}
LAPSED_BOOST = 1.7  # out of agreement and not renewed
RENEW_P = np.array([0.93, 0.88, 0.82])  # by tier A/B/C
RESIGN_P = 0.06  # monthly chance that a lapsed group signs a new agreement
CAUSE_P_NEAR_END = np.array([0.50, 0.14, 0.10, 0.08, 0.18])  # same order as sig.CAUSE_NAMES
CAUSE_P_OTHER = np.array([0.12, 0.26, 0.20, 0.22, 0.20])
FALSE_ALARM_PER_YEAR = 0.16  # share of healthy groups with an episode in a year
FALSE_ALARM_CAUSE_P = np.array([0.35, 0.25, 0.20, 0.20])  # poaching, price, service, closure


def first_day(month: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of the first day of each month index."""
    m = np.asarray(month, dtype=np.int64) - EPOCH_MONTH
    return m.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _scramble(x: np.ndarray, modulus: int, mult: int, offset: int) -> np.ndarray:
    """A bijection of [0, modulus) that makes serial numbers look random."""
    return (np.asarray(x, dtype=np.int64) * mult + offset) % modulus


@dataclass
class World:
    """Everything decided per group before the monthly member simulation."""

    start: int
    months: int
    group_id: np.ndarray  # int64, 18 digits
    region: np.ndarray
    industry: np.ndarray
    tier: np.ndarray  # 0=A, 1=B, 2=C
    size: np.ndarray  # lines at opening / data start, the group's target size
    plan_level: np.ndarray  # multiplies the plan fees its lines choose
    open_month: np.ndarray
    opened_day: np.ndarray
    name: np.ndarray
    manager: np.ndarray
    churn_month: np.ndarray  # -1 when the group stays
    cause: np.ndarray  # index into sig.CAUSE_NAMES, -1 when the group stays
    near_end: np.ndarray  # churned around its agreement's end
    ep_start: np.ndarray
    ep_end: np.ndarray
    ep_strength: np.ndarray
    ep_flags: np.ndarray
    contracts: tuple[np.ndarray, np.ndarray, np.ndarray]  # group index, start day, end day
    contract_end: np.ndarray  # end day of the latest agreement

    @property
    def n(self) -> int:
        return len(self.group_id)

    @property
    def last(self) -> int:
        return self.start + self.months - 1

    def intensity(self, month: int) -> np.ndarray:
        """Per group: episode strength x ramp in ``month`` (0 outside the episode)."""
        inside = (self.ep_start <= month) & (month <= self.ep_end)
        span = np.maximum(self.ep_end - self.ep_start + 1, 1)
        ramp = np.clip((month - self.ep_start + 1) / span, 0.0, 1.0) ** 0.8
        return np.where(inside, ramp * self.ep_strength, 0.0).astype(np.float32)


def _profiles(rng: np.random.Generator, n: int, start: int, months: int) -> dict:
    reg_p = np.array([r[2] for r in vocab.REGIONS])
    ind_p = np.array([i[2] for i in vocab.INDUSTRIES])
    region = rng.choice(len(reg_p), n, p=reg_p / reg_p.sum())
    industry = rng.choice(len(ind_p), n, p=ind_p / ind_p.sum())
    size_factor = np.array([i[3] for i in vocab.INDUSTRIES])[industry]
    size = np.rint(np.exp(rng.normal(2.15, 1.05, n)) * size_factor)
    size = np.clip(size, 1, 800).astype(np.int32)
    plan_level = np.exp(rng.normal(0.0, 0.3, n))
    score = np.log(size) + 2.0 * np.log(plan_level) + rng.normal(0.0, 0.5, n)
    cut_a, cut_b = np.quantile(score, [0.88, 0.55])
    tier = np.where(score >= cut_a, 0, np.where(score >= cut_b, 1, 2)).astype(np.int8)
    # Most groups opened before the data starts; some open during the window.
    new_share = min(0.25, 0.01 * (months - 1))
    is_new = rng.random(n) < new_share
    tenure = np.minimum(1 + rng.exponential(45.0, n).astype(np.int64), 180)
    open_month = np.where(
        is_new, start + 1 + rng.integers(0, max(months - 1, 1), n), start - tenure
    ).astype(np.int64)
    dom = rng.integers(1, 29, n)
    opened_day = first_day(open_month) + dom - 1
    # ids: city code then 12 digits, sorted so that group order is id order
    code = np.array([r[1] for r in vocab.REGIONS], dtype=np.int64)[region]
    tail = _scramble(np.arange(n), 10**12, 982_451_653, int(rng.integers(0, 10**12)))
    group_id = code * 10**12 + tail
    order = np.argsort(group_id, kind="stable")
    region, industry, size, plan_level, tier, open_month, opened_day, dom, group_id = (
        a[order]
        for a in (region, industry, size, plan_level, tier, open_month, opened_day, dom, group_id)
    )
    city = np.array([r[0] for r in vocab.REGIONS])[region]
    word = np.array([i[1] for i in vocab.INDUSTRIES])[industry]
    name = vocab.company_names(rng, city, word)
    # account managers: about one per 120 groups, each serving one city
    per_region = np.maximum(1, np.rint(np.bincount(region, minlength=len(reg_p)) / 120)).astype(int)
    offsets = np.concatenate([[0], np.cumsum(per_region)[:-1]])
    staff = vocab.person_names(rng, int(per_region.sum()))
    manager = staff[offsets[region] + (rng.random(n) * per_region[region]).astype(int)]
    return dict(
        group_id=group_id, region=region, industry=industry, size=size, plan_level=plan_level,
        tier=tier, open_month=open_month, opened_day=opened_day, dom=dom, name=name,
        manager=manager,
    )  # fmt: skip


class _Agreements:
    """Agreement history, built month by month in vectorised steps."""

    def __init__(self, dom: np.ndarray):
        self.dom = dom
        self.rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.end_month = np.full(len(dom), -(10**6), dtype=np.int64)
        self.end_day = np.zeros(len(dom), dtype=np.int64)

    def sign(self, rng, groups: np.ndarray, start_month: np.ndarray) -> None:
        """New agreements for ``groups`` starting on their day of month in ``start_month``."""
        term = rng.choice(TERMS, len(groups), p=TERM_P)
        dom = self.dom[groups]
        start_day = first_day(start_month) + dom - 1
        end_day = first_day(start_month + term) + dom - 2
        self.rows.append((groups, start_day, end_day))
        self.end_day[groups] = end_day
        self.end_month[groups] = start_month + term - (dom == 1)

    def renew(self, rng, groups: np.ndarray) -> None:
        """Back-to-back renewals: the new agreement starts the day after the old one ends."""
        start_month = self.end_month[groups] + (self.dom[groups] == 1)
        self.sign(rng, groups, start_month)


def _churn_and_contracts(rng, p: dict, start: int, months: int):
    n = len(p["size"])
    size, tier, industry = p["size"], p["tier"], p["industry"]
    frailty = np.exp(rng.normal(0.0, 0.6, n))  # unobserved: limits how well churn can be predicted
    size_mult = np.select([size <= 2, size <= 9, size <= 49], [1.6, 1.1, 0.8], 0.5)
    tier_mult = np.array([0.5, 0.9, 1.25])[tier]
    ind_mult = np.array([i[6] for i in vocab.INDUSTRIES])[industry]
    mult = size_mult * tier_mult * ind_mult * frailty
    mult /= mult.mean()

    ag = _Agreements(p["dom"])
    # history before the window: back-to-back agreements since opening
    # (about 1 in 10 stopped renewing some months before the data starts: out of agreement)
    pre = np.flatnonzero(p["open_month"] <= start)
    target = np.full(n, start, dtype=np.int64)
    target[pre] -= np.where(rng.random(len(pre)) < 0.1, rng.integers(1, 19, len(pre)), 0)
    ag.sign(rng, pre, p["open_month"][pre])
    todo = pre[ag.end_month[pre] < target[pre]]
    while len(todo):
        ag.renew(rng, todo)
        todo = todo[ag.end_month[todo] < target[todo]]
    lapsed = np.zeros(n, dtype=bool)
    lapsed[pre] = ag.end_month[pre] < start

    churn = np.full(n, -1, dtype=np.int64)
    near = np.zeros(n, dtype=bool)
    renewed_at = np.full(n, -1, dtype=np.int64)  # last renewal month inside the window
    for m in range(start, start + months):
        opening = np.flatnonzero(p["open_month"] == m)
        if m > start and len(opening):
            ag.sign(rng, opening, np.full(len(opening), m))
        if m == start:
            continue
        alive = (churn < 0) & (p["open_month"] <= m - 2)
        d = m - ag.end_month
        boost = np.ones(n)
        for k, b in EXPIRY_BOOST.items():
            boost[d == k] = b
        boost[(d > 2) | (lapsed & (d > 0))] = LAPSED_BOOST
        young = np.where(m - p["open_month"] < 12, 1.4, 1.0)
        hazard = BASE_HAZARD * mult * boost * young
        leaving = alive & (rng.random(n) < hazard)
        churn[leaving] = m
        near[leaving] = (d[leaving] >= -1) & (d[leaving] <= 2)
        # renewals of the agreements that ended last month
        due = np.flatnonzero((churn < 0) & (d == 1) & ~lapsed & (p["open_month"] <= m))
        ok = rng.random(len(due)) < RENEW_P[tier[due]]
        ag.renew(rng, due[ok])
        renewed_at[due[ok]] = m
        lapsed[due[~ok]] = True
        back = np.flatnonzero((churn < 0) & lapsed & (d > 1) & (rng.random(n) < RESIGN_P))
        ag.sign(rng, back, np.full(len(back), m))
        lapsed[back] = False
        renewed_at[back] = m
    g = np.concatenate([r[0] for r in ag.rows]) if ag.rows else np.zeros(0, np.int64)
    sd = np.concatenate([r[1] for r in ag.rows]) if ag.rows else np.zeros(0, np.int64)
    ed = np.concatenate([r[2] for r in ag.rows]) if ag.rows else np.zeros(0, np.int64)
    order = np.lexsort((sd, g))
    return churn, near, renewed_at, (g[order], sd[order], ed[order]), ag.end_day


def _episodes(rng, churn, near, renewed_at, start: int, months: int):
    n = len(churn)
    last = start + months - 1
    cause = np.full(n, -1, dtype=np.int8)
    ep_start = np.full(n, -(10**6), dtype=np.int64)
    ep_end = np.full(n, -(10**6), dtype=np.int64)
    strength = np.zeros(n, dtype=np.float32)
    flags = np.zeros(n, dtype=np.int32)
    # churners: a cause, and precursors 1-4 months ahead unless silent
    ch = np.flatnonzero(churn >= 0)
    probs = np.where(near[ch, None], CAUSE_P_NEAR_END, CAUSE_P_OTHER)
    drawn = (rng.random(len(ch))[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)
    cause[ch] = np.minimum(drawn, len(sig.CAUSE_NAMES) - 1)
    lead = rng.choice([1, 2, 3, 4], len(ch), p=[0.2, 0.35, 0.28, 0.17])
    ep_end[ch] = churn[ch] - 1
    ep_start[ch] = churn[ch] - lead
    strength[ch] = rng.uniform(0.35, 1.0, len(ch))
    flags[ch] = sig.draw_flags(rng, cause[ch])
    # false alarms: healthy groups that show the same kinds of signals and stay
    healthy = np.flatnonzero(churn < 0)
    p_fa = min(0.6, FALSE_ALARM_PER_YEAR * months / 12)
    fa = healthy[rng.random(len(healthy)) < p_fa]
    pseudo = rng.choice(4, len(fa), p=FALSE_ALARM_CAUSE_P)  # no silent false alarms
    length = rng.integers(1, 6, len(fa))
    end = start - 1 + rng.integers(0, months + 2, len(fa))
    at_renewal = (pseudo == sig.POACHING) & (renewed_at[fa] >= 0)
    end = np.where(at_renewal, renewed_at[fa] - 1, end)
    ep_end[fa] = np.minimum(end, last)
    ep_start[fa] = end - length + 1
    strength[fa] = rng.uniform(0.3, 0.9, len(fa))
    flags[fa] = sig.draw_flags(rng, pseudo)
    return cause, ep_start, ep_end, strength, flags


def build_world(rng: np.random.Generator, n: int, start: int, months: int) -> World:
    """Draw the groups and decide everything that happens to each of them."""
    p = _profiles(rng, n, start, months)
    churn, near, renewed_at, contracts, contract_end = _churn_and_contracts(rng, p, start, months)
    cause, ep_start, ep_end, strength, flags = _episodes(
        rng, churn, near, renewed_at, start, months
    )
    return World(
        start=start, months=months, group_id=p["group_id"], region=p["region"],
        industry=p["industry"], tier=p["tier"], size=p["size"], plan_level=p["plan_level"],
        open_month=p["open_month"], opened_day=p["opened_day"], name=p["name"],
        manager=p["manager"], churn_month=churn, cause=cause, near_end=near,
        ep_start=ep_start, ep_end=ep_end, ep_strength=strength, ep_flags=flags,
        contracts=contracts, contract_end=contract_end,
    )  # fmt: skip
