"""How good is a model against the people? Pure logic and rendering, no I/O.

- :func:`evaluate`: accuracy, per-label precision / recall / F1 (and macro F1), the
  confusion matrix (reference rows x model columns) and calibration bins for a
  reliability diagram (with the expected calibration error), of predicted labels
  against reference labels.
- :func:`model_report`: a model against the *confident* consensus (posterior of the
  leading label at least ``threshold``; gold clips left out) and against gold, for one
  version, plus the learning curve across all its versions. JSON-ready.
- :func:`render_text` and :func:`render_html` (one self-contained page: inline CSS and
  inline SVG, no scripts, nothing fetched; :data:`STYLE_CSP` is the CSP source that
  allows its one ``<style>`` element).

Labels are strings; a multi-choice label set is compared as one class (its values sorted
and joined by ``+``). Calibration uses the model's probability of the label it
predicted (single choice only).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import numpy as np

from ..consensus.calibration import Reliability, calibration
from ..render import svg
from ..render.html import Safe, fmt, join
from .scores import probabilities

__all__ = [
    "STYLE",
    "STYLE_CSP",
    "calibration",
    "evaluate",
    "model_report",
    "render_html",
    "render_text",
]

ModelPredictions = Mapping[str, tuple[str, Mapping[str, float]]]  # clip → (label, scores)


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def evaluate(
    predicted: Mapping[str, str],
    reference: Mapping[str, str],
    classes: Sequence[str] = (),
    confidence: Mapping[str, float] | None = None,
    bins: int = 10,
) -> dict[str, Any]:
    """Model labels `predicted` (clip → label) against `reference` (clip → label) on the
    clips both have. `classes` fixes the order; labels outside it are appended.
    `confidence` (clip → the model's probability of its label) gives calibration."""
    clips = [c for c in reference if c in predicted]
    seen = {reference[c] for c in clips} | {predicted[c] for c in clips}
    labels = list(classes) + sorted(seen - set(classes))
    pos = {c: i for i, c in enumerate(labels)}
    k = len(labels)
    matrix = np.zeros((k, k), dtype=np.int64)
    for c in clips:
        matrix[pos[reference[c]], pos[predicted[c]]] += 1
    n = len(clips)
    correct = int(np.trace(matrix))
    per_label: dict[str, dict[str, Any]] = {}
    f1s = []
    for i, label in enumerate(labels):
        tp = int(matrix[i, i])
        support = int(matrix[i].sum())
        chosen = int(matrix[:, i].sum())
        precision = _ratio(tp, chosen)
        recall = _ratio(tp, support)
        if precision is None or recall is None:
            f1 = None
        else:
            f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
        per_label[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": support,
            "predicted": chosen,
        }
        if support:
            f1s.append(f1 if f1 is not None else 0.0)
    out: dict[str, Any] = {
        "n": n,
        "correct": correct,
        "accuracy": _ratio(correct, n),
        "macro_f1": float(np.mean(f1s)) if f1s else None,
        "per_label": per_label,
        "confusion": {"labels": labels, "matrix": matrix.tolist()},
        "missing": len(reference) - n,
    }
    if confidence is not None:
        cal = [c for c in clips if c in confidence]
        out["calibration"] = msgspec.to_builtins(
            calibration(
                [confidence[c] for c in cal], [predicted[c] == reference[c] for c in cal], bins
            )
        )
    return out


def _confidences(preds: ModelPredictions, classes: Sequence[str], kind: str) -> dict[str, float]:
    if kind == "multi" or not classes:
        return {}
    pos = {c: i for i, c in enumerate(classes)}
    out = {}
    for clip, (label, scores) in preds.items():
        if not scores or label not in pos:
            continue
        p = probabilities(scores, classes)
        if p is not None:
            out[clip] = float(p[pos[label]])
    return out


def model_report(
    model: str,
    versions: Mapping[int, ModelPredictions],
    consensus: Mapping[str, tuple[str, float]],
    gold: Mapping[str, str],
    classes: Sequence[str],
    *,
    kind: str = "single",
    threshold: float = 0.9,
    version: int | None = None,
    created: Mapping[int, float] | None = None,
    bins: int = 10,
) -> dict[str, Any]:
    """The model (`version`, default its newest) against confident consensus (clip →
    (label, confidence); gold clips left out) and against `gold`, and the learning curve
    over every version."""
    if not versions:
        raise ValueError(f"model {model!r} has no predictions")
    version = max(versions) if version is None else version
    if version not in versions:
        raise ValueError(f"model {model!r} has no version {version}")
    confident = {
        clip: label
        for clip, (label, conf) in consensus.items()
        if conf >= threshold and clip not in gold
    }

    def against(preds: ModelPredictions, reference: Mapping[str, str]) -> dict[str, Any]:
        labels = {clip: label for clip, (label, _) in preds.items()}
        return evaluate(labels, reference, classes, _confidences(preds, classes, kind), bins)

    curve = []
    for v in sorted(versions):
        vs_cons = against(versions[v], confident)
        vs_gold = against(versions[v], gold)
        curve.append(
            {
                "version": v,
                "created_at": (created or {}).get(v),
                "clips": len(versions[v]),
                "consensus": {k: vs_cons[k] for k in ("n", "accuracy", "macro_f1")},
                "gold": {k: vs_gold[k] for k in ("n", "accuracy", "macro_f1")},
                "ece": vs_cons.get("calibration", {}).get("ece"),
            }
        )
    return {
        "model": model,
        "version": version,
        "versions": sorted(versions),
        "clips": len(versions[version]),
        "threshold": threshold,
        "classes": list(classes),
        "consensus_clips": len([c for c in consensus if c not in gold]),
        "confident_clips": len(confident),
        "gold_clips": len(gold),
        "against_consensus": against(versions[version], confident),
        "against_gold": against(versions[version], gold),
        "learning_curve": curve,
    }


# ---- text ----------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _section_text(title: str, ev: dict[str, Any]) -> list[str]:
    lines = [
        f"{title}: {ev['n']} clips, accuracy {_pct(ev['accuracy'])}, "
        f"macro F1 {_num(ev['macro_f1'])}"
    ]
    if not ev["n"]:
        return lines
    width = max(len(x) for x in ev["per_label"]) + 2
    lines.append(f"  {'label':<{width}}precision  recall     F1  support")
    for label, row in ev["per_label"].items():
        lines.append(
            f"  {label:<{width}}{_pct(row['precision']):>9}{_pct(row['recall']):>8}"
            f"{_num(row['f1'], 2):>7}{row['support']:>9}"
        )
    labels = ev["confusion"]["labels"]
    lines.append("  confusion (rows: reference, columns: model)")
    lines.append("  " + " " * width + "".join(f"{x[:10]:>11}" for x in labels))
    for label, row in zip(labels, ev["confusion"]["matrix"], strict=True):
        lines.append(f"  {label:<{width}}" + "".join(f"{v:>11}" for v in row))
    cal = ev.get("calibration")
    if cal and cal["n"]:
        lines.append(
            f"  calibration: ECE {_num(cal['ece'])}, Brier {_num(cal['brier'])} over {cal['n']}"
        )
        for b in cal["bins"]:
            if b["n"]:
                lines.append(
                    f"    {b['lo']:.1f}-{b['hi']:.1f}: {b['n']:>6} clips, "
                    f"confidence {_pct(b['confidence'])}, accuracy {_pct(b['accuracy'])}"
                )
    return lines


def render_text(report: dict[str, Any]) -> str:
    lines = [
        f"model {report['model']} v{report['version']}: {report['clips']} clips predicted "
        f"(versions {', '.join(map(str, report['versions']))})",
        f"consensus: {report['confident_clips']} of {report['consensus_clips']} clips with "
        f"confidence >= {report['threshold']:g}; gold: {report['gold_clips']} clips",
        "",
    ]
    lines += _section_text("against confident consensus", report["against_consensus"])
    lines.append("")
    lines += _section_text("against gold", report["against_gold"])
    lines += ["", "learning curve (accuracy against consensus / gold):"]
    for point in report["learning_curve"]:
        lines.append(
            f"  v{point['version']}: {_pct(point['consensus']['accuracy'])} "
            f"(n={point['consensus']['n']}) / {_pct(point['gold']['accuracy'])} "
            f"(n={point['gold']['n']})"
        )
    return "\n".join(lines)


# ---- HTML ----------------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,sans-serif;color:#1f2933;margin:1.5rem;max-width:72rem;
line-height:1.45;font-size:1.05rem}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.25rem;margin:1.6rem 0 .5rem}
.summary{color:#4a5561;margin:0 0 1rem}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{border:1px solid #c7ced6;border-radius:.4rem;padding:.6rem 1rem;min-width:9rem}
.card .value{font-size:1.5rem;font-weight:600}.card .label{color:#4a5561}
table{border-collapse:collapse;margin:.4rem 0}
th,td{border-bottom:1px solid #d9dee4;padding:.3rem .7rem;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr));gap:1.5rem}
svg{max-width:100%;height:auto}.empty{color:#4a5561;font-style:italic}
""".strip()

STYLE_CSP = "'sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode() + "'"


def _table(headers: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]]) -> Safe:
    """A table; a header's flag right-aligns its column (numbers)."""

    def cls(num: bool) -> Safe:
        return Safe(" class=num" if num else "")

    head = join(fmt('<th scope="col"{c}>{h}</th>', c=cls(num), h=h) for h, num in headers)
    body = join(
        fmt(
            "<tr>{cells}</tr>",
            cells=join(
                fmt("<td{c}>{v}</td>", c=cls(headers[i][1]), v=v) for i, v in enumerate(row)
            ),
        )
        for row in rows
    )
    return fmt(
        "<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>", head=head, body=body
    )


def _card(value: str, label: str) -> Safe:
    return fmt(
        '<div class="card"><div class="value">{v}</div><div class="label">{l}</div></div>',
        v=value,
        l=label,
    )


def _section_html(title: str, ev: dict[str, Any]) -> Safe:
    if not ev["n"]:
        return fmt(
            '<section><h2>{t}</h2><p class="empty">no clips to compare yet</p></section>', t=title
        )
    rows = [
        [
            label,
            _pct(r["precision"]),
            _pct(r["recall"]),
            _num(r["f1"], 2),
            str(r["support"]),
            str(r["predicted"]),
        ]
        for label, r in ev["per_label"].items()
    ]
    table = _table(
        [
            ("label", False),
            ("precision", True),
            ("recall", True),
            ("F1", True),
            ("support", True),
            ("predicted", True),
        ],
        rows,
    )
    heat = svg.heatmap(
        ev["confusion"]["matrix"], ev["confusion"]["labels"], f"confusion matrix: {title}"
    )
    cal = ev.get("calibration")
    reliability = (
        fmt(
            "{fig}<p>ECE {ece} · Brier {brier} · {n} clips</p>",
            fig=svg.reliability(msgspec.convert(cal, Reliability), f"reliability diagram: {title}"),
            ece=_num(cal["ece"]),
            brier=_num(cal["brier"]),
            n=cal["n"],
        )
        if cal and cal["n"]
        else Safe('<p class="empty">no scores to calibrate</p>')
    )
    return fmt(
        "<section><h2>{title}</h2>"
        "<p>{n} clips · accuracy {acc} · macro F1 {f1}</p>{table}"
        '<div class="grid2"><div><h3>confusion</h3>{heat}</div>'
        "<div><h3>calibration</h3>{reliability}</div></div></section>",
        title=title,
        n=ev["n"],
        acc=_pct(ev["accuracy"]),
        f1=_num(ev["macro_f1"]),
        table=table,
        heat=heat,
        reliability=reliability,
    )


def render_html(report: dict[str, Any], title: str | None = None) -> str:
    """One page, nothing external: inline CSS (see `STYLE_CSP`) and inline SVG."""
    title = title or f"model {report['model']} v{report['version']}"
    cons, gold = report["against_consensus"], report["against_gold"]
    cards = join(
        [
            _card(_pct(cons["accuracy"]), "accuracy vs consensus"),
            _card(_num(cons["macro_f1"]), "macro F1 vs consensus"),
            _card(_pct(gold["accuracy"]), "accuracy vs gold"),
            _card(_num((cons.get("calibration") or {}).get("ece")), "ECE (calibration)"),
            _card(str(report["clips"]), "clips predicted"),
        ]
    )
    curve_rows = [
        [
            f"v{p['version']}",
            str(p["clips"]),
            _pct(p["consensus"]["accuracy"]),
            str(p["consensus"]["n"]),
            _pct(p["gold"]["accuracy"]),
            str(p["gold"]["n"]),
            _num(p["consensus"]["macro_f1"]),
        ]
        for p in report["learning_curve"]
    ]
    curve_table = _table(
        [
            ("version", False),
            ("clips", True),
            ("acc. consensus", True),
            ("n", True),
            ("acc. gold", True),
            ("n", True),
            ("macro F1", True),
        ],
        curve_rows,
    )
    curve = join(
        [
            svg.curve(report["learning_curve"], [("consensus", svg.BAR), ("gold", svg.LINE)]),
            curve_table,
        ]
    )
    return fmt(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>{title}</title><style>{style}</style></head><body><main>"
        "<h1>{title}</h1>"
        '<p class="summary">against the consensus of {confident} of {consensus} clips with '
        "confidence ≥ {threshold:g} (gold clips left out), and against {gold} gold clips</p>"
        '<div class="cards">{cards}</div>{against_consensus}{against_gold}'
        "<section><h2>learning curve</h2>{curve}</section>"
        "</main></body></html>",
        title=title,
        style=Safe(STYLE),
        confident=report["confident_clips"],
        consensus=report["consensus_clips"],
        threshold=report["threshold"],
        gold=report["gold_clips"],
        cards=cards,
        against_consensus=_section_html("against confident consensus", cons),
        against_gold=_section_html("against gold", gold),
        curve=curve,
    )
