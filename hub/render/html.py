"""HTML without a template engine: every value is escaped unless it is already `Safe`.

`fmt("<td>{name}</td>", name=user_text)` escapes `user_text`; pieces built by `fmt` are
`Safe` and go into other templates as they are. Templates never hold user text themselves.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime


class Safe(str):
    """Markup that is already escaped (or written by us)."""

    __slots__ = ()


def esc(value: object) -> Safe:
    if isinstance(value, Safe):
        return value
    return Safe(html.escape("" if value is None else str(value), quote=True))


def _escaped(value: object) -> object:
    # numbers stay numbers, so that templates may format them ({x:.1f}); they need no escaping
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return esc(value)


def fmt(template: str, **values: object) -> Safe:
    """`template.format(**values)` with every value escaped unless it is `Safe` (or a number)."""
    return Safe(template.format(**{k: _escaped(v) for k, v in values.items()}))


def join(parts: Iterable[object], sep: str = "") -> Safe:
    return Safe(sep.join(esc(p) for p in parts))


def table(headers: Sequence[str | tuple[str, bool]], rows: Iterable[Sequence[object]]) -> Safe:
    """A plain table of values, each escaped; a header given as (text, True) marks a column
    of numbers (``class=num``, right-aligned by the page's CSS)."""
    numeric = [isinstance(h, tuple) and h[1] for h in headers]

    def cls(num: bool) -> Safe:
        return Safe(" class=num" if num else "")

    head = join(
        fmt('<th scope="col"{c}>{h}</th>', c=cls(num), h=h[0] if isinstance(h, tuple) else h)
        for h, num in zip(headers, numeric, strict=True)
    )
    body = join(
        fmt(
            "<tr>{cells}</tr>",
            cells=join(fmt("<td{c}>{v}</td>", c=cls(numeric[i]), v=v) for i, v in enumerate(row)),
        )
        for row in rows
    )
    return fmt(
        "<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>", head=head, body=body
    )


DASH = "—"


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return DASH
    if digits == 0:
        return f"{round(value):,}".replace(",", "\u202f")
    return f"{value:,.{digits}f}".replace(",", "\u202f")


def percent(value: float | None) -> str:
    return DASH if value is None else f"{100 * value:.0f}\u202f%"


def clock(ts: float | None) -> str:
    return DASH if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def date(ts: float | None) -> str:
    return DASH if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d")


def megabytes(n: int | None) -> str:
    if n is None:
        return DASH
    mb = n / 1024**2
    return f"{mb:.1f}\u202fMB" if mb < 10 else f"{mb:,.0f}\u202fMB".replace(",", "\u202f")


def hours_minutes(hours: float | None) -> str:
    """2.5 → '2:30'."""
    if hours is None:
        return DASH
    minutes = round(hours * 60)
    return f"{minutes // 60}:{minutes % 60:02d}"


def seen(ts: float | None, now: float) -> str:
    """A time of today as HH:MM:SS, an older one with its date."""
    if ts is None:
        return DASH
    same_day = datetime.fromtimestamp(ts).date() == datetime.fromtimestamp(now).date()
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M")
