"""The signal registry: every warning signal is a small, named, documented unit.

A signal is a pure function of the per-group monthly frame (see :mod:`churnkit.signals.frame`)
and the :class:`Settings`, returning one Ibis column expression named after the column it
produces. Its docstring starts with its Chinese name; its reason family, direction of risk and
the settings it reads are declared when it is registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields

from churnkit.families import FAMILIES


@dataclass(frozen=True)
class Settings:
    """Thresholds of the signal catalogue (defaults from the data contract)."""

    forwarding_calls: int = 10  # a line forwards "heavily" with at least this many forwarded calls
    offnet_forwarding_calls: int = 1  # a line forwards off-net with at least this many
    hotline_calls: int = 1  # a line "called a competitor" with at least this many hotline calls

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


@dataclass(frozen=True)
class Signal:
    name: str
    zh: str
    family: str
    direction: int  # +1 risk rises with the value, -1 risk rises as it falls, 0 no fixed direction
    kind: str  # "int" or "float"
    doc: str
    func: Callable = field(repr=False)
    params: tuple[str, ...] = ()
    catalogue: bool = True  # part of data contract catalogue v1 (else a churnkit extra)


SIGNALS: dict[str, Signal] = {}


def signal(family: str, direction: int, kind: str = "float", params: tuple[str, ...] = (), catalogue: bool = True):
    """Register the decorated function as the signal named after it."""

    def register(func: Callable) -> Callable:
        if family not in FAMILIES:
            raise ValueError(f"{func.__name__}: unknown reason family {family!r}")
        unknown = set(params) - set(Settings.names())
        if unknown:
            raise ValueError(f"{func.__name__}: unknown settings {sorted(unknown)}")
        doc = (func.__doc__ or "").strip()
        zh = doc.split("：", 1)[0].split(":", 1)[0].strip()
        SIGNALS[func.__name__] = Signal(func.__name__, zh, family, direction, kind, doc, func, params, catalogue)
        return func

    return register


def family_of(column: str) -> str:
    """Reason family of a model feature: a registered signal or a profile column."""
    sig = SIGNALS.get(column)
    return sig.family if sig else "profile"
