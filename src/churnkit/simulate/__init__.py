"""Synthetic SME group-customer data in the churnkit data contract format.

``simulate(out, groups, months, start, seed)`` writes a data directory (groups, monthly billing
and usage files, add-ons, complaints, intel, agreements, churn labels) plus
``_truth/causes.parquet``, the cause behind each churn, which the pipeline never reads. Same
arguments, same bytes.

How the world works
-------------------
Groups (``world.py``). Each group gets a city of Sichuan (its code prefixes the 18-digit id), an
industry, and a heavy-tailed size (lognormal, 1 to 800 lines, mean about 15). Its value tier
(A/B/C) ranks size times plan level plus noise: big groups on rich plans are tier A. Most groups
opened years before the data starts, some open inside the window. Agreements (协议) last 12, 24
or 36 months and run back to back since opening; at each end most groups renew (82-93% by tier),
the rest stay out of agreement and may sign again later. About 1 in 10 is already out of
agreement when the data starts.

Churn (``world.py``). Each month a group leaves with a hazard of about 0.6% times a profile
multiplier (small groups, tier C, retail and catering, groups younger than a year churn more;
government and healthcare less; a hidden frailty adds unexplained variation) times an expiry
boost (up to x6 in the month after its agreement ends, x1.7 while out of agreement). Yearly
churn comes out around 10%. A churner's cause is drawn with odds that depend on whether it
leaves around its agreement's end: competitor poaching dominates there; price, service
failure, business closure and silent churn elsewhere.

Precursors (``signals.py``). A churner that is not silent (~80%) gets an *episode*: a set of
signals drawn for its cause, each with its own probability (partial: rarely all of them),
starting 1 to 4 months before churn and ramping up to the last month, scaled by a random
strength. Poaching: competitor hotline calls, off-net call forwarding, exit intent or competitor
offers heard by the manager, add-on cancellations, idle lines. Price: bills falling and below
plan, hotline calls, billing complaints. Service failure: network/SP complaints, falling
minutes. Business closure: lines leaving ahead of the group (bulk member anomaly), zero-call
lines, arrears. The truth table lists the reason families of the signals actually drawn (plus
``contract_expiry`` when it left near its agreement's end; ``profile`` for silent churners).
About 16% of healthy groups a year get a false-alarm episode of the same kinds (a competitor
courted them before they renewed, they downsized, they complained and stayed), so the signals
are informative but far from separating.

Lines (``members.py``). Members hold a phone number (a group's founding lines mostly come from
a block of numbers it bought), a plan (8 to 238 yuan, richer in richer groups, 4% unknown), and
usage levels. About 1.1% of lines leave each month and are replaced at the rate that keeps the
group near its (drifting) size. The bill is the plan fee plus overage and value-added charges;
some lines are billed below plan (discounts, part months). Some lines are dormant; a line
without traffic has no usage row. The Spring Festival month loses about a fifth of its minutes
and half of the migrant workers' lines (construction, manufacturing, catering) go silent, with
a mild dip in the neighbouring month and a weak yearly cycle: healthy zero-call spikes.

Events (``events.py``). Add-on subscriptions and cancellations, complaints of every category and
competitor offers heard by managers happen to healthy groups too, in proportion to size.

Everything is generated month by month with vectorised numpy (``writer.py`` converts integer
codes to the contract's strings with pyarrow), so 200,000 groups x 12 months run in minutes in
bounded memory.
"""

from churnkit.simulate.seasons import spring_festival_month
from churnkit.simulate.simulation import simulate

__all__ = ["simulate", "spring_festival_month"]
