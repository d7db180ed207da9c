"""Small inline SVG charts for the report: no script, no font or file from anywhere else.

Each function returns one ``<svg>`` element as text, sized by its viewBox so that it scales to
the page and prints sharply. Missing values (None or NaN) leave a gap, never a zero.
"""

from __future__ import annotations

import math
from html import escape

PALETTE = ("#1f5fa8", "#d9822b", "#3a9a5b", "#b8403a", "#7a5aa6", "#8c6d3f")
GREY = "#9aa3ad"
FONT = 'font-family="sans-serif" font-size="11"'


def _ok(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def _nice_max(top: float) -> float:
    if top <= 0:
        return 1.0
    step = 10 ** math.floor(math.log10(top))
    for m in (1, 2, 2.5, 5, 10):
        if m * step >= top:
            return m * step
    return 10 * step


def _open(width: int, height: int, title: str) -> list[str]:
    return [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>']


def _legend(parts: list[str], names: list[str], colours: list[str], x: float, y: float) -> None:
    for i, (name, colour) in enumerate(zip(names, colours)):
        parts.append(f'<rect x="{x + i * 170}" y="{y - 9}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + i * 170 + 17}" y="{y + 1}" {FONT}>{escape(name)}</text>')


def _y_axis(parts, left, top, width, height, ymax, fmt, ticks=4, ymin=0.0) -> None:
    for k in range(ticks + 1):
        value = ymin + (ymax - ymin) * k / ticks
        y = top + height - height * k / ticks
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}" stroke="#e3e6ea"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT} fill="#555">{escape(fmt(value))}</text>')


def line_chart(labels: list[str], series: dict[str, list], title: str, fmt, width: int = 720, height: int = 260) -> str:
    """One line per series over ``labels`` (e.g. months), with points and a y grid; the axis goes
    below zero only when a value does (a Qini curve can)."""
    left, top, right, bottom = 64, 30, 16, 40
    w, h = width - left - right, height - top - bottom
    values = [v for vs in series.values() for v in vs if _ok(v)]
    ymax = _nice_max(max(values) if values else 0)
    low = min(values) if values else 0
    ymin = -_nice_max(-low) if low < 0 else 0.0
    parts = _open(width, height, title)
    _y_axis(parts, left, top, w, h, ymax, fmt, ymin=ymin)
    n = max(len(labels), 1)
    x = [left + w * (i + 0.5) / n for i in range(len(labels))]
    for i, label in enumerate(labels):
        parts.append(f'<text x="{x[i]:.1f}" y="{top + h + 16}" text-anchor="middle" {FONT} fill="#555">{escape(label)}</text>')
    for (name, vs), colour in zip(series.items(), PALETTE):
        run: list[str] = []
        for xi, v in zip(x, vs):
            if _ok(v):
                y = top + h - h * (v - ymin) / (ymax - ymin)
                run.append(f"{xi:.1f},{y:.1f}")
                parts.append(f'<circle cx="{xi:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(name)}: {escape(fmt(v))}</title></circle>')
            elif run:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"/>')
                run = []
        if run:
            parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"/>')
    _legend(parts, list(series), list(PALETTE), left, 14)
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(labels: list[str], series: dict[str, list], title: str, fmt, width: int = 720, height: int = 260,
              faded: list[bool] | None = None, reference: float | None = None, reference_label: str = "") -> str:
    """Grouped vertical bars; ``faded`` draws a category's bars light (e.g. in-sample months);
    ``reference`` draws a dashed horizontal line (e.g. lift 1, no better than chance)."""
    left, top, right, bottom = 64, 30, 16 if reference is None else 84, 40
    w, h = width - left - right, height - top - bottom
    values = [v for vs in series.values() for v in vs if _ok(v)] + ([reference] if reference is not None else [])
    ymax = _nice_max(max(values) if values else 0)
    parts = _open(width, height, title)
    _y_axis(parts, left, top, w, h, ymax, fmt)
    n, k = max(len(labels), 1), max(len(series), 1)
    slot = w / n
    bar = slot * 0.8 / k
    for i, label in enumerate(labels):
        cx = left + slot * (i + 0.5)
        parts.append(f'<text x="{cx:.1f}" y="{top + h + 16}" text-anchor="middle" {FONT} fill="#555">{escape(label)}</text>')
        for j, ((name, vs), colour) in enumerate(zip(series.items(), PALETTE)):
            v = vs[i]
            if not _ok(v):
                continue
            bh = h * v / ymax
            x0 = left + slot * i + slot * 0.1 + j * bar
            opacity = "0.35" if faded and faded[i] else "1"
            parts.append(f'<rect x="{x0:.1f}" y="{top + h - bh:.1f}" width="{bar:.1f}" height="{bh:.1f}" fill="{colour}" '
                         f'fill-opacity="{opacity}"><title>{escape(label)} {escape(name)}: {escape(fmt(v))}</title></rect>')
    if reference is not None:
        y = top + h - h * reference / ymax
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + w}" y2="{y:.1f}" stroke="#333" stroke-dasharray="5,4"/>'
                     f'<text x="{left + w + 4}" y="{y + 4:.1f}" {FONT} fill="#333">{escape(reference_label)}</text>')
    _legend(parts, list(series), list(PALETTE), left, 14)
    parts.append("</svg>")
    return "".join(parts)


def hbar_chart(labels: list[str], values: list, title: str, fmt, width: int = 720, threshold: float | None = None,
               threshold_label: str = "") -> str:
    """Horizontal bars, one per label, largest first as given; bars past ``threshold`` are red."""
    left, right, row = 190, 70, 22
    height = 20 + row * max(len(labels), 1) + 10
    w = width - left - right
    known = [v for v in values if _ok(v)] + ([threshold] if threshold is not None else [])
    vmax = _nice_max(max(known) if known else 0)
    parts = _open(width, height, title)
    for i, (label, v) in enumerate(zip(labels, values)):
        y = 20 + i * row
        parts.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" {FONT}>{escape(label)}</text>')
        if _ok(v):
            colour = PALETTE[3] if threshold is not None and v > threshold else PALETTE[0]
            parts.append(f'<rect x="{left}" y="{y + 3}" width="{max(w * v / vmax, 1):.1f}" height="{row - 7}" fill="{colour}"/>'
                         f'<text x="{left + w * v / vmax + 5:.1f}" y="{y + 14}" {FONT} fill="#333">{escape(fmt(v))}</text>')
    if threshold is not None:
        x = left + w * threshold / vmax
        parts.append(f'<line x1="{x:.1f}" y1="12" x2="{x:.1f}" y2="{height - 6}" stroke="#333" stroke-dasharray="5,4"/>'
                     f'<text x="{x + 4:.1f}" y="12" {FONT} fill="#333">{escape(threshold_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
