"""Out-of-time split by snapshot month, never by row.

With horizon H, a snapshot at month M carries a label observed up to M + H. For training
labels never to be observed after a validation snapshot, every training month is at most
``min(validation) - H``; the same gap separates validation from test months. Validation
months stop LightGBM early and fit the calibration; test months are seen by neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from churnkit.errors import DataError
from churnkit.months import format_month


@dataclass(frozen=True)
class Split:
    train: list[int]
    valid: list[int]
    test: list[int]
    horizon: int

    def describe(self) -> dict[str, str]:
        def span(ms):
            return f"{format_month(ms[0])}..{format_month(ms[-1])}" if ms else ""
        return {"train_months": span(self.train), "valid_months": span(self.valid), "test_months": span(self.test)}


def out_of_time_split(months: list[int], horizon: int, valid_months: int = 2, test_months: int = 2,
                      min_train_months: int = 3) -> Split:
    """Last ``test_months`` usable months for test, ``valid_months`` before them (gap H), the rest
    (gap H) for training."""
    months = sorted(set(months))
    if len(months) < test_months + valid_months + min_train_months + 2 * horizon:
        raise DataError(
            f"{len(months)} usable snapshot months are too few for an out-of-time split with horizon {horizon} "
            f"({min_train_months} train + {valid_months} validation + {test_months} test months and two gaps of {horizon}); "
            "provide a longer history or lower --horizon"
        )
    gap = max(horizon, 1)  # with horizon 0 the parts must still not share a month
    test = months[-test_months:] if test_months else []
    cut = (min(test) - gap) if test else months[-1]
    valid = [m for m in months if m <= cut][-valid_months:]
    train = [m for m in months if m <= min(valid) - gap]
    return Split(train, valid, test, horizon)
