"""A model's evaluation (`hub.models.evaluate.model_report`) as text for the terminal and as
one self-contained page: inline CSS and inline SVG, no scripts, nothing fetched;
:data:`STYLE_CSP` is the CSP source that allows its one ``<style>`` element."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import msgspec

from ..consensus.calibration import Reliability
from . import svg
from .html import Safe, fmt, join, table

__all__ = ["STYLE", "STYLE_CSP", "render_html", "render_text"]


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
    label_table = table(
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
        table=label_table,
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
    curve_table = table(
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
