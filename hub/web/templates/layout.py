"""The frame around every page (header, navigation, languages, flashes), the error page,
and the tables and cards the pages are built from."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from ...render.html import Safe, fmt, join
from ..i18n import TEXTS
from .context import Ctx

NAV = (
    ("/kiosks", "kiosks", "staff"),
    ("/operators", "operators", "staff"),
    ("/progress", "progress", "staff"),
    ("/quality", "quality", "lead"),
)


def _lang_links(ctx: Ctx) -> Safe:
    return join(
        fmt(
            '<a href="{href}" hreflang="{code}" lang="{code}"{cur}>{label}</a>',
            href=ctx.lang_url(code),
            code=code,
            label=code.upper(),
            cur=Safe(' aria-current="true"' if code == ctx.lang else ""),
        )
        for code in ("nl", "en")
    )


def layout(
    ctx: Ctx,
    title: str,
    body: Safe,
    *,
    active: str = "",
    live: bool = False,
    flash: Safe | None = None,
    body_class: str = "",
) -> str:
    nav: list[Safe] = []
    user_box = Safe("")
    if ctx.user is not None:
        for href, key, role in NAV:
            if ctx.user.can(role):
                nav.append(
                    fmt(
                        '<a href="{href}"{cur}>{label}</a>',
                        href=href,
                        label=ctx.t(key),
                        cur=Safe(' aria-current="page"' if key == active else ""),
                    )
                )
        user_box = fmt(
            '<span class="who">{name} <small>({role})</small></span>'
            '<form method="post" action="/logout" class="inline">{csrf}'
            '<button type="submit" class="link">{logout}</button></form>',
            name=ctx.user.name,
            role=ctx.t("role_lead" if ctx.user.role == "lead" else "role_staff"),
            csrf=ctx.csrf_input,
            logout=ctx.t("logout"),
        )
    live_badge = (
        fmt(
            '<span id="live-state" class="live-state" data-on="{on}" data-off="{off}">{off}</span>',
            on=ctx.s("live"),
            off=ctx.s("live_off"),
        )
        if live
        else Safe("")
    )
    return fmt(
        '<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>{title} · {app}</title>"
        '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
        '<link rel="stylesheet" href="/static/app.css">'
        '<script src="/static/live.js" defer></script></head>'
        '<body class="{body_class}"{live}>'
        '<header class="top"><div class="brand"><a href="/kiosks">{app}</a>'
        '<span class="project">{project}</span></div>'
        '<nav aria-label="main">{nav}</nav>'
        '<div class="tools">{badge}<span class="langs">{langs}</span>{user}</div></header>'
        '<main id="main">{flash}{body}</main></body></html>',
        lang=ctx.lang,
        title=title,
        app=ctx.s("app"),
        body_class=body_class,
        live=Safe(' data-live-page="1"' if live else ""),
        project=ctx.project,
        nav=join(nav),
        badge=live_badge,
        langs=_lang_links(ctx),
        user=user_box,
        flash=flash or Safe(""),
        body=body,
    )


def flash_from_query(ctx: Ctx) -> Safe | None:
    key = ctx.url.query.get("ok")
    if not key or f"ok_{key}" not in TEXTS:
        return None
    values = {k: ctx.url.query.get(k, "") for k in ("id", "code")}
    return fmt('<p class="flash ok" role="status">{m}</p>', m=ctx.t(f"ok_{key}", **values))


def error_flash(message: Safe | str | None) -> Safe | None:
    if not message:
        return None
    return fmt('<p class="flash error" role="alert">{m}</p>', m=message)


def error_page(ctx: Ctx, key: str) -> str:
    body = fmt(
        '<section class="narrow"><h1>{m}</h1><p><a href="/kiosks">{back}</a></p></section>',
        m=ctx.t(key),
        back=ctx.t("back"),
    )
    return layout(ctx, ctx.s(key), body)


def database_down_page(ctx: Ctx, since: str, reason: str) -> str:
    """What every page shows while the site hub cannot reach its database (it cannot read
    anything to show): since when, and that nothing is lost (the response reloads it)."""
    body = fmt(
        '<section class="narrow" id="db-down"><h1>{title}</h1><p>{text}</p></section>',
        title=ctx.t("db_down", since=since),
        text=ctx.t("db_down_body", reason=reason),
    )
    return layout(ctx, ctx.s("db_down", since=since), body)


def scroll_table(
    headers: Iterable[Safe | str | tuple[Safe | str, str]],
    rows: Iterable[Safe],
    cls: str = "",
    attrs: Safe | None = None,
) -> Safe:
    """A table in a scrolling frame; a header given as (text, "num") is right-aligned."""
    head = []
    for h in headers:
        text, align = h if isinstance(h, tuple) else (h, "")
        head.append(fmt('<th scope="col" class="{a}">{h}</th>', a=align, h=text))
    return fmt(
        '<div class="scroll"><table class="{cls}"{attrs}><thead><tr>{head}</tr></thead>'
        "<tbody>{rows}</tbody></table></div>",
        cls=cls,
        attrs=attrs or Safe(""),
        head=join(head),
        rows=join(rows),
    )


def card(label: Safe | str, value: str, live_key: str = "") -> Safe:
    return fmt(
        '<div class="card"><div class="value"{live}>{value}</div><div class="label">{label}</div>'
        "</div>",
        live=fmt(' data-live="{k}"', k=live_key) if live_key else Safe(""),
        value=value,
        label=label,
    )


def site_filter(ctx: Ctx, path: str, sites: Iterable[str], site: str | None, label: str) -> Safe:
    """The per-site filter of a page at `path`: a link for all sites and one per site, the
    one shown (`site`, None: all) marked current."""
    links = [
        fmt(
            '<a href="{href}" class="{cls}" data-site-filter="{name}"{current}>{text}</a>',
            href=path if name is None else f"{path}?site={name}",
            cls="button small" + (" primary" if name == site else ""),
            name=name or "",
            current=Safe(' aria-current="page"') if name == site else Safe(""),
            text=ctx.t("all_sites") if name is None else name,
        )
        for name in [None, *sites]
    ]
    return fmt(
        '<nav class="site-filter" aria-label="{label}"><span>{label}:</span> {links}</nav>',
        label=label,
        links=join(links),
    )


def no_data(ctx: Ctx) -> Safe:
    return fmt('<p class="empty">{m}</p>', m=ctx.t("no_data"))


def path_segment(segment: str) -> str:
    """An id as one URL path segment."""
    return quote(segment, safe="")
