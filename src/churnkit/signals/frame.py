"""The per-group frame the signals read: one row per scored group and scoring month.

Built in two steps, both plain Ibis so that they run on DuckDB or Spark:

1. ``monthly``: billing left-joined to usage, aggregated per (group, month): active lines, spend,
   zero-call lines, forwarding lines, ...; member-level thresholds come from the settings.
2. ``wide``: for each scoring month M in ``months``, the group's month-M row joined to its own
   rows at M-1, M-3, M-6 and to windows over calendar months (M-3..M-1 means, M-2..M sums).
   Every join key is a month index at or before M, so nothing after M is read.
"""

from __future__ import annotations

import ibis

from churnkit.signals.registry import Settings

LOOKBACK_MONTHS = 6  # the furthest back a signal of month M reads (member_change_6m reads M-6)


def monthly(billing: ibis.Table, usage: ibis.Table, settings: Settings) -> ibis.Table:
    """Aggregates per (group_id, mi) over the group's active lines (lines with a billing row).

    Billing and usage are aggregated per group and month each on its own, then joined on
    (group, month): validated data have a billing row for every usage row (and the same group on
    both, see churnkit.checks), so a line's traffic counts for the group that bills it, and a line
    without a usage row had no calls. Two aggregates of group-months are far cheaper than joining
    tens of millions of lines."""
    one, zero = ibis.literal(1, "int64"), ibis.literal(0, "int64")
    b = billing.group_by(["group_id", "mi"]).aggregate(
        active_lines=billing.member_id.count(),
        spend=_exact(billing.charge),
        below_plan_lines=(billing.plan_fee.notnull() & (billing.charge < billing.plan_fee)).ifelse(one, zero).sum(),
        arrears_sum=_exact(billing.arrears),
        arrears_known=billing.arrears.count(),
    )
    u = usage.group_by(["group_id", "mi"]).aggregate(
        calling_lines=(usage.call_count.fill_null(0) != 0).ifelse(one, zero).sum(),
        u_forwarding=(usage.forwarded_calls.fill_null(0) >= settings.forwarding_calls).ifelse(one, zero).sum(),
        u_offnet=(usage.forwarded_offnet_calls.fill_null(0) >= settings.offnet_forwarding_calls).ifelse(one, zero).sum(),
        u_minutes=_exact(usage.call_minutes.fill_null(0)),
        u_hotline=usage.competitor_hotline_calls.fill_null(0).sum(),
    ).rename(u_group="group_id", u_mi="mi")
    j = b.left_join(u, [b.group_id == u.u_group, b.mi == u.u_mi])
    m = j.select(
        "group_id", "mi", "active_lines", "spend", "below_plan_lines", "arrears_sum", "arrears_known",
        zero_call_lines=j.active_lines - j.calling_lines.fill_null(0),
        forwarding_lines=j.u_forwarding.fill_null(0),
        offnet_forwarding_lines=j.u_offnet.fill_null(0),
        minutes=j.u_minutes.fill_null(0.0),
        hotline_calls=j.u_hotline.fill_null(0),
    )
    return m.mutate(
        zero_call_share_m=m.zero_call_lines / m.active_lines,
        minutes_per_line_m=m.minutes / m.active_lines,
    )


def _shifted(t: ibis.Table, k: int, months: list[int], **cols) -> ibis.Table:
    """Rows of ``t`` moved k months later (so month M sees M-k), restricted to the scoring months."""
    moved = t.mutate(mi=t.mi + k)
    return moved.filter(moved.mi.isin(months)).select("group_id", "mi", **{name: moved[src] for name, src in cols.items()})


def _window(t: ibis.Table, lags: range, months: list[int], how: str, **cols) -> ibis.Table:
    """Per (group, M): aggregate ``cols`` over rows of t dated M-lag for lag in ``lags``."""
    parts = [_shifted(t, k, months, **{c: c for c in cols.values()}) for k in lags]
    union = parts[0]
    for part in parts[1:]:
        union = union.union(part, distinct=False)
    aggs = {name: _exact(union[src], how) for name, src in cols.items()}
    return union.group_by(["group_id", "mi"]).aggregate(**aggs)


EXACT = "decimal(38, 18)"  # sums in fixed point: the same result in whatever order a parallel engine adds


def _exact(col: ibis.Value, how: str = "sum") -> ibis.Value:
    """A sum or mean of a float column that does not depend on the order of its rows: a parallel
    scan adds partial sums in a different order each run, and floating-point addition is not
    associative, so the last bit (and now and then a rounded figure in the scored file) would
    change between two runs of the same month. Values are fixed to 18 decimals first (finer than
    a double's spacing for the shares and yuan amounts summed here)."""
    if not col.type().is_floating():
        return getattr(col, how)()
    return getattr(col.cast(EXACT), how)().cast("float64")


def _event_counts(tables: dict, months: list[int]) -> ibis.Table | None:
    """Per (group, M): event counts in the calendar window M-2..M."""
    one, zero = ibis.literal(1, "int64"), ibis.literal(0, "int64")
    parts = []
    a = tables["addons"]
    parts.append(a.select("group_id", "mi", cancels=(a.action == "cancel").ifelse(one, zero), complaints=zero,
                          sp_complaints=zero, exit_intents=zero, competitor_offers=zero))
    c = tables["complaints"]
    parts.append(c.select("group_id", "mi", cancels=zero, complaints=one,
                          sp_complaints=(c.category.fill_null("").lower() == "sp").ifelse(one, zero),
                          exit_intents=zero, competitor_offers=zero))
    i = tables["intel"]
    parts.append(i.select("group_id", "mi", cancels=zero, complaints=zero, sp_complaints=zero,
                          exit_intents=(i.kind == "exit_intent").ifelse(one, zero),
                          competitor_offers=(i.kind == "competitor_offer").ifelse(one, zero)))
    events = parts[0].union(parts[1], distinct=False).union(parts[2], distinct=False)
    events = events.group_by(["group_id", "mi"]).aggregate(
        cancels=events.cancels.sum(), complaints=events.complaints.sum(), sp_complaints=events.sp_complaints.sum(),
        exit_intents=events.exit_intents.sum(), competitor_offers=events.competitor_offers.sum(),
    )
    return _window(events, range(0, 3), months, "sum", cancels_3m="cancels", complaints_w3="complaints",
                   sp_complaints_w3="sp_complaints", exit_intents_3m="exit_intents", competitor_offers_3m="competitor_offers")


def hot_lines(usage: ibis.Table, settings: Settings) -> ibis.Table:
    """The line-months with calls to competitor hotlines (at or above the setting's count)."""
    return usage.filter(usage.competitor_hotline_calls >= settings.hotline_calls).select("group_id", "member_id", "mi")


def _hotline_lines(hot: ibis.Table, months: list[int]) -> ibis.Table:
    """Per (group, M): distinct lines with hotline calls in M-2..M (lines since left included).
    Each hot line-month (:func:`hot_lines`) is joined to the scoring months whose window holds it."""
    scoring = ibis.memtable({"m_mi": list(months)}, schema={"m_mi": "int64"})
    j = hot.join(scoring, (hot.mi <= scoring.m_mi) & (hot.mi >= scoring.m_mi - 2))
    lines = j.group_by(["group_id", "m_mi"]).aggregate(hotline_lines_3m=j.member_id.nunique())
    return lines.select("group_id", mi=lines.m_mi, hotline_lines_3m=lines.hotline_lines_3m)


def _contract_end(tables: dict, spine: ibis.Table) -> ibis.Table:
    """Per (group, M): the end month of the agreement in force at M."""
    contracts = tables.get("contracts")
    groups = tables["groups"]
    if contracts is None:
        return _left(spine.select("group_id", "mi"), groups.select("group_id", "contract_end_mi"), "group_id")
    keys = spine.select(k_group="group_id", k_mi="mi")
    j = keys.join(contracts, [keys.k_group == contracts.group_id, contracts.start_mi <= keys.k_mi])
    latest = j.group_by(["k_group", "k_mi"]).aggregate(contract_end_mi=j.end_mi.argmax(j.start_day))
    return latest.select(group_id=latest.k_group, mi=latest.k_mi, contract_end_mi=latest.contract_end_mi)


def _left(a: ibis.Table, b: ibis.Table, keys) -> ibis.Table:
    """Left join on same-named keys, keeping one copy of each key column."""
    keys = [keys] if isinstance(keys, str) else list(keys)
    j = a.left_join(b, keys)
    return j.drop(*[f"{k}_right" for k in keys if f"{k}_right" in j.columns])


def base(tables: dict, settings: Settings, keep=None) -> tuple[ibis.Table, ibis.Table, ibis.Table]:
    """What every scoring month reads of the line tables: the monthly aggregates of billing and
    usage, each group's first billing month and the hotline line-months. Computed once, they
    serve any number of scoring months (:func:`wide` takes them as ``based``)."""
    keep = keep or (lambda table: table)
    m = keep(monthly(tables["billing"], tables["usage"], settings))
    first = tables.get("first_active")
    first = keep(first) if first is not None else m.group_by("group_id").aggregate(first_mi=m.mi.min())
    return m, first, keep(hot_lines(tables["usage"], settings))


def wide(tables: dict, months: list[int], settings: Settings, keep=None,
         based: tuple[ibis.Table, ibis.Table, ibis.Table] | None = None) -> ibis.Table:
    """One row per (group_id, mi) for scoring months ``months``: scored groups only (active in M,
    not churned by M, opened by M) with every raw quantity the signals need.

    ``keep`` (an engine's choice) may store an intermediate table and return it, so that each
    piece runs as its own query within the engine's memory: DuckDB keeps the monthly aggregates,
    the spine and every part as temporary tables, which it can move to disk. ``based`` is
    :func:`base`'s result, when it was computed already for other months."""
    keep = keep or (lambda table: table)
    m, first, hot = based if based is not None else base(tables, settings, keep)
    spine = m.filter(m.mi.isin(months))
    churn = tables["churn"]
    spine = _left(spine, churn, "group_id")
    spine = spine.filter(spine.churn_mi.isnull() | (spine.churn_mi > spine.mi)).drop("churn_mi")
    groups = tables["groups"]
    spine = _left(_left(spine, groups.select("group_id", "opened_mi"), "group_id"), first, "group_id")
    spine = keep(spine.filter(spine.opened_mi.isnull() | (spine.opened_mi <= spine.mi)))

    parts = [
        _shifted(m, 1, months, active_lines_1m_ago="active_lines"),
        _shifted(m, 3, months, active_lines_3m_ago="active_lines"),
        _shifted(m, 6, months, active_lines_6m_ago="active_lines"),
        _window(m, range(1, 4), months, "mean", spend_prev_3m_mean="spend", zero_share_prev_3m_mean="zero_call_share_m",
                minutes_pl_prev_3m_mean="minutes_per_line_m"),
        _window(m, range(0, 3), months, "sum", hotline_calls_w3="hotline_calls"),
        _hotline_lines(hot, months),
        _event_counts(tables, months),
        _contract_end(tables, spine),
    ]
    return _assemble(spine, [keep(part) for part in parts])


def _assemble(spine: ibis.Table, parts: list[ibis.Table]) -> ibis.Table:
    """The spine with every part's columns, as one grouped union instead of a chain of left joins:
    each part is one row per (group, mi) at most, so stacking them and taking each column's max
    per (group, mi) gives the joined row. A chain of joins holds every build side in memory at
    once (DuckDB cannot spill that); one aggregate spills to disk when it must."""
    columns: dict[str, object] = {}
    for table in (spine, *parts):
        for name, dtype in table.schema().items():
            if name not in ("group_id", "mi"):
                columns.setdefault(name, dtype)
    members = []
    for i, table in enumerate((spine, *parts)):
        row = {"group_id": table.group_id, "mi": table.mi, "in_spine": ibis.literal(int(i == 0), "int8")}
        row.update({name: table[name] if name in table.columns else ibis.null(dtype) for name, dtype in columns.items()})
        members.append(table.select(**row))
    stacked = members[0]
    for member in members[1:]:
        stacked = stacked.union(member, distinct=False)
    joined = stacked.group_by(["group_id", "mi"]).aggregate(
        in_spine=stacked.in_spine.max(), **{name: stacked[name].max() for name in columns})
    return joined.filter(joined.in_spine == 1).drop("in_spine")
