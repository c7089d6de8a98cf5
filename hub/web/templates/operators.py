"""The operators page: hours, clips, breaks and quality per operator, the form to add one,
and the open alerts."""

from __future__ import annotations

from collections.abc import Sequence

from ...render.html import DASH, Safe, clock, fmt, hours_minutes, join, number, percent
from ...store.dashboard import AlertRow, OperatorStats
from .context import Ctx
from .layout import layout, path_segment, scroll_table


def operator_cells(o: OperatorStats) -> dict[str, str]:
    return {
        "hours_today": hours_minutes(o.hours_today),
        "hours_week": hours_minutes(o.hours_week),
        "clips_today": number(o.clips_today),
        "clips_total": number(o.clips_total),
        "exposure": DASH if o.exposure_min_today is None else f"{o.exposure_min_today:.0f} min",
        "breaks": breaks_cell(o.breaks_today, o.break_min_today),
        "alerts": number(o.alerts_open),
        "agreement": percent(o.agreement),
        "gold": percent(o.gold_accuracy),
    }


def breaks_cell(count: int | None, minutes: float | None) -> str:
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
        qid=path_segment(o.id),
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
                uuid=path_segment(a.uuid),
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
    return scroll_table(
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
        scroll_table(headers, [_operator_row(ctx, o) for o in operators], cls="operators rowcards")
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
