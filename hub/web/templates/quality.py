"""The quality page (project leads): agreement figures, calibration, confusion matrices and
per-operator quality."""

from __future__ import annotations

from ...consensus.overview import Overview
from ...consensus.report import Calibration
from ...render import svg
from ...render.html import Safe, fmt, join, number, percent
from .context import Ctx
from .layout import card, layout, no_data, scroll_table

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
                svg=svg.reliability(cal, title) if cal and cal.n else no_data(ctx),
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
        card(ctx.t("alpha"), number(report.alpha, 3)),
        card(ctx.t("kappa"), number(report.kappa, 3)),
        card(ctx.t("pairwise"), percent(report.percent_agreement)),
        card(ctx.t("clips_compared"), number(report.n_clips_multi)),
        card(ctx.t("labels"), number(report.n_labels)),
    ]
    extra = report.extra()
    for key, (text, how) in EXTRA_CARDS.items():
        if key in extra:
            cards.append(card(ctx.t(text), _figure(extra[key], how)))
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
        else no_data(ctx)
    )
    gold_heat = (
        svg.heatmap(report.gold_confusion, shown, ctx.s("gold_confusion"))
        if any(any(row) for row in report.gold_confusion)
        else no_data(ctx)
    )
    label_table = scroll_table(
        [ctx.t("label")]
        + [(ctx.t(h), "num") for h in ("votes", "specific_agreement", "alpha_short", "kappa")],
        label_rows,
    )
    op_table = (
        scroll_table(
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
        else no_data(ctx)
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
        **ctx.texts(
            title="quality",
            src_l="source",
            pl="per_label",
            conf="confusion",
            gconf="gold_confusion",
            po="per_operator",
            export="export",
        ),
        src=method,
        cards=join(cards),
        label_table=label_table,
        calibration=_calibration(ctx, report.consensus.overall.calibration)
        if report.consensus is not None and report.consensus.overall.calibration is not None
        else "",
        heat=heat,
        gheat=gold_heat,
        op_table=op_table,
    )
    return layout(ctx, ctx.s("quality"), body, active="quality")
