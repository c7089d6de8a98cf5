"""The progress page: counts, throughput, agreement over time and the label distribution."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ...consensus.overview import Overview
from ...render import svg
from ...render.html import Safe, fmt, join, number, percent
from ...store.dashboard import Counts
from .context import Ctx
from .layout import card, layout, no_data, scroll_table, site_filter


def progress_page(
    ctx: Ctx,
    counts: Counts,
    throughput: Sequence[tuple[float, int]],
    distribution: dict[str, int],
    report: Overview,
    sites: Sequence[str] = (),
    site: str | None = None,
) -> str:
    """`sites`: every site sharing the database (a filter when there are several); `site`:
    the one whose labels and throughput are shown (live updates, the program's, then leave
    those two cards alone)."""
    cards = join(
        [
            card(ctx.t("clips"), number(counts.clips), "counts.clips"),
            card(ctx.t("done"), number(counts.done), "counts.done"),
            card(ctx.t("backlog"), number(counts.backlog), "counts.backlog"),
            card(ctx.t("votes_needed"), number(counts.votes_needed), "counts.votes_needed"),
            card(ctx.t("labels"), number(counts.labels), "" if site else "counts.labels"),
            card(
                ctx.t("last_hour"),
                number(counts.labels_last_hour),
                "" if site else "counts.labels_last_hour",
            ),
        ]
    )
    filter_nav = (
        site_filter(ctx, "/progress", sites, site, ctx.s("site_filter_labels"))
        if len(sites) > 1
        else Safe("")
    )
    hours = [(datetime.fromtimestamp(h).strftime("%H:00"), float(n)) for h, n in throughput]
    values = list(ctx.labels) + sorted(set(distribution) - set(ctx.labels))
    total = sum(distribution.values()) or 1
    dist_rows = [
        fmt(
            '<tr><th scope="row">{label}</th><td class="num" data-live="dist:{value}">{n}</td>'
            '<td class="num" data-live="distshare:{value}">{share}</td></tr>',
            label=ctx.label(v),
            value=v,
            n=number(distribution.get(v, 0)),
            share=percent(distribution.get(v, 0) / total),
        )
        for v in values
    ]
    over_time = (
        svg.line_chart([(d[5:], a) for d, a, _n in report.over_time], ctx.s("agreement_time"))
        if report.over_time
        else no_data(ctx)
    )
    body = fmt(
        '<div class="pagehead"><h1>{title}</h1></div>{site_filter}<div class="cards">{cards}</div>'
        '<div class="grid2"><section><h2>{tp}</h2>{tp_chart}</section>'
        "<section><h2>{at}</h2>{at_chart}</section></div>"
        '<section><h2>{dist}</h2><div class="grid2">{dist_table}{dist_chart}</div></section>',
        title=ctx.t("progress"),
        site_filter=filter_nav,
        cards=cards,
        tp=ctx.t("throughput"),
        tp_chart=svg.bar_chart(hours, ctx.s("throughput")),
        at=ctx.t("agreement_time"),
        at_chart=over_time,
        dist=ctx.t("distribution"),
        dist_table=scroll_table(
            [ctx.t("label"), ctx.t("votes"), ctx.t("share")], dist_rows, cls="dist"
        ),
        dist_chart=svg.hbar_chart(
            [(ctx.label(v), float(distribution.get(v, 0))) for v in values], ctx.s("distribution")
        ),
    )
    return layout(ctx, ctx.s("progress"), body, active="progress", live=True)
