"""The calendar the simulated traffic follows: Spring Festival dip and a mild yearly cycle."""

from __future__ import annotations

import datetime as _dt

import numpy as np

# Gregorian date of the Spring Festival (春节, lunar new year's day).
_SPRING_FESTIVAL = {
    2015: (2, 19), 2016: (2, 8), 2017: (1, 28), 2018: (2, 16), 2019: (2, 5),
    2020: (1, 25), 2021: (2, 12), 2022: (2, 1), 2023: (1, 22), 2024: (2, 10),
    2025: (1, 29), 2026: (2, 17), 2027: (2, 6), 2028: (1, 26), 2029: (2, 13),
    2030: (2, 3), 2031: (1, 23), 2032: (2, 11), 2033: (1, 31), 2034: (2, 19),
    2035: (2, 8),
}  # fmt: skip

# Mild yearly cycle of voice traffic, January..December (the festival dip comes on top).
_MONTHLY = np.array([0.97, 0.97, 1.02, 1.01, 1.02, 1.0, 1.03, 1.03, 1.01, 0.95, 1.0, 0.99])

EPOCH_MONTH = 1970 * 12  # month index of 1970-01, the origin of numpy datetimes


def spring_festival_month(year: int) -> int:
    """Month index of the month most hit by the Spring Festival holiday of ``year``.

    Migrant workers go home for about three weeks around the festival; the month
    holding the fifth day after new year's day is the one whose traffic drops most.
    Years outside the table fall back to February.
    """
    month, day = _SPRING_FESTIVAL.get(int(year), (2, 1))
    peak = _dt.date(int(year), month, day) + _dt.timedelta(days=5)
    return peak.year * 12 + peak.month - 1


def season(month: int) -> tuple[float, float]:
    """(traffic factor, probability that a migrant worker's line is idle) for a month index."""
    factor = float(_MONTHLY[month % 12])
    festival = spring_festival_month(month // 12)
    if month == festival:
        return factor * 0.78, 0.55
    if month % 12 in (0, 1):  # the other of January/February: the holiday's edge
        return factor * 0.93, 0.15
    return factor, 0.0


def month_first_day(month: int) -> int:
    """Days since 1970-01-01 of the first day of a month index."""
    return int(np.datetime64(month - EPOCH_MONTH, "M").astype("datetime64[D]").astype(np.int64))


def days_in_month(month: int) -> int:
    """Number of days of a month index."""
    return month_first_day(month + 1) - month_first_day(month)


def month_of_day(days: np.ndarray) -> np.ndarray:
    """Month index of each date given as days since 1970-01-01."""
    d = np.asarray(days, dtype="int64").astype("datetime64[D]")
    return d.astype("datetime64[M]").astype(np.int64) + EPOCH_MONTH
