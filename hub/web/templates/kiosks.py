"""The kiosks page: every kiosk's state, pairing codes and the hub's fingerprint."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime

from ...render.html import DASH, Safe, fmt, join, megabytes, number, seen
from ...store.dashboard import KioskState, PairCode, SiteRow
from .context import Ctx
from .layout import layout, path_segment, scroll_table, site_filter


def kiosk_cells(ctx: Ctx, k: KioskState) -> dict[str, str]:
    """The texts of a kiosk row (also sent live, so page and updates agree)."""
    return {
        "status": ctx.s("online" if k.online else "offline"),
        "last_seen": seen(k.last_seen, time.time()),
        "operator": k.operator or DASH,
        "outbox": number(k.outbox),
        "cache": megabytes(k.cache_bytes),
        "version": k.version or DASH,
    }


def kiosks_page(
    ctx: Ctx,
    kiosks: Sequence[KioskState],
    codes: Sequence[PairCode],
    flash: Safe | None = None,
    fingerprint: str = "",
    alarms: Sequence[str] = (),
    sites: Sequence[SiteRow] = (),
    site: str | None = None,
    own_site: str = "",
) -> str:
    """`sites`: every site sharing the database (shown, with a filter, when there are
    several); `site`: the one whose kiosks are listed (None: all); `own_site`: this hub's."""
    several = len(sites) > 1
    rows = []
    for k in kiosks:
        cells = kiosk_cells(ctx, k)
        rows.append(
            fmt(
                '<tr data-kiosk="{id}" data-state="kiosk:{id}" data-status="{state}">'
                '<th scope="row">{id}</th>{site_cell}'
                '<td><span class="badge" data-live="kiosk:{id}:status">{status}</span></td>'
                '<td data-live="kiosk:{id}:last_seen" data-quiet="1">{last_seen}</td>'
                '<td data-live="kiosk:{id}:operator">{operator}</td>'
                '<td class="num" data-live="kiosk:{id}:outbox">{outbox}</td>'
                '<td class="num" data-live="kiosk:{id}:cache">{cache}</td>'
                '<td data-live="kiosk:{id}:version">{version}</td>'
                '<td><form method="post" action="/kiosks/{qid}/repair" class="inline">{csrf}'
                '<button type="submit" class="small">{repair}</button></form> '
                '<form method="post" action="/kiosks/{qid}/unpair" class="inline" '
                'data-confirm="{confirm}">{csrf}'
                '<button type="submit" class="danger small">{unpair}</button></form></td></tr>',
                id=k.id,
                qid=path_segment(k.id),
                state="online" if k.online else "offline",
                csrf=ctx.csrf_input,
                unpair=ctx.t("unpair"),
                repair=ctx.t("repair"),
                confirm=ctx.s("confirm_unpair", id=k.id),
                site_cell=fmt('<td data-site="{s}">{s}</td>', s=k.site) if several else Safe(""),
                **cells,
            )
        )
    table = (
        scroll_table(
            [ctx.t(h) for h in ("kiosk", *(("site",) if several else ()), "status")]
            + [ctx.t("last_seen"), ctx.t("operator")]
            + [(ctx.t("outbox"), "num"), (ctx.t("cache"), "num"), ctx.t("version"), ""],
            rows,
            cls="kiosks",
            # live updates list every kiosk: a page of one site's must not reload for them
            attrs=Safe("")
            if site
            else fmt(' data-kiosk-ids="{ids}"', ids=json.dumps([k.id for k in kiosks])),
        )
        if kiosks
        else fmt(
            '<p class="empty" data-kiosk-ids="[]">{m}</p>',
            m=ctx.t("no_kiosks"),
        )
    )
    code_items = [
        fmt(
            '<li><strong class="code" data-pair-code="{code}">{spaced}</strong>'
            '<span class="hint">{help}</span></li>',
            code=c.code,
            spaced=f"{c.code[:3]} {c.code[3:]}",
            help=ctx.t("pair_help", until=datetime.fromtimestamp(c.expires_at).strftime("%H:%M")),
        )
        for c in codes
    ]
    codes_html = (
        fmt(
            '<section class="codes" aria-live="polite"><h2>{h}</h2><ul>{items}</ul>'
            '<p class="hint">{fp_help} <strong class="code" id="hub-fingerprint">{fp}</strong>'
            "</p></section>",
            h=ctx.t("open_codes"),
            items=join(code_items),
            fp_help=ctx.t("fingerprint_help"),
            fp=fingerprint or "—",
        )
        if codes
        else Safe("")
    )
    online = sum(k.online for k in kiosks)
    live = Safe("") if site else Safe(' data-live="kiosks.online"')
    live_total = Safe("") if site else Safe(' data-live="kiosks.total"')
    body = fmt(
        '<div class="pagehead"><h1>{title}</h1><p class="summary">'
        "<span{live}>{online}</span> / "
        "<span{live_total}>{total}</span> {word}</p>"
        '<form method="post" action="/kiosks/pair" class="inline">{csrf}'
        '<button type="submit" class="primary" id="pair">{pair}</button></form></div>'
        "{alarms}{codes}{sites}{table}",
        alarms=join(
            fmt('<p class="flash error" role="alert" data-alarm>{a}</p>', a=a) for a in alarms
        ),
        title=ctx.t("kiosks"),
        online=online,
        total=len(kiosks),
        word=ctx.t("kiosks_online"),
        csrf=ctx.csrf_input,
        pair=ctx.t("pair"),
        codes=codes_html,
        sites=sites_section(ctx, sites, site, own_site) if several else Safe(""),
        table=table,
        live=live,
        live_total=live_total,
    )
    return layout(ctx, ctx.s("kiosks"), body, active="kiosks", live=True, flash=flash)


def sites_section(ctx: Ctx, sites: Sequence[SiteRow], site: str | None, own_site: str) -> Safe:
    """Every site on the database: kiosks online, labels, and a filter of the list below."""
    rows = [
        fmt(
            '<tr data-site-row="{s}"{current}><th scope="row">{s}{own}</th>'
            '<td class="num">{online} / {kiosks}</td><td class="num">{labels}</td>'
            '<td class="num">{hour}</td></tr>',
            s=r.site,
            current=Safe(' aria-current="true"') if r.site == site else Safe(""),
            own=fmt(' <span class="hint">({t})</span>', t=ctx.t("this_site"))
            if r.site == own_site
            else Safe(""),
            online=number(r.online),
            kiosks=number(r.kiosks),
            labels=number(r.labels),
            hour=number(r.labels_last_hour),
        )
        for r in sites
    ]
    return fmt(
        '<section class="sites"><h2>{h}</h2>{table}{nav}</section>',
        h=ctx.t("sites"),
        table=scroll_table(
            [
                ctx.t("site"),
                (ctx.t("kiosks_online"), "num"),
                (ctx.t("labels"), "num"),
                (ctx.t("last_hour"), "num"),
            ],
            rows,
            cls="sites",
        ),
        nav=site_filter(ctx, "/kiosks", [r.site for r in sites], site, ctx.s("site_filter")),
    )
