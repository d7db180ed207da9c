"""Dated event tables: add-on subscriptions and cancellations, complaints, account-manager intel."""

from __future__ import annotations

import numpy as np

from churnkit.simulate import signals as sig
from churnkit.simulate import vocab
from churnkit.simulate.seasons import days_in_month, month_first_day

CATEGORY = {name: i for i, name in enumerate(vocab.COMPLAINT_CATEGORIES)}
PRODUCT_P = np.array([0.2, 0.15, 0.2, 0.1, 0.1, 0.05, 0.05, 0.07, 0.04, 0.04])


class EventLog:
    """Collects the month's events as integer-coded numpy arrays."""

    def __init__(self, n_groups: int, rng: np.random.Generator):
        self.n, self.rng = n_groups, rng
        self.addons: list[dict] = []
        self.complaints: list[dict] = []
        self.intel: list[dict] = []

    def _dates(self, month: int, k: int) -> np.ndarray:
        return month_first_day(month) + self.rng.integers(0, days_in_month(month), k)

    def _members(self, grp: np.ndarray, numbers: np.ndarray, count, offset) -> np.ndarray:
        pick = offset[grp] + (self.rng.random(len(grp)) * count[grp]).astype(np.int64)
        return numbers[pick]

    def record(self, month: int, grp_of_line, numbers, flags, effect) -> None:
        """Draw this month's events for the groups with active lines."""
        rng, n = self.rng, self.n
        count = np.bincount(grp_of_line, minlength=n)
        offset = np.cumsum(count) - count
        has = count > 0
        e = np.where(has, effect, 0.0)

        def on(bit: int) -> np.ndarray:
            return np.where(sig.has(flags, bit), e, 0.0)

        # add-ons: background churn of value-added services, plus cancellations in episodes
        subs = rng.poisson(0.010 * count)
        cancels = rng.poisson(0.008 * count + on(sig.ADDON_CANCEL) * (0.12 * count + 0.8))
        for action, k in ((0, subs), (1, cancels)):
            grp = np.repeat(np.arange(n), k)
            self.addons.append(dict(
                grp=grp, member=self._members(grp, numbers, count, offset),
                product=rng.choice(len(PRODUCT_P), len(grp), p=PRODUCT_P),
                action=np.full(len(grp), action, dtype=np.int8), date=self._dates(month, len(grp)),
            ))  # fmt: skip

        # complaints: background by size, plus billing or service complaints in episodes
        background = rng.poisson(np.where(has, 0.01 + 0.004 * count**0.8, 0.0))
        billing = rng.poisson(1.2 * on(sig.BILLING_COMPLAINTS))
        service = rng.poisson(1.5 * on(sig.SERVICE_COMPLAINTS))
        grp = np.concatenate([np.repeat(np.arange(n), k) for k in (background, billing, service)])
        kind = np.concatenate([
            rng.choice(4, background.sum(), p=[0.3, 0.3, 0.25, 0.15]),
            rng.choice(4, billing.sum(), p=[0.0, 0.0, 0.8, 0.2]),
            rng.choice(4, service.sum(), p=[0.35, 0.55, 0.0, 0.1]),
        ])  # fmt: skip
        member = self._members(grp, numbers, count, offset)
        member = np.where(rng.random(len(grp)) < 0.3, -1, member)  # not tied to a line
        self.complaints.append(
            dict(grp=grp, member=member, category=kind, date=self._dates(month, len(grp)))
        )

        # intel: the account manager hears of exit intent or a competitor's offer
        p = np.where(has, 0.0026, 0.0) + 0.6 * on(sig.INTEL)
        grp = np.flatnonzero(rng.random(n) < p)
        exit_p = np.where(sig.has(flags[grp], sig.INTEL), 0.5, 0.25)
        kind = (rng.random(len(grp)) >= exit_p).astype(np.int8)  # 0 exit_intent, 1 offer
        note = rng.integers(0, 5, len(grp))
        self.intel.append(dict(grp=grp, kind=kind, note=note, date=self._dates(month, len(grp))))

    @staticmethod
    def _join(parts: list[dict], sort_by: tuple[str, ...]) -> dict:
        cols = {f: np.concatenate([p[f] for p in parts]) for f in parts[0]} if parts else {}
        if cols:
            order = np.lexsort(tuple(cols[f] for f in reversed(sort_by)))
            cols = {f: a[order] for f, a in cols.items()}
        return cols

    def tables(self) -> tuple[dict, dict, dict]:
        """All events, each table sorted by group then date."""
        return (
            self._join(self.addons, ("grp", "date", "member")),
            self._join(self.complaints, ("grp", "date", "member")),
            self._join(self.intel, ("grp", "date")),
        )
