"""Server-rendered SVG plots: no JavaScript, no CDN, printable. Colours are attributes (CSP)."""

from __future__ import annotations

from collections.abc import Sequence

from .html import Safe, fmt, join

INK = "#1f2933"
MUTED = "#6b7785"
GRID = "#d9dee4"
BAR = "#2f6fb2"
LINE = "#1d7a4f"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step:
            return float(step)
    magnitude = 10 ** (len(str(int(value))) - 1)
    return float((int(value / magnitude) + 1) * magnitude)


def _frame(width: int, height: int, title: str, body: Safe) -> Safe:
    return fmt(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{title}" '
        'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="14">'
        "<title>{title}</title>{body}</svg>",
        w=width,
        h=height,
        title=title,
        body=body,
    )


def _gridline(x1: float, x2: float, y: float, label: str) -> Safe:
    """A horizontal grid line across the plot with its value at the left."""
    return fmt(
        '<line x1="{x1}" x2="{x2}" y1="{y:.1f}" y2="{y:.1f}" stroke="{grid}"/>'
        '<text x="{tx}" y="{ty:.1f}" text-anchor="end" fill="{muted}">{v}</text>',
        x1=x1,
        x2=x2,
        y=y,
        grid=GRID,
        tx=x1 - 6,
        ty=y + 4,
        muted=MUTED,
        v=label,
    )


def bar_chart(
    points: Sequence[tuple[str, float]],
    title: str,
    *,
    width: int = 760,
    height: int = 240,
    label_every: int = 3,
) -> Safe:
    """Vertical bars, one per point (e.g. labels per hour); value axis from 0."""
    left, right, top, bottom = 44, 10, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((v for _, v in points), default=0))
    parts: list[Safe] = []
    # counts: ticks at whole numbers only
    fracs = (0.0, 0.5, 1.0) if peak % 2 == 0 else (0.0, 1.0)
    for frac in fracs:
        y = top + plot_h * (1 - frac)
        parts.append(_gridline(left, width - right, y, f"{peak * frac:g}"))
    n = max(len(points), 1)
    slot = plot_w / n
    for i, (label, value) in enumerate(points):
        h = plot_h * (value / peak) if peak else 0
        x = left + i * slot + slot * 0.12
        parts.append(
            fmt(
                '<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}">'
                "<title>{label}: {value}</title></rect>",
                x=x,
                y=top + plot_h - h,
                w=slot * 0.76,
                h=h,
                fill=BAR,
                label=label,
                value=f"{value:g}",
            )
        )
        if i % label_every == 0 or i == len(points) - 1:
            parts.append(
                fmt(
                    '<text x="{x:.1f}" y="{y}" text-anchor="middle" fill="{muted}">{label}</text>',
                    x=left + i * slot + slot / 2,
                    y=height - 8,
                    muted=MUTED,
                    label=label,
                )
            )
    return _frame(width, height, title, join(parts))


def line_chart(
    points: Sequence[tuple[str, float]],
    title: str,
    *,
    width: int = 760,
    height: int = 220,
    percent: bool = True,
) -> Safe:
    """Values in 0..1 over time, as a line with dots; the axis is 0–100 %."""
    left, right, top, bottom = 44, 16, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    parts: list[Safe] = []
    for frac in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - frac)
        parts.append(
            _gridline(left, width - right, y, f"{frac * 100:.0f}%" if percent else f"{frac:g}")
        )
    n = len(points)
    xy = []
    for i, (label, value) in enumerate(points):
        x = left + (plot_w * (i + 0.5) / n if n else 0)
        y = top + plot_h * (1 - max(0.0, min(1.0, value)))
        xy.append((x, y))
        parts.append(
            fmt(
                '<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{c}"><title>{label}: {v}</title>'
                "</circle>",
                x=x,
                y=y,
                c=LINE,
                label=label,
                v=f"{value * 100:.0f}%" if percent else f"{value:g}",
            )
        )
        every = max(1, n // 8)
        if i % every == 0 or i == n - 1:
            parts.append(
                fmt(
                    '<text x="{x:.1f}" y="{y}" text-anchor="middle" fill="{muted}">{label}</text>',
                    x=x,
                    y=height - 8,
                    muted=MUTED,
                    label=label,
                )
            )
    if len(xy) > 1:
        parts.insert(
            0,
            fmt(
                '<polyline points="{p}" fill="none" stroke="{c}" stroke-width="2"/>',
                p=" ".join(f"{x:.1f},{y:.1f}" for x, y in xy),
                c=LINE,
            ),
        )
    return _frame(width, height, title, join(parts))


def hbar_chart(
    points: Sequence[tuple[str, float]], title: str, *, width: int = 560, row: int = 30
) -> Safe:
    """Horizontal bars with their value, one row per item (e.g. votes per label)."""
    label_w, right = 180, 60
    height = max(row * len(points), row) + 8
    peak = max((v for _, v in points), default=0) or 1
    parts: list[Safe] = []
    for i, (label, value) in enumerate(points):
        y = 4 + i * row
        w = (width - label_w - right) * value / peak
        parts.append(
            fmt(
                '<text x="{lx}" y="{ty}" text-anchor="end" fill="{ink}">{label}</text>'
                '<rect x="{x}" y="{y}" width="{w:.1f}" height="{h}" fill="{fill}">'
                "<title>{label}: {v}</title></rect>"
                '<text x="{vx:.1f}" y="{ty}" fill="{ink}">{v}</text>',
                lx=label_w - 8,
                ty=y + row / 2 + 4,
                ink=INK,
                label=label,
                x=label_w,
                y=y + 3,
                w=w,
                h=row - 6,
                fill=BAR,
                vx=label_w + w + 6,
                v=f"{value:g}",
            )
        )
    return _frame(width, height, title, join(parts))


def _blend(frac: float) -> str:
    """White → dark blue."""
    frac = max(0.0, min(1.0, frac))
    lo, hi = (247, 250, 252), (31, 78, 140)
    r, g, b = (round(a + (c - a) * frac) for a, c in zip(lo, hi, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(
    matrix: Sequence[Sequence[int]],
    labels: Sequence[str],
    title: str,
    *,
    cell: int = 56,
) -> Safe:
    """Square matrix of counts (rows: reference, columns: given; the page's heading says which);
    colour = share of the row, so rows of any size compare. Drawn at its natural size."""
    n = len(labels)
    longest = min(24, max((len(x) for x in labels), default=4))
    left, top = 12 + 8 * longest, 20 + 6 * longest
    # rotated column labels reach to the right of their column
    width, height = left + cell * n + 6 * longest, top + cell * n + 10
    parts: list[Safe] = []
    for j, label in enumerate(labels):
        x, y = left + j * cell + cell / 2, top - 8
        parts.append(
            fmt(
                '<text x="{x}" y="{y}" transform="rotate(-35 {x} {y})" fill="{ink}">{label}</text>',
                x=x,
                y=y,
                ink=INK,
                label=label[:24],
            )
        )
    for i, row_values in enumerate(matrix):
        total = sum(row_values) or 1
        y = top + i * cell
        parts.append(
            fmt(
                '<text x="{x}" y="{y}" text-anchor="end" fill="{ink}">{label}</text>',
                x=left - 8,
                y=y + cell / 2 + 5,
                ink=INK,
                label=labels[i][:24],
            )
        )
        for j, value in enumerate(row_values):
            frac = value / total
            parts.append(
                fmt(
                    '<rect x="{x}" y="{y}" width="{c}" height="{c}" fill="{fill}" '
                    'stroke="#ffffff"><title>{r} → {col}: {v}</title></rect>'
                    '<text x="{tx}" y="{ty}" text-anchor="middle" fill="{tc}">{v}</text>',
                    x=left + j * cell,
                    y=y,
                    c=cell,
                    fill=_blend(frac),
                    r=labels[i],
                    col=labels[j],
                    v=value,
                    tx=left + j * cell + cell / 2,
                    ty=y + cell / 2 + 5,
                    tc="#ffffff" if frac > 0.5 else INK,
                )
            )
    return fmt(
        '<svg class="heat" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        'aria-label="{title}" xmlns="http://www.w3.org/2000/svg" '
        'font-family="system-ui, sans-serif" font-size="13"><title>{title}</title>{body}</svg>',
        w=width,
        h=height,
        title=title,
        body=join(parts),
    )
