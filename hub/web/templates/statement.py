"""An operator's work experience statement, printable."""

from __future__ import annotations

import time
from datetime import datetime

from ...render.html import DASH, Safe, date, fmt, hours_minutes, join, number, percent
from ...store.dashboard import Statement
from .context import Ctx
from .layout import layout, no_data, scroll_table
from .operators import breaks_cell


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
        ("breaks_taken", breaks_cell(st.breaks, st.break_min)),
    ]
    quality = [("agreement", percent(st.agreement)), ("gold_accuracy", percent(st.gold_accuracy))]
    dl = join(fmt("<dt>{k}</dt><dd>{v}</dd>", k=ctx.t(k), v=v) for k, v in figures)
    dq = join(fmt("<dt>{k}</dt><dd>{v}</dd>", k=ctx.t(k), v=v) for k, v in quality)
    days = (
        scroll_table(
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
        else no_data(ctx)
    )
    breaks = (
        scroll_table(
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
        **ctx.texts(l_from="from", l_to="to", show="show", print="print"),
        start=start_day,
        end=end_day,
        lang=ctx.lang,
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
        **ctx.texts(
            title="statement_title",
            tasks="tasks",
            t2="task_2",
            t3="task_3",
            figures="figures",
            q="quality_all",
            by_day="by_day",
            breaks_title="breaks_list",
            place="place_date",
            signature="signature",
        ),
        intro=ctx.t(
            "statement_intro",
            name=f"{st.name} ({st.operator})",
            start=start_day,
            end=end_day,
            project=ctx.project,
        ),
        t1=ctx.t("task_1", labels=labels),
        dl=dl,
        dq=dq,
        days=days,
        breaks=breaks,
        made=ctx.t("made_by", date=date(time.time()), hub=ctx.hub_id),
    )
    title = f"{ctx.s('statement_title')} – {st.name}"
    return layout(ctx, title, body, active="operators", body_class="print-page")
