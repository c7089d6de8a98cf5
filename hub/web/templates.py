"""The dashboard's pages as functions: data in, escaped HTML out (see `html.fmt`)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from aiohttp import web
from yarl import URL

from ..consensus.overview import Overview
from ..consensus.report import Calibration
from ..render import svg
from ..render.html import (
    DASH,
    Safe,
    clock,
    date,
    esc,
    fmt,
    hours_minutes,
    join,
    megabytes,
    number,
    percent,
    seen,
)
from ..store.accounts import Principal
from ..store.dashboard import (
    AlertRow,
    Counts,
    KioskState,
    OperatorStats,
    PairCode,
    Statement,
)
from .i18n import TEXTS, tr
from .state import LANG, PRINCIPAL, SERVICE, VIA_SESSION


@dataclass(frozen=True)
class Ctx:
    lang: str
    user: Principal | None
    url: URL
    project: str
    hub_id: str
    labels: dict[str, str]  # label value → text in this language

    @classmethod
    def of(cls, request: web.Request) -> Ctx:
        service = request.app[SERVICE]
        lang = request.get(LANG, "nl")
        user = request.get(PRINCIPAL) if request.get(VIA_SESSION) else None
        labels = {x.value: (x.en if lang == "en" else x.nl) for x in service.schema.labels}
        return cls(lang, user, request.rel_url, service.schema.name, service.hub_id, labels)

    def t(self, key: str, **values: object) -> Safe:
        """A text in this language, with `values` escaped into it."""
        nl, en = TEXTS[key]
        return Safe(
            esc(en if self.lang == "en" else nl).format(**{k: esc(v) for k, v in values.items()})
        )

    def s(self, key: str, **values: object) -> str:
        """Plain (unescaped) text, for values that `fmt` escapes later."""
        return tr(self.lang, key, **values)

    def label(self, value: str) -> str:
        return " + ".join(self.labels.get(v, v) for v in value.split("+"))

    def lang_url(self, lang: str) -> str:
        return str(self.url.update_query(lang=lang))

    @property
    def csrf_input(self) -> Safe:
        token = self.user.csrf if self.user else ""
        return fmt('<input type="hidden" name="csrf" value="{t}">', t=token)


def respond(page: str, status: int = 200) -> web.Response:
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")


# ---- frame -------------------------------------------------------------------------------

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


def login_page(ctx: Ctx, token: str, next_url: str, error: str | None) -> str:
    body = fmt(
        '<section class="narrow login"><h1>{title}</h1>{error}'
        '<form method="post" action="/login" class="stack">'
        '<input type="hidden" name="csrf" value="{token}">'
        '<input type="hidden" name="next" value="{next}">'
        '<label>{user}<input name="username" autocomplete="username" required autofocus></label>'
        '<label>{pw}<input name="password" type="password" autocomplete="current-password" '
        "required></label>"
        '<button type="submit" class="primary">{title}</button></form></section>',
        title=ctx.t("login"),
        error=error_flash(ctx.t(error) if error else None) or Safe(""),
        token=token,
        next=next_url,
        user=ctx.t("username"),
        pw=ctx.t("password"),
    )
    return layout(ctx, ctx.s("login"), body)


def _table(
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


def _card(label: Safe | str, value: str, live_key: str = "") -> Safe:
    return fmt(
        '<div class="card"><div class="value"{live}>{value}</div><div class="label">{label}</div>'
        "</div>",
        live=fmt(' data-live="{k}"', k=live_key) if live_key else Safe(""),
        value=value,
        label=label,
    )


# ---- kiosks ------------------------------------------------------------------------------


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
) -> str:
    rows = []
    for k in kiosks:
        cells = kiosk_cells(ctx, k)
        rows.append(
            fmt(
                '<tr data-kiosk="{id}" data-state="kiosk:{id}" data-status="{state}">'
                '<th scope="row">{id}</th>'
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
                qid=_path(k.id),
                state="online" if k.online else "offline",
                csrf=ctx.csrf_input,
                unpair=ctx.t("unpair"),
                repair=ctx.t("repair"),
                confirm=ctx.s("confirm_unpair", id=k.id),
                **cells,
            )
        )
    table = (
        _table(
            [ctx.t(h) for h in ("kiosk", "status", "last_seen", "operator")]
            + [(ctx.t("outbox"), "num"), (ctx.t("cache"), "num"), ctx.t("version"), ""],
            rows,
            cls="kiosks",
            attrs=fmt(' data-kiosk-ids="{ids}"', ids=json.dumps([k.id for k in kiosks])),
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
    body = fmt(
        '<div class="pagehead"><h1>{title}</h1><p class="summary">'
        '<span data-live="kiosks.online">{online}</span> / '
        '<span data-live="kiosks.total">{total}</span> {word}</p>'
        '<form method="post" action="/kiosks/pair" class="inline">{csrf}'
        '<button type="submit" class="primary" id="pair">{pair}</button></form></div>'
        "{alarms}{codes}{table}",
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
        table=table,
    )
    return layout(ctx, ctx.s("kiosks"), body, active="kiosks", live=True, flash=flash)


def _path(segment: str) -> str:
    """An id as one URL path segment."""
    return quote(segment, safe="")


# ---- operators ---------------------------------------------------------------------------


def operator_cells(o: OperatorStats) -> dict[str, str]:
    return {
        "hours_today": hours_minutes(o.hours_today),
        "hours_week": hours_minutes(o.hours_week),
        "clips_today": number(o.clips_today),
        "clips_total": number(o.clips_total),
        "exposure": DASH if o.exposure_min_today is None else f"{o.exposure_min_today:.0f} min",
        "breaks": _breaks_cell(o.breaks_today, o.break_min_today),
        "alerts": number(o.alerts_open),
        "agreement": percent(o.agreement),
        "gold": percent(o.gold_accuracy),
    }


def _breaks_cell(count: int | None, minutes: float | None) -> str:
    """'2 · 25 min'; '0'; '—' while no kiosk reports breaks to this hub."""
    if count is None:
        return DASH
    if not count:
        return "0"
    return f"{number(count)} · {number(minutes)} min"


OPERATOR_COLUMNS = (
    "name",
    "hours_today_week",
    "clips_today_total",
    "exposure",
    "breaks",
    "alerts",
    "agreement",
    "gold_accuracy",
    "actions",
)


def _operator_row(ctx: Ctx, o: OperatorStats) -> Safe:
    state = "active" if o.active else "inactive"
    flags = [ctx.t("inactive")] if not o.active else []
    if o.locked:
        flags.append(ctx.t("locked"))
    toggle = "deactivate" if o.active else "activate"
    heads = {key: ctx.s(key) for key in OPERATOR_COLUMNS}
    return fmt(
        '<tr data-operator="{id}" class="{state}">'
        '<th scope="row"><span class="name">{name}</span> <small class="id">{id}</small>{flags}'
        "</th>"
        '<td class="num" data-label="{h_hours}">{hours_today} / {hours_week}</td>'
        '<td class="num" data-label="{h_clips}"><span data-live="op:{id}:clips_today">'
        '{clips_today}</span> / <span data-live="op:{id}:clips_total">{clips_total}</span></td>'
        '<td class="num" data-label="{h_exposure}">{exposure}</td>'
        '<td class="num" data-label="{h_breaks}">{breaks}</td>'
        '<td class="num" data-label="{h_alerts}"><span data-live="op:{id}:alerts">{alerts}'
        "</span></td>"
        '<td class="num" data-label="{h_agreement}">{agreement}</td>'
        '<td class="num" data-label="{h_gold}">{gold}</td>'
        '<td class="actions"><a href="/operators/{qid}/statement">{statement}</a>'
        "<details><summary>{actions}</summary>"
        '<form method="post" action="/operators/{qid}/pin" class="inline">{csrf}'
        '<label><span class="sr">{new_pin}</span><input name="pin" type="password" '
        'inputmode="numeric" pattern="[0-9]{{4,8}}" placeholder="{new_pin}" required '
        'autocomplete="new-password" size="8"></label>'
        '<button type="submit" class="small">{set_pin}</button></form>'
        '<form method="post" action="/operators/{qid}/{toggle}" class="inline"{confirm}>{csrf}'
        '<button type="submit" class="small {danger}">{toggle_label}</button></form>'
        "</details></td></tr>",
        id=o.id,
        qid=_path(o.id),
        name=o.name,
        state=state,
        flags=join(fmt(' <span class="flag">{f}</span>', f=f) for f in flags),
        h_hours=heads["hours_today_week"],
        h_clips=heads["clips_today_total"],
        h_exposure=heads["exposure"],
        h_breaks=heads["breaks"],
        h_alerts=heads["alerts"],
        h_agreement=heads["agreement"],
        h_gold=heads["gold_accuracy"],
        statement=ctx.t("statement"),
        actions=ctx.t("actions"),
        csrf=ctx.csrf_input,
        new_pin=ctx.s("new_pin"),
        set_pin=ctx.t("set_pin"),
        toggle=toggle,
        toggle_label=ctx.t(toggle),
        confirm=fmt(' data-confirm="{c}"', c=ctx.s("confirm_deactivate", id=o.id))
        if o.active
        else Safe(""),
        danger="danger" if o.active else "",
        **operator_cells(o),
    )


def _alerts_table(ctx: Ctx, alerts: Sequence[AlertRow]) -> Safe:
    if not alerts:
        return fmt('<p class="empty">{m}</p>', m=ctx.t("no_alerts"))
    rows = []
    for a in alerts:
        action = (
            fmt(
                '<form method="post" action="/alerts/{uuid}/ack" class="inline">{csrf}'
                '<button type="submit" class="small primary">{ack}</button></form>',
                uuid=_path(a.uuid),
                csrf=ctx.csrf_input,
                ack=ctx.t("acknowledge"),
            )
            if a.acknowledged_at is None
            else fmt(
                '<span class="muted">{w} {t}</span>',
                w=ctx.t("acknowledged"),
                t=clock(a.acknowledged_at),
            )
        )
        rows.append(
            fmt(
                '<tr class="{cls}"><td>{time}</td><td>{name} <small>({op})</small></td>'
                "<td>{kiosk}</td><td><code>{clip}</code></td><td>{action}</td></tr>",
                cls="open" if a.acknowledged_at is None else "done",
                time=clock(a.created_at),
                name=a.operator_name,
                op=a.operator,
                kiosk=a.kiosk,
                clip=a.clip_name or a.clip[:12],
                action=action,
            )
        )
    return _table(
        [ctx.t(h) for h in ("time", "operator", "kiosk", "clip")] + [""], rows, cls="alerts"
    )


def operators_page(
    ctx: Ctx,
    operators: Sequence[OperatorStats],
    alerts: Sequence[AlertRow],
    flash: Safe | None = None,
    form: dict[str, str] | None = None,
) -> str:
    form = form or {}
    headers: list[Safe | tuple[Safe, str]] = [ctx.t("name")]
    headers += [(ctx.t(h), "num") for h in OPERATOR_COLUMNS[1:-1]] + [ctx.t("actions")]
    table = (
        _table(headers, [_operator_row(ctx, o) for o in operators], cls="operators rowcards")
        if operators
        else fmt('<p class="empty">{m}</p>', m=ctx.t("no_operators"))
    )
    add = fmt(
        '<form method="post" action="/operators" class="addform" id="add-operator">{csrf}'
        "<fieldset><legend>{legend}</legend>"
        '<label>{l_id}<input name="id" required maxlength="64" pattern="[A-Za-z0-9._\\-]+" '
        'value="{v_id}" autocomplete="off"></label>'
        '<label>{l_name}<input name="name" required maxlength="100" value="{v_name}" '
        'autocomplete="off"></label>'
        '<label>{l_pin}<input name="pin" type="password" inputmode="numeric" '
        'pattern="[0-9]{{4,8}}" required autocomplete="new-password"></label>'
        '<button type="submit" class="primary">{add}</button></fieldset></form>',
        csrf=ctx.csrf_input,
        legend=ctx.t("add_operator"),
        l_id=ctx.t("op_id"),
        l_name=ctx.t("name"),
        l_pin=ctx.t("pin"),
        v_id=form.get("id", ""),
        v_name=form.get("name", ""),
        add=ctx.t("add"),
    )
    body = fmt(
        '<div class="pagehead"><h1>{title}</h1></div>{add}{table}'
        '<p class="note">{note}</p>'
        '<h2 id="alerts">{alerts_title} <span class="pill" data-live="counts.alerts_open">'
        "{n_open}</span></h2>{alerts}",
        title=ctx.t("operators"),
        add=add,
        table=table,
        note=ctx.t("quality_note"),
        alerts_title=ctx.t("open_alerts"),
        n_open=sum(a.acknowledged_at is None for a in alerts),
        alerts=_alerts_table(ctx, alerts),
    )
    return layout(ctx, ctx.s("operators"), body, active="operators", live=True, flash=flash)


# ---- statement ---------------------------------------------------------------------------


def statement_page(
    ctx: Ctx, st: Statement, start_day: str, end_day: str, error: Safe | None = None
) -> str:
    labels = ", ".join(ctx.labels.values())
    figures = [
        ("period", f"{start_day} – {end_day}"),
        ("hours", hours_minutes(st.hours)),
        ("days_worked", number(st.days_worked)),
        ("sessions", number(st.sessions)),
        ("clips_done", number(st.clips)),
        ("clips_per_hour", number(st.clips_per_hour, 1)),
        ("workstations", ", ".join(st.kiosks) or DASH),
        ("breaks_taken", _breaks_cell(st.breaks, st.break_min)),
    ]
    quality = [("agreement", percent(st.agreement)), ("gold_accuracy", percent(st.gold_accuracy))]
    dl = join(fmt("<dt>{k}</dt><dd>{v}</dd>", k=ctx.t(k), v=v) for k, v in figures)
    dq = join(fmt("<dt>{k}</dt><dd>{v}</dd>", k=ctx.t(k), v=v) for k, v in quality)
    days = (
        _table(
            [ctx.t("date"), (ctx.t("hours"), "num"), (ctx.t("clips_done"), "num")],
            [
                fmt(
                    '<tr><td>{d}</td><td class="num">{h}</td><td class="num">{c}</td></tr>',
                    d=d,
                    h=hours_minutes(h),
                    c=number(c),
                )
                for d, h, c in st.by_day
            ],
            cls="days",
        )
        if st.by_day
        else fmt('<p class="empty">{m}</p>', m=ctx.t("no_data"))
    )
    breaks = (
        _table(
            [ctx.t("break_start"), (ctx.t("break_minutes"), "num"), ctx.t("break_kind")],
            [
                fmt(
                    '<tr><td>{at}</td><td class="num">{mins}</td><td>{kind}</td></tr>',
                    at=datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M"),
                    mins=number(mins, 1),
                    kind=ctx.t("break_enforced" if enforced else "break_own"),
                )
                for at, mins, enforced, _kind in st.break_list
            ],
            cls="breaks",
        )
        if st.break_list
        else fmt('<p class="empty">{m}</p>', m=ctx.t("no_breaks"))
    )
    controls = fmt(
        '<form method="get" class="noprint period">'
        '<label>{l_from}<input type="date" name="from" value="{start}"></label>'
        '<label>{l_to}<input type="date" name="to" value="{end}"></label>'
        '<input type="hidden" name="lang" value="{lang}">'
        '<button type="submit">{show}</button>'
        '<button type="button" class="primary" data-print="1">{print}</button></form>',
        l_from=ctx.t("from"),
        l_to=ctx.t("to"),
        start=start_day,
        end=end_day,
        lang=ctx.lang,
        show=ctx.t("show"),
        print=ctx.t("print"),
    )
    body = fmt(
        "{controls}{error}"
        '<article class="statement" lang="{lang}">'
        '<header><p class="org">{app} · {project}</p><h1>{title}</h1></header>'
        '<p class="intro">{intro}</p>'
        "<h2>{tasks}</h2><ul><li>{t1}</li><li>{t2}</li><li>{t3}</li></ul>"
        '<h2>{figures}</h2><dl class="figures">{dl}</dl>'
        '<h2>{q}</h2><dl class="figures">{dq}</dl>'
        "<h2>{by_day}</h2>{days}"
        "<h2>{breaks_title}</h2>{breaks}"
        '<div class="sign"><div><span class="line"></span>{place}</div>'
        '<div><span class="line"></span>{signature}</div></div>'
        '<p class="made">{made}</p></article>',
        controls=controls,
        error=error or Safe(""),
        lang=ctx.lang,
        app=ctx.s("app"),
        project=ctx.project,
        title=ctx.t("statement_title"),
        intro=ctx.t(
            "statement_intro",
            name=f"{st.name} ({st.operator})",
            start=start_day,
            end=end_day,
            project=ctx.project,
        ),
        tasks=ctx.t("tasks"),
        t1=ctx.t("task_1", labels=labels),
        t2=ctx.t("task_2"),
        t3=ctx.t("task_3"),
        figures=ctx.t("figures"),
        dl=dl,
        q=ctx.t("quality_all"),
        dq=dq,
        by_day=ctx.t("by_day"),
        days=days,
        breaks_title=ctx.t("breaks_list"),
        breaks=breaks,
        place=ctx.t("place_date"),
        signature=ctx.t("signature"),
        made=ctx.t("made_by", date=date(time.time()), hub=ctx.hub_id),
    )
    title = f"{ctx.s('statement_title')} – {st.name}"
    return layout(ctx, title, body, active="operators", body_class="print-page")


# ---- progress ----------------------------------------------------------------------------


def progress_page(
    ctx: Ctx,
    counts: Counts,
    throughput: Sequence[tuple[float, int]],
    distribution: dict[str, int],
    report: Overview,
) -> str:
    cards = join(
        [
            _card(ctx.t("clips"), number(counts.clips), "counts.clips"),
            _card(ctx.t("done"), number(counts.done), "counts.done"),
            _card(ctx.t("backlog"), number(counts.backlog), "counts.backlog"),
            _card(ctx.t("votes_needed"), number(counts.votes_needed), "counts.votes_needed"),
            _card(ctx.t("labels"), number(counts.labels), "counts.labels"),
            _card(ctx.t("last_hour"), number(counts.labels_last_hour), "counts.labels_last_hour"),
        ]
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
        else fmt('<p class="empty">{m}</p>', m=ctx.t("no_data"))
    )
    body = fmt(
        '<div class="pagehead"><h1>{title}</h1></div><div class="cards">{cards}</div>'
        '<div class="grid2"><section><h2>{tp}</h2>{tp_chart}</section>'
        "<section><h2>{at}</h2>{at_chart}</section></div>"
        '<section><h2>{dist}</h2><div class="grid2">{dist_table}{dist_chart}</div></section>',
        title=ctx.t("progress"),
        cards=cards,
        tp=ctx.t("throughput"),
        tp_chart=svg.bar_chart(hours, ctx.s("throughput")),
        at=ctx.t("agreement_time"),
        at_chart=over_time,
        dist=ctx.t("distribution"),
        dist_table=_table([ctx.t("label"), ctx.t("votes"), ctx.t("share")], dist_rows, cls="dist"),
        dist_chart=svg.hbar_chart(
            [(ctx.label(v), float(distribution.get(v, 0))) for v in values], ctx.s("distribution")
        ),
    )
    return layout(ctx, ctx.s("progress"), body, active="progress", live=True)


# ---- quality -----------------------------------------------------------------------------


#: Figures from hub.consensus shown as cards: key → (text key, how: pct | num | int)
EXTRA_CARDS = {
    "agreement_with_consensus": ("q_agreement_with_consensus", "pct"),
    "mean_confidence": ("q_mean_confidence", "num"),
    "low_confidence_clips": ("q_low_confidence_clips", "int"),
    "gold_accuracy": ("q_gold_accuracy", "pct"),
    "majority_vote_gold_accuracy": ("q_majority_vote_gold_accuracy", "pct"),
    "consensus_differs_from_majority": ("q_consensus_differs", "int"),
}


def _figure(value: float | None, how: str) -> str:
    if how == "pct":
        return percent(value)
    return number(value, 0 if how == "int" else 2)


def _no_data(ctx: Ctx) -> Safe:
    return fmt('<p class="empty">{m}</p>', m=ctx.t("no_data"))


def _calibration(ctx: Ctx, calibration: Calibration) -> Safe:
    """Reliability diagrams of the consensus confidence (see hub.consensus.calibration)."""
    figures = []
    for key, cal in (
        ("held_out_gold", calibration.held_out_gold),
        ("simulated", calibration.simulated),
    ):
        title = ctx.s(f"cal_{key}")
        figures.append(
            fmt(
                "<figure>{svg}<figcaption><b>{t}</b><br>{f}</figcaption></figure>",
                svg=svg.reliability(cal, title) if cal and cal.n else _no_data(ctx),
                t=title,
                f=ctx.t("cal_figure", ece=number(cal.ece, 3), n=number(cal.n)) if cal else "",
            )
        )
    return fmt(
        '<section><h2>{h}</h2><p class="summary">{note}</p><div class="grid2">{figs}</div>'
        "</section>",
        h=ctx.t("calibration"),
        note=ctx.t("calibration_note"),
        figs=join(figures),
    )


def quality_page(ctx: Ctx, report: Overview, names: dict[str, str]) -> str:
    cards = [
        _card(ctx.t("alpha"), number(report.alpha, 3)),
        _card(ctx.t("kappa"), number(report.kappa, 3)),
        _card(ctx.t("pairwise"), percent(report.percent_agreement)),
        _card(ctx.t("clips_compared"), number(report.n_clips_multi)),
        _card(ctx.t("labels"), number(report.n_labels)),
    ]
    extra = report.extra()
    for key, (text, how) in EXTRA_CARDS.items():
        if key in extra:
            cards.append(_card(ctx.t(text), _figure(extra[key], how)))
    label_rows = [
        fmt(
            '<tr><th scope="row">{label}</th><td class="num">{n}</td><td class="num">{a}</td>'
            '<td class="num">{alpha}</td><td class="num">{kappa}</td></tr>',
            label=ctx.label(c),
            n=number(row.votes),
            a=percent(row.agreement),
            alpha=number(row.alpha, 3),
            kappa=number(row.kappa, 3),
        )
        for c in report.classes
        for row in [report.per_label[c]]
    ]
    op_rows = [
        fmt(
            '<tr><th scope="row">{name} <small>({op})</small></th><td class="num">{n}</td>'
            '<td class="num">{a}</td><td class="num">{o}</td><td class="num">{gn}</td>'
            '<td class="num">{g}</td><td class="num">{e}</td></tr>',
            name=names.get(op, op),
            op=op,
            n=number(row.labels),
            a=percent(row.agreement),
            o=percent(row.agreement_with_others),
            gn=number(row.gold_labels),
            g=percent(row.gold_accuracy),
            e=percent(row.estimated_accuracy),
        )
        for op, row in sorted(report.per_operator.items())
    ]
    shown = [ctx.label(c) for c in report.classes]
    heat = (
        svg.heatmap(report.confusion, shown, ctx.s("confusion"))
        if any(any(row) for row in report.confusion)
        else _no_data(ctx)
    )
    gold_heat = (
        svg.heatmap(report.gold_confusion, shown, ctx.s("gold_confusion"))
        if any(any(row) for row in report.gold_confusion)
        else _no_data(ctx)
    )
    label_table = _table(
        [ctx.t("label")]
        + [(ctx.t(h), "num") for h in ("votes", "specific_agreement", "alpha_short", "kappa")],
        label_rows,
    )
    op_table = (
        _table(
            [ctx.t("operator")]
            + [
                (ctx.t(h), "num")
                for h in (
                    "labels",
                    "agreement_consensus",
                    "agreement_others",
                    "gold_labels",
                    "gold_accuracy",
                    "estimated_accuracy",
                )
            ],
            op_rows,
        )
        if op_rows
        else _no_data(ctx)
    )
    method = report.source
    if method.startswith("hub.consensus"):
        method = ctx.s("method_ds" if "(ds)" in method else "method_mv_hub")
    elif method == "majority vote":
        method = ctx.s("method_mv")
    body = fmt(
        '<div class="pagehead"><h1>{title}</h1><p class="summary">{src_l}: {src}</p></div>'
        '<div class="cards">{cards}</div>'
        "<section><h2>{pl}</h2>{label_table}</section>"
        "{calibration}"
        '<div class="grid2"><section><h2>{conf}</h2>{heat}</section>'
        "<section><h2>{gconf}</h2>{gheat}</section></div>"
        "<section><h2>{po}</h2>{op_table}</section>"
        '<section><h2>{export}</h2><p class="exports">'
        '<a class="button" href="/api/v1/export/clips.jsonl" download>clips.jsonl</a> '
        '<a class="button" href="/api/v1/export/clips.csv" download>clips.csv</a></p></section>',
        title=ctx.t("quality"),
        src_l=ctx.t("source"),
        src=method,
        cards=join(cards),
        pl=ctx.t("per_label"),
        label_table=label_table,
        calibration=_calibration(ctx, report.consensus.overall.calibration)
        if report.consensus is not None and report.consensus.overall.calibration is not None
        else "",
        conf=ctx.t("confusion"),
        heat=heat,
        gconf=ctx.t("gold_confusion"),
        gheat=gold_heat,
        po=ctx.t("per_operator"),
        op_table=op_table,
        export=ctx.t("export"),
    )
    return layout(ctx, ctx.s("quality"), body, active="quality")
