"""Server-rendered SVG plots: no JavaScript, no CDN, printable. Colours are attributes (CSP).

Every value goes through `html.fmt`, so names and labels are escaped wherever they are drawn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..consensus.calibration import Reliability
from .html import Safe, fmt, join

INK = "#1f2933"
MUTED = "#6b7785"
GRID = "#d9dee4"
BAR = "#2f6fb2"
LINE = "#1d7a4f"
AXIS = "#4a5561"  # axis numbers of the report figures (reliability, learning curve)
NEGATIVE = "#c53030"
QUARTERS = (0.0, 0.25, 0.5, 0.75, 1.0)  # grid of the 0..1 axes


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


def _gridline(x1: float, x2: float, y: float, label: str, colour: str = MUTED) -> Safe:
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
        muted=colour,
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
    return _sized(width, height, title, join(parts), "heat")


def _sized(width: float, height: float, title: str, body: Safe, cls: str = "") -> Safe:
    """A figure drawn at its natural size (scaled down only by CSS on narrow screens)."""
    return fmt(
        '<svg{cls} width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        'aria-label="{title}" xmlns="http://www.w3.org/2000/svg" '
        'font-family="system-ui, sans-serif" font-size="13"><title>{title}</title>{body}</svg>',
        cls=Safe(f' class="{cls}"' if cls else ""),
        w=width,
        h=height,
        title=title,
        body=body,
    )


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def reliability(cal: Reliability, title: str = "reliability diagram") -> Safe:
    """Accuracy per confidence bin (bars, dot at the bin's mean confidence) against the
    dashed diagonal of perfect calibration."""
    size, left, bottom, top, right = 320, 46, 40, 12, 12
    w, h = size - left - right, size - top - bottom

    def x(v: float) -> float:
        return left + w * v

    def y(v: float) -> float:
        return top + h * (1 - v)

    parts = [_gridline(x(0), x(1), y(t), f"{t:g}", AXIS) for t in QUARTERS]
    parts += [
        fmt(
            '<text x="{x:.1f}" y="{y}" text-anchor="middle" fill="{muted}">{t:g}</text>',
            x=x(t),
            y=top + h + 16,
            muted=AXIS,
            t=t,
        )
        for t in QUARTERS
    ]
    for b in cal.bins:
        if not b.n:
            continue
        parts.append(
            fmt(
                '<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}" '
                'fill-opacity="0.75"><title>{lo:.1f}–{hi:.1f}: {n} clips, confidence {c}, '
                "accuracy {a}</title></rect>"
                '<circle cx="{cx:.1f}" cy="{y:.1f}" r="3" fill="{ink}"/>',
                x=x(b.lo) + 1,
                y=y(b.accuracy),
                w=w * (b.hi - b.lo) - 2,
                h=h * b.accuracy,
                fill=BAR,
                lo=b.lo,
                hi=b.hi,
                n=b.n,
                c=_share(b.confidence),
                a=_share(b.accuracy),
                cx=x(b.confidence),
                ink=INK,
            )
        )
    parts.append(
        fmt(
            '<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{muted}" '
            'stroke-dasharray="5 4"/>'
            '<text x="{mx:.1f}" y="{by}" text-anchor="middle" fill="{ink}">model confidence</text>'
            '<text x="12" y="{my:.1f}" text-anchor="middle" fill="{ink}" '
            'transform="rotate(-90 12 {my:.1f})">accuracy</text>',
            x0=x(0),
            y0=y(0),
            x1=x(1),
            y1=y(1),
            muted=AXIS,
            mx=left + w / 2,
            by=size - 6,
            ink=INK,
            my=top + h / 2,
        )
    )
    return _sized(size, size, title, join(parts))


def curve(
    points: Sequence[Mapping[str, Any]],
    series: Sequence[tuple[str, str]],
    title: str = "learning curve",
) -> Safe:
    """Accuracy (0..1) per model version, one line per `series` key (key, colour); each
    point holds `version` and per key `{"accuracy": …, "n": …}`."""
    width, height, left, right, top, bottom = 560, 260, 46, 24, 14, 40
    w, h = width - left - right, height - top - bottom
    n = len(points)

    def x(i: int) -> float:
        return left + (w * i / (n - 1) if n > 1 else w / 2)

    def y(v: float) -> float:
        return top + h * (1 - v)

    parts = [_gridline(left, left + w, y(t), f"{t:g}", AXIS) for t in QUARTERS]
    for i, point in enumerate(points):
        parts.append(
            fmt(
                '<text x="{x:.1f}" y="{y}" text-anchor="middle" fill="{muted}">v{v}</text>',
                x=x(i),
                y=top + h + 16,
                muted=AXIS,
                v=point["version"],
            )
        )
    for key, colour in series:
        pts = [
            (x(i), y(p[key]["accuracy"]), p)
            for i, p in enumerate(points)
            if p[key]["accuracy"] is not None
        ]
        if len(pts) > 1:
            parts.append(
                fmt(
                    '<polyline points="{p}" fill="none" stroke="{c}" stroke-width="2"/>',
                    p=" ".join(f"{px:.1f},{py:.1f}" for px, py, _ in pts),
                    c=colour,
                )
            )
        for px, py, p in pts:
            parts.append(
                fmt(
                    '<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{c}"><title>'
                    "v{v} against {key}: {a} (n={n})</title></circle>",
                    x=px,
                    y=py,
                    c=colour,
                    v=p["version"],
                    key=key,
                    a=_share(p[key]["accuracy"]),
                    n=p[key]["n"],
                )
            )
    for i, (key, colour) in enumerate(series):
        parts.append(
            fmt(
                '<text x="{x}" y="{y}" fill="{c}">● against {key}</text>',
                x=left + 180 * i,
                y=height - 4,
                c=colour,
                key=key,
            )
        )
    return _sized(width, height, title, join(parts))


def score_bars(
    items: Sequence[tuple[str, float | None]],
    title: str,
    *,
    lo: float = 0.0,
    hi: float = 1.0,
    width: int = 560,
) -> Safe:
    """Horizontal bars on a fixed scale `lo`..`hi` (alpha, agreement), negative values to the
    left of zero in red, None written as n/a."""
    row_h, label_w = 20, 160
    height = row_h * len(items) + 30
    plot_w = width - label_w - 60
    zero_x = label_w + plot_w * (0 - lo) / (hi - lo) if lo < 0 < hi else label_w
    parts: list[Safe] = []
    for i, (name, value) in enumerate(items):
        y = 10 + i * row_h
        parts.append(
            fmt(
                '<text x="{x}" y="{y}" text-anchor="end" fill="{ink}">{name}</text>',
                x=label_w - 6,
                y=y + 14,
                ink=INK,
                name=name,
            )
        )
        if value is None:
            parts.append(
                fmt(
                    '<text x="{x}" y="{y}" fill="{muted}">n/a</text>',
                    x=label_w + 4,
                    y=y + 14,
                    muted=MUTED,
                )
            )
            continue
        v = min(max(value, lo), hi)
        x0, x1 = sorted((zero_x, label_w + plot_w * (v - lo) / (hi - lo)))
        parts.append(
            fmt(
                '<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{h}" fill="{fill}"/>'
                '<text x="{tx:.1f}" y="{ty}" fill="{ink}">{v:.3f}</text>',
                x=x0,
                y=y + 3,
                w=max(x1 - x0, 1),
                h=row_h - 6,
                fill=BAR if value >= 0 else NEGATIVE,
                tx=x1 + 4,
                ty=y + 14,
                ink=INK,
                v=value,
            )
        )
    axis_y = 10 + len(items) * row_h + 4
    parts.append(
        fmt(
            '<line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" stroke="{muted}"/>'
            '<text x="{x0}" y="{ty}" text-anchor="middle" fill="{muted}">{lo:g}</text>'
            '<text x="{x1}" y="{ty}" text-anchor="middle" fill="{muted}">{hi:g}</text>',
            x0=label_w,
            x1=label_w + plot_w,
            y=axis_y,
            ty=axis_y + 14,
            muted=MUTED,
            lo=lo,
            hi=hi,
        )
    )
    return _sized(width, height, title, join(parts))
