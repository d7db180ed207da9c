"""Churn causes, the precursor signals each one may raise, and their reason families.

A group's *episode* is a stretch of months in which some precursor signals are switched on
(a bitmask of the flags below) with an intensity that ramps up to its end. Churners get an
episode that ends the month before they leave; some healthy groups get one too (false alarms:
a competitor courted them but they renewed, they downsized, they complained and stayed).
"""

from __future__ import annotations

import numpy as np

HOTLINE = 1 << 0  # members call competitors' customer-service hotlines
FORWARD = 1 << 1  # members forward their calls, mostly off-net
INTEL = 1 << 2  # the contact person says the group may leave / a competitor courts it
ADDON_CANCEL = 1 << 3  # value-added services cancelled
SPEND_DROP = 1 << 4  # bills fall, lines billed below their plan
BILLING_COMPLAINTS = 1 << 5  # complaints about the bill
SERVICE_COMPLAINTS = 1 << 6  # complaints about network and SP services
MINUTES_DROP = 1 << 7  # traffic falls, some lines go silent
MEMBER_LEAVE = 1 << 8  # lines leave ahead of the group (bulk member anomaly)
IDLE = 1 << 9  # lines kept but unused (zero-call lines)
ARREARS = 1 << 10  # unpaid bills

FAMILY = {
    HOTLINE: "competitor_contact",
    FORWARD: "call_forwarding",
    INTEL: "exit_intent",
    ADDON_CANCEL: "addon_cancellation",
    SPEND_DROP: "spend_decline",
    BILLING_COMPLAINTS: "complaints",
    SERVICE_COMPLAINTS: "complaints",
    MINUTES_DROP: "idle_lines",
    MEMBER_LEAVE: "member_loss",
    IDLE: "idle_lines",
    ARREARS: "arrears",
}
# Order in which families are listed in the truth table.
FAMILY_ORDER = [
    "member_loss", "spend_decline", "idle_lines", "call_forwarding", "addon_cancellation",
    "competitor_contact", "contract_expiry", "complaints", "exit_intent", "arrears", "profile",
]  # fmt: skip

# cause -> {signal: probability that a churner of this cause shows it}; the first is the
# cause's primary signal, forced on when the draw leaves a warned churner with none.
CAUSES = {
    "competitor_poaching": {
        HOTLINE: 0.65, FORWARD: 0.5, INTEL: 0.3, ADDON_CANCEL: 0.35, IDLE: 0.25, MEMBER_LEAVE: 0.2,
    },
    "price": {
        SPEND_DROP: 0.7, HOTLINE: 0.35, BILLING_COMPLAINTS: 0.4, ADDON_CANCEL: 0.3,
        MEMBER_LEAVE: 0.2, INTEL: 0.12,
    },
    "service_failure": {
        SERVICE_COMPLAINTS: 0.7, MINUTES_DROP: 0.5, HOTLINE: 0.3, FORWARD: 0.2, INTEL: 0.1,
    },
    "business_closure": {
        MEMBER_LEAVE: 0.75, IDLE: 0.5, ARREARS: 0.45, SPEND_DROP: 0.3, ADDON_CANCEL: 0.2,
    },
    "silent": {},
}  # fmt: skip
CAUSE_NAMES = list(CAUSES)
SILENT = CAUSE_NAMES.index("silent")
POACHING = CAUSE_NAMES.index("competitor_poaching")


def draw_flags(rng: np.random.Generator, cause: np.ndarray) -> np.ndarray:
    """Signal bitmask for each group of the given cause indexes (silent gets none)."""
    flags = np.zeros(len(cause), dtype=np.int32)
    for c, name in enumerate(CAUSE_NAMES):
        rows = np.flatnonzero(cause == c)
        if not len(rows) or not CAUSES[name]:
            continue
        for bit, p in CAUSES[name].items():
            flags[rows] |= np.where(rng.random(len(rows)) < p, bit, 0).astype(np.int32)
        primary = next(iter(CAUSES[name]))
        flags[rows] |= np.where(flags[rows] == 0, primary, 0).astype(np.int32)
    return flags


def families(flags: int, near_contract_end: bool) -> str:
    """Semicolon-joined reason families that explain one churner's signals."""
    found = {FAMILY[bit] for bit in FAMILY if flags & bit}
    if near_contract_end:
        found.add("contract_expiry")
    if not found:
        found.add("profile")
    return ";".join(f for f in FAMILY_ORDER if f in found)


def has(flags: np.ndarray, bit: int) -> np.ndarray:
    """Boolean mask of the groups (or lines) whose flags hold ``bit``."""
    return (flags & bit) != 0
