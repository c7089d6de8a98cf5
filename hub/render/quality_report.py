"""The quality report of `straat-hub quality` as one self-contained HTML page (inline CSS and
SVG; no scripts, fonts or anything fetched from elsewhere) and as plain text for the terminal.
Both are pure functions of `hub.consensus.report.build_report`'s report."""

from __future__ import annotations

from typing import Any

from ..consensus.calibration import Reliability
from ..consensus.report import Calibration, QualityReport
from . import svg
from .html import Safe, fmt, join, table

__all__ = ["render_html", "render_text"]


def _measures(cal: Calibration) -> list[tuple[str, str, Reliability | None]]:
    """The two calibration measures: (title, what it is, its figures)."""
    return [
        (
            "Held out: gold clips",
            "the consensus of the gold clips, fitted without any gold answer, against the answers",
            cal.held_out_gold,
        ),
        (
            "Expected: simulated from the model",
            "labels drawn from the fitted model on the same clips and operators, fitted again",
            cal.simulated,
        ),
    ]


# ---- text ----------------------------------------------------------------------------------


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v * 100:.1f}%" if pct else f"{v:.3f}"
    return str(v)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(
        h.ljust(w) if i == 0 else h.rjust(w)
        for i, (h, w) in enumerate(zip(headers, widths, strict=True))
    )
    out = [line, "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return out


def render_text(report: QualityReport) -> str:
    """Plain-text rendering for the terminal (``straat-hub quality``)."""
    o = report.overall
    lines = [
        f"{report.title} (consensus: {report.method})",
        "",
        f"clips {o.clips}   operators {o.operators}   labels {o.labels}   "
        f"labels/clip {_fmt(o.labels_per_clip.mean)}",
        f"Krippendorff's alpha {_fmt(o.krippendorff_alpha)}   Fleiss' kappa {_fmt(o.fleiss_kappa)}",
        f"mean confidence {_fmt(o.mean_confidence)}   "
        f"clips under {o.low_confidence_threshold}: {o.low_confidence_clips}",
        f"labels agreeing with consensus {_fmt(o.agreement_with_consensus, pct=True)}",
        f"gold: {o.gold_clips} clips, {o.gold_labels} labels, "
        f"operator accuracy {_fmt(o.gold_accuracy, pct=True)}, "
        f"majority vote {_fmt(o.majority_vote_gold_accuracy, pct=True)}",
        "",
        "Per label",
    ]
    lines += _table(
        ["label", "clips", "votes", "alpha", "kappa", "conf", "recall", "precision"],
        [
            [
                str(p.label),
                str(p.consensus_clips),
                str(p.votes),
                _fmt(p.krippendorff_alpha),
                _fmt(p.fleiss_kappa),
                _fmt(p.mean_confidence),
                _fmt(p.recall, pct=True),
                _fmt(p.precision, pct=True),
            ]
            for p in report.per_label
        ],
    )
    lines += ["", "Per operator"]
    lines += _table(
        ["operator", "labels", "consensus", "others", "gold", "gold acc", "est. acc"],
        [
            [
                str(p.operator),
                str(p.labels),
                _fmt(p.agreement_with_consensus, pct=True),
                _fmt(p.agreement_with_others, pct=True),
                str(p.gold_labels),
                _fmt(p.gold_accuracy, pct=True),
                _fmt(p.estimated_accuracy, pct=True),
            ]
            for p in report.per_operator
        ],
    )
    for title, _what, c in _measures(o.calibration) if o.calibration else ():
        if c is not None:
            lines += ["", f"Calibration, {title.lower()}: ECE {_fmt(c.ece)} over {c.n} clips"]
            lines += _table(
                ["confidence", "clips", "mean conf", "accuracy"],
                [
                    [
                        f"{b.lo:.1f}-{b.hi:.1f}",
                        str(b.n),
                        _fmt(b.confidence),
                        _fmt(b.accuracy),
                    ]
                    for b in c.bins
                    if b.n
                ],
            )
    classes = [str(c) for c in report.classes]
    lines += ["", "Confusion (rows: consensus, columns: label given)"]
    lines += _table(
        ["", *classes],
        [[c, *(str(v) for v in row)] for c, row in zip(classes, o.confusion, strict=True)],
    )
    return "\n".join(lines) + "\n"


# ---- HTML ----------------------------------------------------------------------------------

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#111;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
.cards{display:flex;flex-wrap:wrap;gap:.75rem}
.card{border:1px solid #bbb;border-radius:6px;padding:.5rem .9rem;min-width:9rem}
.card b{display:block;font-size:1.3rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}
thead th{background:#eee}
svg{display:block;margin:.5rem 0;max-width:100%;height:auto}
svg.chart{width:100%;max-width:760px}
.muted{color:#555}
"""


def _calibration_html(cal: Calibration) -> Safe:
    parts = [
        Safe(
            "<h3>How far to trust the confidence</h3>"
            '<p class="muted">A calibrated confidence of 0.9 is right 9 times in 10; bars are the '
            "accuracy per confidence bin, the dashed line is perfect calibration. ECE is the mean "
            "gap, weighted by clips.</p>"
        )
    ]
    for title, what, c in _measures(cal):
        if c is None:
            parts.append(fmt("<p><b>{t}</b>: nothing to measure ({w}).</p>", t=title, w=what))
            continue
        parts.append(
            fmt(
                "<p><b>{t}</b>: ECE {ece} over {n} clips ({w}).</p>{figure}",
                t=title,
                ece=_fmt(c.ece),
                n=c.n,
                w=what,
                figure=svg.reliability(c, title),
            )
        )
    return join(parts, "\n")


def render_html(report: QualityReport) -> str:
    """One self-contained HTML page (inline CSS and SVG, nothing external, no scripts)."""
    o = report.overall
    classes = [str(c) for c in report.classes]
    title = str(report.title)
    cards = [
        ("clips", o.clips),
        ("operators", o.operators),
        ("labels", o.labels),
        ("labels per clip", _fmt(o.labels_per_clip.mean)),
        ("Krippendorff's α", _fmt(o.krippendorff_alpha)),
        ("Fleiss' κ", _fmt(o.fleiss_kappa)),
        ("mean confidence", _fmt(o.mean_confidence)),
        (f"clips under {o.low_confidence_threshold}", o.low_confidence_clips),
        ("agree with consensus", _fmt(o.agreement_with_consensus, pct=True)),
        ("gold accuracy", _fmt(o.gold_accuracy, pct=True)),
    ]
    hist = o.confidence_histogram
    edges, counts = hist.edges, hist.counts
    parts: list[Safe] = [
        fmt(
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            "<title>{title}</title><style>{css}</style></head><body>\n"
            "<h1>{title}</h1>\n"
            '<p class="muted">Consensus: {method} · schema {schema}</p>\n'
            '<section><h2>Overall</h2><div class="cards">{cards}</div>\n'
            "<p>Gold: {gold_clips} clips, {gold_labels} labels; the crowd's majority vote on "
            "gold: {mv_gold}. Clips where the consensus differs from a plain majority vote: "
            "{differs}.</p>\n"
            "<h3>Consensus confidence</h3>\n{histogram}",
            title=title,
            css=Safe(_CSS),
            method=report.method,
            schema=report.schema,
            cards=join(fmt('<div class="card"><b>{v}</b>{k}</div>', k=k, v=v) for k, v in cards),
            gold_clips=o.gold_clips,
            gold_labels=o.gold_labels,
            mv_gold=_fmt(o.majority_vote_gold_accuracy, pct=True),
            differs=o.consensus_differs_from_majority,
            histogram=svg.bar_chart(
                [(f"{edges[i]:.1f}–{edges[i + 1]:.1f}", c) for i, c in enumerate(counts)],
                "Clips per consensus confidence",
                label_every=2,
            ),
        )
    ]
    if o.calibration:
        parts.append(_calibration_html(o.calibration))
    parts.append(
        fmt(
            "<h3>Confusion: consensus (rows) against label given (columns)</h3>\n{heat}",
            heat=svg.heatmap(o.confusion, classes, "Confusion matrix"),
        )
    )
    if o.gold_confusion:
        parts.append(
            fmt(
                "<h3>Confusion on gold: gold answer (rows) against label given (columns)</h3>\n"
                "{heat}",
                heat=svg.heatmap(o.gold_confusion, classes, "Confusion matrix on gold"),
            )
        )
    per_label = report.per_label
    parts.append(
        fmt(
            "</section>\n<section><h2>Per label</h2>\n{chart}\n{table}",
            chart=svg.score_bars(
                [(p.label, p.krippendorff_alpha) for p in per_label],
                "Krippendorff's alpha per label",
                lo=-1.0 if any((p.krippendorff_alpha or 0) < 0 for p in per_label) else 0.0,
            ),
            table=table(
                [
                    "label",
                    "clips",
                    "votes",
                    "alpha",
                    "kappa",
                    "mean confidence",
                    "recall",
                    "precision",
                    "gold clips",
                ],
                [
                    [
                        p.label,
                        p.consensus_clips,
                        p.votes,
                        _fmt(p.krippendorff_alpha),
                        _fmt(p.fleiss_kappa),
                        _fmt(p.mean_confidence),
                        _fmt(p.recall, pct=True),
                        _fmt(p.precision, pct=True),
                        p.gold_clips,
                    ]
                    for p in per_label
                ],
            ),
        )
    )
    ops = list(report.per_operator)
    ranked = sorted(
        ops,
        key=lambda p: (p.agreement_with_consensus is None, p.agreement_with_consensus or 0.0),
    )
    parts.append(
        fmt(
            "</section>\n<section><h2>Per operator</h2>\n"
            "<h3>Agreement with the consensus (lowest first)</h3>\n{chart}{more}\n{table}\n"
            "</section>\n</body></html>\n",
            chart=svg.score_bars(
                [(p.operator, p.agreement_with_consensus) for p in ranked[:40]],
                "Agreement with the consensus per operator",
            ),
            more=fmt(
                '<p class="muted">Chart shows the 40 lowest of {n} operators.</p>', n=len(ranked)
            )
            if len(ranked) > 40
            else "",
            table=table(
                [
                    "operator",
                    "labels",
                    "clips",
                    "agree with consensus",
                    "agree with others",
                    "gold labels",
                    "gold accuracy",
                    "estimated accuracy",
                ],
                [
                    [
                        p.operator,
                        p.labels,
                        p.clips,
                        _fmt(p.agreement_with_consensus, pct=True),
                        _fmt(p.agreement_with_others, pct=True),
                        p.gold_labels,
                        _fmt(p.gold_accuracy, pct=True),
                        _fmt(p.estimated_accuracy, pct=True),
                    ]
                    for p in ops
                ],
            ),
        )
    )
    return join(parts, "\n")
