"""Quality report: build it as a JSON-ready dict, render it as HTML or plain text.

:func:`build_report` answers "is the data good enough?" per label, per operator
and overall: agreement (Krippendorff's alpha, Fleiss' kappa), consensus
confidence, accuracy on gold, agreement with the consensus and with the other
operators, confusion matrices. Undefined numbers are ``None`` (JSON ``null``).

:func:`render_html` returns one self-contained page (inline CSS and SVG; no
scripts, fonts or anything fetched from elsewhere) and :func:`render_text` a plain
terminal rendering. Both are pure functions of the report dict.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .agreement import (
    confusion_matrix,
    fleiss_kappa,
    fleiss_kappa_per_class,
    krippendorff_alpha,
    krippendorff_alpha_per_class,
    worker_accuracy,
    worker_confusion,
    worker_pairwise_agreement,
)
from .base import argmax_ties_low
from .calibration import held_out_gold, simulated
from .dawid_skene import DawidSkene
from .encode import encode, gold_index, vote_counts
from .majority import MajorityVote

__all__ = ["SCHEMA", "build_report", "render_html", "render_text"]

SCHEMA = "annotatiestraat.quality/1"
_HIST_BINS = 10


def _num(x: Any, digits: int = 4) -> float | None:
    """JSON-safe float: NaN/inf become None."""
    if x is None:
        return None
    v = float(x)
    if math.isnan(v) or math.isinf(v):
        return None
    return round(v, digits)


def _ratio(a: float, b: float) -> float | None:
    return _num(a / b) if b else None


def build_report(
    task_ids: Sequence[str],
    worker_ids: Sequence[str],
    labels: Sequence[str],
    classes: Sequence[str] | None = None,
    gold: Mapping[str, str] | None = None,
    method: str = "ds",
    low_confidence: float = 0.9,
    title: str = "Quality report",
) -> dict[str, Any]:
    """The quality report of a set of labels (see the module docstring).

    ``method`` is the consensus used as reference (``"ds"`` or ``"mv"``);
    ``low_confidence`` the confidence under which a clip counts as uncertain.
    ``overall.calibration`` (Dawid–Skene only) says how far to trust the confidence:
    ``held_out_gold`` (the gold clips' consensus fitted without any gold answer, against
    those answers) and ``simulated`` (labels drawn from the fitted model on the same
    clips and operators, fitted again): reliability bins, ECE and Brier score each, or
    None where there is nothing to measure. Each costs one more fit.
    """
    if method not in ("ds", "mv"):
        raise ValueError("method must be 'ds' or 'mv'")
    enc = encode(task_ids, worker_ids, labels, classes)
    k = enc.n_classes
    gidx = gold_index(enc, gold)
    counts = vote_counts(enc)
    mv = MajorityVote().fit_encoded(enc)  # without gold: the crowd on its own
    if method == "ds":
        model: DawidSkene | MajorityVote = DawidSkene().fit_encoded(enc, gidx)
    else:
        model = MajorityVote().fit_encoded(enc, gidx)
    posterior = model.probas_
    consensus = argmax_ties_low(posterior)
    confidence = posterior[np.arange(enc.n_tasks), consensus]
    has_gold = gidx >= 0

    per_task_votes = counts.sum(axis=1)
    label_ok = consensus[enc.task] == enc.label
    agree_correct, agree_judged = worker_accuracy(enc, consensus)
    pair_mean, pair_used = worker_pairwise_agreement(enc, counts)
    gold_correct, gold_judged = worker_accuracy(enc, gidx)
    op_conf = worker_confusion(enc, consensus)
    worker_tasks = np.bincount(
        np.unique(enc.worker * max(enc.n_tasks, 1) + enc.task) // max(enc.n_tasks, 1),
        minlength=enc.n_workers,
    )

    alpha_k = krippendorff_alpha_per_class(counts)
    kappa_k = fleiss_kappa_per_class(counts)
    hist, edges = np.histogram(confidence, bins=_HIST_BINS, range=(0.0, 1.0))
    priors = getattr(model, "priors_", None)
    class_share = (
        priors
        if priors is not None
        else (posterior.mean(axis=0) if enc.n_tasks else np.full(k, np.nan))
    )

    gold_tasks = int(has_gold.sum())
    gold_label_mask = has_gold[enc.task]
    per_label = []
    for j, c in enumerate(enc.classes):
        said = enc.label == j
        is_c = consensus[enc.task] == j
        per_label.append(
            {
                "label": c,
                "consensus_clips": int((consensus == j).sum()),
                "votes": int(said.sum()),
                "prior": _num(class_share[j]),
                "krippendorff_alpha": _num(alpha_k[j]),
                "fleiss_kappa": _num(kappa_k[j]),
                "mean_confidence": _num(confidence[consensus == j].mean())
                if (consensus == j).any()
                else None,
                # of the labels on clips whose consensus is c, the share saying c
                "recall": _ratio(float((said & is_c).sum()), float(is_c.sum())),
                # of the labels saying c, the share on clips whose consensus is c
                "precision": _ratio(float((said & is_c).sum()), float(said.sum())),
                "gold_clips": int((gidx == j).sum()),
            }
        )

    per_operator = []
    ds_errors = getattr(model, "errors_", None)
    for w, name in enumerate(enc.workers):
        entry: dict[str, Any] = {
            "operator": name,
            "labels": int(agree_judged[w]),
            "clips": int(worker_tasks[w]),
            "agreement_with_consensus": _ratio(agree_correct[w], agree_judged[w]),
            "agreement_with_others": _num(pair_mean[w]),
            "gold_labels": int(gold_judged[w]),
            "gold_correct": int(gold_correct[w]),
            "gold_accuracy": _ratio(gold_correct[w], gold_judged[w]),
            "confusion": op_conf[w].tolist(),
        }
        if ds_errors is not None and priors is not None:
            # expected accuracy under the Dawid–Skene model: sum_k prior_k * P(say k | k)
            entry["estimated_accuracy"] = _num(float(np.dot(priors, np.diag(ds_errors[w]))))
        per_operator.append(entry)

    mv_on_gold = mv.label_index_[has_gold] == gidx[has_gold]
    overall = {
        "clips": enc.n_tasks,
        "operators": enc.n_workers,
        "labels": enc.n_labels,
        "labels_per_clip": {
            "mean": _num(per_task_votes.mean()) if enc.n_tasks else None,
            "min": int(per_task_votes.min()) if enc.n_tasks else None,
            "max": int(per_task_votes.max()) if enc.n_tasks else None,
        },
        "krippendorff_alpha": _num(krippendorff_alpha(counts)),
        "fleiss_kappa": _num(fleiss_kappa(counts)),
        "mean_confidence": _num(confidence.mean()) if enc.n_tasks else None,
        "low_confidence_threshold": low_confidence,
        "low_confidence_clips": int((confidence < low_confidence).sum()),
        "agreement_with_consensus": _ratio(float(label_ok.sum()), float(enc.n_labels)),
        "gold_clips": gold_tasks,
        "gold_labels": int(gold_label_mask.sum()),
        "gold_accuracy": _ratio(float(gold_correct.sum()), float(gold_judged.sum())),
        # the crowd's majority vote on gold clips, before gold is used as truth
        "majority_vote_gold_accuracy": _ratio(float(mv_on_gold.sum()), float(gold_tasks)),
        "consensus_differs_from_majority": int((consensus != mv.label_index_).sum()),
        "confidence_histogram": {
            "edges": [round(float(e), 2) for e in edges],
            "counts": hist.astype(int).tolist(),
        },
        "calibration": _calibration(enc, gidx, model) if isinstance(model, DawidSkene) else None,
        "confusion": confusion_matrix(consensus[enc.task], enc.label, k).astype(int).tolist(),
        "gold_confusion": (
            confusion_matrix(gidx[enc.task], enc.label, k).astype(int).tolist()
            if gold_tasks
            else None
        ),
    }
    return {
        "schema": SCHEMA,
        "title": title,
        "method": method,
        "classes": list(enc.classes),
        "overall": overall,
        "per_label": per_label,
        "per_operator": per_operator,
    }


def _calibration(enc: Any, gold: np.ndarray, model: DawidSkene) -> dict[str, Any]:
    def fit(e: Any, g: np.ndarray | None) -> np.ndarray:
        return DawidSkene().fit_encoded(e, g).probas_

    def rounded(cal: dict[str, Any] | None) -> dict[str, Any] | None:
        if cal is None:
            return None
        for b in cal["bins"]:
            b["confidence"], b["accuracy"] = _num(b["confidence"]), _num(b["accuracy"])
        return {**cal, "ece": _num(cal["ece"]), "brier": _num(cal["brier"])}

    return {
        "held_out_gold": rounded(held_out_gold(enc, gold, fit)),
        "simulated": rounded(simulated(enc, gold, model.probas_, model.errors_, fit)),
    }


# --------------------------------------------------------------------------- text


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


def render_text(report: Mapping[str, Any]) -> str:
    """Plain-text rendering for the terminal (``straat-hub quality``)."""
    o = report["overall"]
    lines = [
        f"{report.get('title', 'Quality report')} (consensus: {report['method']})",
        "",
        f"clips {o['clips']}   operators {o['operators']}   labels {o['labels']}   "
        f"labels/clip {_fmt(o['labels_per_clip']['mean'])}",
        f"Krippendorff's alpha {_fmt(o['krippendorff_alpha'])}   "
        f"Fleiss' kappa {_fmt(o['fleiss_kappa'])}",
        f"mean confidence {_fmt(o['mean_confidence'])}   "
        f"clips under {o['low_confidence_threshold']}: {o['low_confidence_clips']}",
        f"labels agreeing with consensus {_fmt(o['agreement_with_consensus'], pct=True)}",
        f"gold: {o['gold_clips']} clips, {o['gold_labels']} labels, "
        f"operator accuracy {_fmt(o['gold_accuracy'], pct=True)}, "
        f"majority vote {_fmt(o['majority_vote_gold_accuracy'], pct=True)}",
        "",
        "Per label",
    ]
    lines += _table(
        ["label", "clips", "votes", "alpha", "kappa", "conf", "recall", "precision"],
        [
            [
                str(p["label"]),
                str(p["consensus_clips"]),
                str(p["votes"]),
                _fmt(p["krippendorff_alpha"]),
                _fmt(p["fleiss_kappa"]),
                _fmt(p["mean_confidence"]),
                _fmt(p["recall"], pct=True),
                _fmt(p["precision"], pct=True),
            ]
            for p in report["per_label"]
        ],
    )
    lines += ["", "Per operator"]
    lines += _table(
        ["operator", "labels", "consensus", "others", "gold", "gold acc", "est. acc"],
        [
            [
                str(p["operator"]),
                str(p["labels"]),
                _fmt(p["agreement_with_consensus"], pct=True),
                _fmt(p["agreement_with_others"], pct=True),
                str(p["gold_labels"]),
                _fmt(p["gold_accuracy"], pct=True),
                _fmt(p.get("estimated_accuracy"), pct=True),
            ]
            for p in report["per_operator"]
        ],
    )
    for key, (title, _what) in CALIBRATION_TEXT.items() if o.get("calibration") else ():
        c = o["calibration"].get(key)
        if c is not None:
            lines += ["", f"Calibration, {title.lower()}: ECE {_fmt(c['ece'])} over {c['n']} clips"]
            lines += _table(
                ["confidence", "clips", "mean conf", "accuracy"],
                [
                    [
                        f"{b['lo']:.1f}-{b['hi']:.1f}",
                        str(b["n"]),
                        _fmt(b["confidence"]),
                        _fmt(b["accuracy"]),
                    ]
                    for b in c["bins"]
                    if b["n"]
                ],
            )
    classes = [str(c) for c in report["classes"]]
    lines += ["", "Confusion (rows: consensus, columns: label given)"]
    lines += _table(
        ["", *classes],
        [[c, *(str(v) for v in row)] for c, row in zip(classes, o["confusion"], strict=True)],
    )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- HTML

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
svg{display:block;margin:.5rem 0}
svg text{font:12px system-ui,sans-serif;fill:#111}
.muted{color:#555}
"""


def _esc(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _bar_chart(
    items: Sequence[tuple[str, float | None]],
    lo: float = 0.0,
    hi: float = 1.0,
    width: int = 560,
    title: str = "",
) -> str:
    """Horizontal bars, one per item (None drawn as an empty row)."""
    row_h, label_w = 20, 160
    height = row_h * len(items) + 30
    plot_w = width - label_w - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{_esc(title)}"><title>{_esc(title)}</title>'
    ]
    zero_x = label_w + plot_w * (0 - lo) / (hi - lo) if lo < 0 < hi else label_w
    for i, (name, value) in enumerate(items):
        y = 10 + i * row_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{_esc(name)}</text>')
        if value is None:
            parts.append(f'<text x="{label_w + 4}" y="{y + 14}" class="muted">n/a</text>')
            continue
        v = min(max(value, lo), hi)
        x_v = label_w + plot_w * (v - lo) / (hi - lo)
        x0, x1 = sorted((zero_x, x_v))
        colour = "#2b6cb0" if value >= 0 else "#c53030"
        parts.append(
            f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1):.1f}" height="{row_h - 6}" '
            f'fill="{colour}"/>'
        )
        parts.append(f'<text x="{x1 + 4:.1f}" y="{y + 14}">{value:.3f}</text>')
    axis_y = 10 + len(items) * row_h + 4
    parts.append(
        f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + plot_w}" y2="{axis_y}" stroke="#555"/>'
    )
    parts.append(f'<text x="{label_w}" y="{axis_y + 14}" text-anchor="middle">{lo:g}</text>')
    parts.append(
        f'<text x="{label_w + plot_w}" y="{axis_y + 14}" text-anchor="middle">{hi:g}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _histogram(edges: Sequence[float], counts: Sequence[int], title: str) -> str:
    width, height, pad = 560, 200, 30
    n = len(counts)
    top = max(counts) if counts and max(counts) > 0 else 1
    bar_w = (width - 2 * pad) / max(n, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{_esc(title)}"><title>{_esc(title)}</title>'
    ]
    for i, c in enumerate(counts):
        h = (height - 2 * pad) * c / top
        x = pad + i * bar_w
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{height - pad - h:.1f}" width="{bar_w - 2:.1f}" '
            f'height="{h:.1f}" fill="#2b6cb0"><title>{edges[i]:.1f}–{edges[i + 1]:.1f}: {c}</title></rect>'
        )
        if c:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - pad - h - 3:.1f}" '
                f'text-anchor="middle">{c}</text>'
            )
    for i, e in enumerate(edges):
        if i % 2 == 0:
            parts.append(
                f'<text x="{pad + i * bar_w:.1f}" y="{height - pad + 14}" '
                f'text-anchor="middle">{e:g}</text>'
            )
    parts.append(
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#555"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _heatmap(classes: Sequence[str], matrix: Sequence[Sequence[int]], title: str) -> str:
    cell, left = 44, 120
    head = min(120, 14 + 7 * max((len(c) for c in classes), default=1))  # room for column labels
    k = len(classes)
    width = left + cell * k + 10 + head
    height = head + cell * k + 10
    top = max((max(r) for r in matrix if r), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{_esc(title)}"><title>{_esc(title)}</title>'
    ]
    for j, c in enumerate(classes):
        x = left + j * cell + cell / 2
        parts.append(
            f'<text x="{x:.1f}" y="{head - 6}" text-anchor="start" '
            f'transform="rotate(-45 {x:.1f} {head - 6})">{_esc(c)}</text>'
        )
    for i, c in enumerate(classes):
        y = head + i * cell
        parts.append(
            f'<text x="{left - 6}" y="{y + cell / 2 + 4:.1f}" text-anchor="end">{_esc(c)}</text>'
        )
        for j in range(k):
            v = matrix[i][j]
            shade = int(255 - 200 * (v / top))
            fg = "#fff" if shade < 140 else "#111"
            x = left + j * cell
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                f'fill="rgb({shade},{shade},255)"><title>{_esc(classes[i])} / '
                f"{_esc(classes[j])}: {v}</title></rect>"
                f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" text-anchor="middle" '
                f'style="fill:{fg}">{v}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f'<th scope="col">{_esc(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


#: The two calibration measures of ``overall.calibration``: key -> (title, what it is).
CALIBRATION_TEXT = {
    "held_out_gold": (
        "Held out: gold clips",
        "the consensus of the gold clips, fitted without any gold answer, against the answers",
    ),
    "simulated": (
        "Expected: simulated from the model",
        "labels drawn from the fitted model on the same clips and operators, fitted again",
    ),
}


def _calibration_html(cal: Mapping[str, Any], draw: Callable[[Any, str], str] | None) -> str:
    parts = [
        "<h3>How far to trust the confidence</h3>",
        '<p class="muted">A calibrated confidence of 0.9 is right 9 times in 10; bars are the '
        "accuracy per confidence bin, the dashed line is perfect calibration. ECE is the mean "
        "gap, weighted by clips.</p>",
    ]
    for key, (title, what) in CALIBRATION_TEXT.items():
        c = cal.get(key)
        if c is None:
            parts.append(f"<p><b>{_esc(title)}</b>: nothing to measure ({_esc(what)}).</p>")
            continue
        parts.append(
            f"<p><b>{_esc(title)}</b>: ECE {_esc(_fmt(c['ece']))} over {c['n']} clips "
            f"({_esc(what)}).</p>"
        )
        if draw is not None:
            parts.append(draw(c, title))
        else:
            parts.append(
                _html_table(
                    ["confidence", "clips", "mean confidence", "accuracy"],
                    [
                        [
                            f"{b['lo']:.1f}–{b['hi']:.1f}",
                            b["n"],
                            _fmt(b["confidence"]),
                            _fmt(b["accuracy"]),
                        ]
                        for b in c["bins"]
                        if b["n"]
                    ],
                )
            )
    return "\n".join(parts)


def render_html(
    report: Mapping[str, Any], reliability: Callable[[Any, str], str] | None = None
) -> str:
    """One self-contained HTML page (inline CSS and SVG, nothing external, no scripts).
    ``reliability(calibration, title)`` draws a reliability diagram (SVG); without it the
    calibration bins are a table."""
    o = report["overall"]
    classes = [str(c) for c in report["classes"]]
    title = str(report.get("title", "Quality report"))
    cards = [
        ("clips", o["clips"]),
        ("operators", o["operators"]),
        ("labels", o["labels"]),
        ("labels per clip", _fmt(o["labels_per_clip"]["mean"])),
        ("Krippendorff's α", _fmt(o["krippendorff_alpha"])),
        ("Fleiss' κ", _fmt(o["fleiss_kappa"])),
        ("mean confidence", _fmt(o["mean_confidence"])),
        (f"clips under {o['low_confidence_threshold']}", o["low_confidence_clips"]),
        ("agree with consensus", _fmt(o["agreement_with_consensus"], pct=True)),
        ("gold accuracy", _fmt(o["gold_accuracy"], pct=True)),
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        f'<p class="muted">Consensus: {_esc(report["method"])} · schema {_esc(report.get("schema", ""))}</p>',
        '<section><h2>Overall</h2><div class="cards">',
        *(f'<div class="card"><b>{_esc(v)}</b>{_esc(k)}</div>' for k, v in cards),
        "</div>",
        f"<p>Gold: {o['gold_clips']} clips, {o['gold_labels']} labels; the crowd's majority vote on "
        f"gold: {_esc(_fmt(o['majority_vote_gold_accuracy'], pct=True))}. Clips where the consensus "
        f"differs from a plain majority vote: {o['consensus_differs_from_majority']}.</p>",
        "<h3>Consensus confidence</h3>",
        _histogram(
            o["confidence_histogram"]["edges"],
            o["confidence_histogram"]["counts"],
            "Clips per consensus confidence",
        ),
    ]
    if o.get("calibration"):
        parts.append(_calibration_html(o["calibration"], reliability))
    parts += [
        "<h3>Confusion: consensus (rows) against label given (columns)</h3>",
        _heatmap(classes, o["confusion"], "Confusion matrix"),
    ]
    if o.get("gold_confusion"):
        parts += [
            "<h3>Confusion on gold: gold answer (rows) against label given (columns)</h3>",
            _heatmap(classes, o["gold_confusion"], "Confusion matrix on gold"),
        ]
    parts += ["</section>", "<section><h2>Per label</h2>"]
    parts.append(
        _bar_chart(
            [(p["label"], p["krippendorff_alpha"]) for p in report["per_label"]],
            lo=-1.0
            if any((p["krippendorff_alpha"] or 0) < 0 for p in report["per_label"])
            else 0.0,
            title="Krippendorff's alpha per label",
        )
    )
    parts.append(
        _html_table(
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
                    p["label"],
                    p["consensus_clips"],
                    p["votes"],
                    _fmt(p["krippendorff_alpha"]),
                    _fmt(p["fleiss_kappa"]),
                    _fmt(p["mean_confidence"]),
                    _fmt(p["recall"], pct=True),
                    _fmt(p["precision"], pct=True),
                    p["gold_clips"],
                ]
                for p in report["per_label"]
            ],
        )
    )
    ops = list(report["per_operator"])
    ranked = sorted(
        ops,
        key=lambda p: (p["agreement_with_consensus"] is None, p["agreement_with_consensus"] or 0.0),
    )
    parts += [
        "</section>",
        "<section><h2>Per operator</h2>",
        "<h3>Agreement with the consensus (lowest first)</h3>",
        _bar_chart(
            [(p["operator"], p["agreement_with_consensus"]) for p in ranked[:40]],
            title="Agreement with the consensus per operator",
        ),
    ]
    if len(ranked) > 40:
        parts.append(f'<p class="muted">Chart shows the 40 lowest of {len(ranked)} operators.</p>')
    parts.append(
        _html_table(
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
                    p["operator"],
                    p["labels"],
                    p["clips"],
                    _fmt(p["agreement_with_consensus"], pct=True),
                    _fmt(p["agreement_with_others"], pct=True),
                    p["gold_labels"],
                    _fmt(p["gold_accuracy"], pct=True),
                    _fmt(p.get("estimated_accuracy"), pct=True),
                ]
                for p in ops
            ],
        )
    )
    parts += ["</section>", "</body></html>"]
    return "\n".join(parts) + "\n"
