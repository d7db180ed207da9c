"""Calendar months as integers, so windows are arithmetic and never "the last k rows".

A month index is ``year * 12 + (month - 1)``; 2026-10 is 24321.
"""

from __future__ import annotations

import re

from churnkit.errors import UsageError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> int:
    """Turn ``YYYY-MM`` into a month index; raise UsageError otherwise."""
    m = _MONTH.match(str(text).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise UsageError(f"month {text!r} is not of the form YYYY-MM (e.g. 2026-10)")
    return int(m.group(1)) * 12 + int(m.group(2)) - 1


def format_month(index: int) -> str:
    """Turn a month index back into ``YYYY-MM``."""
    index = int(index)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def parse_month_range(text: str) -> list[int]:
    """Turn ``FROM:TO`` (both YYYY-MM, inclusive) into the list of month indexes."""
    parts = str(text).split(":")
    if len(parts) != 2:
        raise UsageError(f"month range {text!r} is not of the form YYYY-MM:YYYY-MM")
    lo, hi = parse_month(parts[0]), parse_month(parts[1])
    if hi < lo:
        raise UsageError(f"month range {text!r} ends before it starts")
    return list(range(lo, hi + 1))
