"""Bootstrap resamples drawn once and shared by every metric computed on them.

A resample of ``n`` rows is ``n`` row numbers drawn with replacement from
``numpy.random.default_rng(seed)``, one call of ``rng.integers(0, n, size=n)`` per resample,
so the same seed gives the same resamples whatever is computed on them.

Ranking metrics need the resample sorted by score, highest first. Instead of sorting each
resample, the full data is sorted once into tie groups (rows of one distinct score); a
resample is then described by how many churners and stayers it drew from each group, which
is exactly what a stable descending sort of the resampled scores would give at the last row
of each tie. Only where the order *inside* a tie matters (a decile edge cutting a tie) are
the tied rows taken in resample order, as a stable sort would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TieGroups:
    """Rows grouped by distinct score: ``group[i]`` is 0 for the highest score, 1 for the next."""

    group: np.ndarray
    size: int


def tie_groups(score: np.ndarray) -> TieGroups:
    """Tie group of every row, numbered from the highest score down."""
    order = np.argsort(-score, kind="stable")
    starts = np.r_[True, np.diff(score[order]) != 0]
    group = np.empty(len(score), dtype=np.int64)
    group[order] = np.cumsum(starts) - 1
    return TieGroups(group, int(starts.sum()))


@dataclass(frozen=True)
class Resample:
    """One resample: its rows in resample order and its counts per tie group.

    ``tp[j]`` and ``fp[j]`` are the churners and stayers among the resampled rows whose score
    is at least that of the ``j``-th distinct score present in the resample (highest first):
    the cumulative counts at the last row of each tie of a descending sort, the ROC curve's
    points as counts without the origin. ``ids[j]`` is that score's tie group.
    """

    y: np.ndarray
    score: np.ndarray
    group: np.ndarray
    ids: np.ndarray
    tp: np.ndarray
    fp: np.ndarray

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def positives(self) -> int:
        return int(self.tp[-1])

    def top_positives(self, k: int) -> int:
        """Churners among the first ``k`` (at most ``n``) rows ranked by score, highest first.

        Ties are ranked in resample order (a stable sort), so when the ``k``-th row falls
        inside a tie only the tie's first rows in resample order count.
        """
        if k <= 0:
            return 0
        rows = self.tp + self.fp
        j = int(np.searchsorted(rows, k))  # first tie that reaches k rows
        rows_before = int(rows[j - 1]) if j else 0
        pos_before = int(self.tp[j - 1]) if j else 0
        taken = k - rows_before  # rows of tie j among the first k
        tie_rows, tie_pos = int(rows[j]) - rows_before, int(self.tp[j]) - pos_before
        if tie_pos in (0, tie_rows) or taken == tie_rows:  # no need to look at the rows
            return pos_before + tie_pos * taken // tie_rows
        tied = self.y[self.group == self.ids[j]]
        return pos_before + int(tied[:taken].sum())


def draws(n: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Row numbers of each of ``n_boot`` resamples of ``n`` rows (with replacement)."""
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    rng = np.random.default_rng(seed)
    return (rng.integers(0, n, size=n) for _ in range(int(n_boot)))


def resample(ties: TieGroups, y: np.ndarray, score: np.ndarray, idx: np.ndarray) -> Resample:
    """Resample ``idx`` (row numbers) of 0/1 ``y`` and ``score``; ``ties = tie_groups(score)``."""
    y_b, group = y[idx], ties.group[idx]
    counts = np.bincount(2 * group + y_b, minlength=2 * ties.size)  # stayers, churners per group
    stay, churn = counts[0::2], counts[1::2]
    ids = np.flatnonzero(stay + churn)
    return Resample(
        y=y_b,
        score=score[idx],
        group=group,
        ids=ids,
        tp=np.cumsum(churn[ids]),
        fp=np.cumsum(stay[ids]),
    )


def resampled_values(
    stats: Callable[[Resample], dict[str, float]],
    y: np.ndarray,
    score: np.ndarray,
    n_boot: int = 200,
    seed: int = 0,
) -> dict[str, list[float]]:
    """Every statistic of ``stats`` on every usable resample, by name.

    ``y`` holds 0/1 as integers. Resamples with a single class are skipped for every
    statistic; a statistic that is not finite on a resample is skipped for that one only.
    A name that was never finite is missing from the result.
    """
    ties = tie_groups(score)
    values: dict[str, list[float]] = {}
    for idx in draws(len(y), n_boot, seed):
        sample = resample(ties, y, score, idx)
        if sample.positives in (0, sample.n):
            continue
        for name, value in stats(sample).items():
            if np.isfinite(value):
                values.setdefault(name, []).append(float(value))
    return values


def check_level(level: float) -> None:
    """Raise ValueError unless ``0 < level < 1``."""
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level!r}")


def percentile_interval(values, level: float = 0.95) -> tuple[float, float]:
    """Central ``level`` percentile interval of ``values``; NaN, NaN when there are none."""
    check_level(level)
    if len(values) == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2
    lo, hi = np.quantile(values, [tail, 1 - tail])
    return float(lo), float(hi)
