"""Tiny self-contained SVG charts for the HTML report (no JavaScript, no network)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

W, H, PAD = 420, 260, 40


def _scale(v: float, lo: float, hi: float, a: float, b: float) -> float:
    return a + (v - lo) / (hi - lo or 1) * (b - a)


def _frame(
    title: str,
    xlabel: str,
    ylabel: str,
    body: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    pct: bool = True,
) -> str:
    ticks = []
    for i in range(6):
        fx = x_range[0] + (x_range[1] - x_range[0]) * i / 5
        fy = y_range[0] + (y_range[1] - y_range[0]) * i / 5
        x = _scale(fx, *x_range, PAD, W - 10)
        y = _scale(fy, *y_range, H - PAD, 20)
        lx = f"{100 * fx:.0f}%" if pct else f"{fx:.3g}"
        ly = f"{100 * fy:.0f}%" if pct else f"{fy:.3g}"
        ticks.append(
            f'<line x1="{x:.1f}" y1="{H - PAD}" x2="{x:.1f}" y2="{H - PAD + 4}" stroke="#555"/><text x="{x:.1f}" y="{H - PAD + 16}" font-size="10" text-anchor="middle">{lx}</text>'
        )
        ticks.append(
            f'<line x1="{PAD - 4}" y1="{y:.1f}" x2="{PAD}" y2="{y:.1f}" stroke="#555"/><text x="{PAD - 6}" y="{y + 3:.1f}" font-size="10" text-anchor="end">{ly}</text>'
        )
        ticks.append(f'<line x1="{PAD}" y1="{y:.1f}" x2="{W - 10}" y2="{y:.1f}" stroke="#eee"/>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H + 10}" role="img" aria-label="{escape(title)}" font-family="sans-serif">'
        f'<text x="{W / 2}" y="14" font-size="12" font-weight="bold" text-anchor="middle">{escape(title)}</text>'
        + "".join(ticks)
        + f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - 10}" y2="{H - PAD}" stroke="#333"/><line x1="{PAD}" y1="20" x2="{PAD}" y2="{H - PAD}" stroke="#333"/>'
        + f'<text x="{W / 2}" y="{H + 4}" font-size="11" text-anchor="middle">{escape(xlabel)}</text>'
        + f'<text x="12" y="{H / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 {H / 2})">{escape(ylabel)}</text>'
        + body
        + "</svg>"
    )


def line_chart(
    title: str,
    xlabel: str,
    ylabel: str,
    series: Sequence[tuple[str, str, Sequence[tuple[float, float]]]],
    *,
    x_range: tuple[float, float] = (0, 1),
    y_range: tuple[float, float] = (0, 1),
    marks: Sequence[tuple[float, float, str]] = (),
    diagonal: bool = False,
    pct: bool = True,
) -> str:
    body = []
    if diagonal:
        body.append(
            f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - 10}" y2="20" stroke="#aaa" stroke-dasharray="4 3"/>'
        )
    for i, (name, color, pts) in enumerate(series):
        if not pts:
            continue
        path = " ".join(
            f"{'M' if j == 0 else 'L'}{_scale(x, *x_range, PAD, W - 10):.1f},{_scale(y, *y_range, H - PAD, 20):.1f}"
            for j, (x, y) in enumerate(pts)
        )
        body.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        body.append(
            f'<rect x="{W - 150}" y="{26 + 14 * i}" width="10" height="10" fill="{color}"/><text x="{W - 136}" y="{35 + 14 * i}" font-size="10">{escape(name)}</text>'
        )
    for x, y, label in marks:
        cx, cy = _scale(x, *x_range, PAD, W - 10), _scale(y, *y_range, H - PAD, 20)
        body.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="none" stroke="#d62728" stroke-width="2"/><text x="{cx + 7:.1f}" y="{cy - 6:.1f}" font-size="10" fill="#d62728">{escape(label)}</text>'
        )
    return _frame(title, xlabel, ylabel, "".join(body), x_range, y_range, pct)


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    color: str = "#1f77b4",
    pct: bool = False,
    xlabel: str = "",
    ylabel: str = "",
) -> str:
    top = max(values, default=1) or 1
    n = max(len(values), 1)
    width = (W - PAD - 10) / n
    body = []
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        x = PAD + i * width
        h = (v / top) * (H - PAD - 20)
        body.append(
            f'<rect x="{x + 2:.1f}" y="{H - PAD - h:.1f}" width="{max(width - 4, 1):.1f}" height="{h:.1f}" fill="{color}"><title>{escape(label)}: {v:g}</title></rect>'
        )
        if n <= 12:
            body.append(
                f'<text x="{x + width / 2:.1f}" y="{H - PAD + 28}" font-size="9" text-anchor="middle">{escape(label[:14])}</text>'
            )
    return (
        _frame(title, xlabel, ylabel, "".join(body), (0, 1), (0, top), pct=False)
        if not pct
        else _frame(title, xlabel, ylabel, "".join(body), (0, 1), (0, top))
    )


def histogram(
    title: str, values: Sequence[float], *, bins: int = 20, xlabel: str = "", color: str = "#2ca02c"
) -> str:
    if not values:
        return _frame(title, xlabel, "cases", "", (0, 1), (0, 1), pct=False)
    lo, hi = min(values), max(values)
    step = (hi - lo) / bins or 1
    counts = [0] * bins
    for v in values:
        counts[min(int((v - lo) / step), bins - 1)] += 1
    top = max(counts)
    width = (W - PAD - 10) / bins
    body = [
        f'<rect x="{PAD + i * width + 1:.1f}" y="{H - PAD - c / top * (H - PAD - 20):.1f}" width="{width - 2:.1f}" height="{c / top * (H - PAD - 20):.1f}" fill="{color}"/>'
        for i, c in enumerate(counts)
    ]
    return _frame(title, xlabel, "cases", "".join(body), (lo, hi), (0, top), pct=False)
