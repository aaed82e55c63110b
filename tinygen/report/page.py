"""The report page: one self-contained HTML file (inline CSS and SVG, energy
traces as base64 PNG, no scripts, nothing fetched from the network)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from markupsafe import Markup

from tinygen import __version__
from tinygen.render import render_html
from tinygen.report import svg
from tinygen.report.collect import Entry, System


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def roc_points(labels: dict[str, int], scores: dict[str, float]) -> list[tuple[float, float]]:
    """The ROC curve's corners: (false positive rate, true positive rate), ties grouped."""
    names = [n for n in scores if n in labels]
    positives = sum(1 for n in names if labels[n] == 1)
    negatives = len(names) - positives
    if not positives or not negatives:
        return []
    ordered = sorted(names, key=lambda n: -scores[n])
    points, tp, fp, i = [(0.0, 0.0)], 0, 0, 0
    while i < len(ordered):
        j = i
        while j < len(ordered) and scores[ordered[j]] == scores[ordered[i]]:
            tp += labels[ordered[j]] == 1
            fp += labels[ordered[j]] != 1
            j += 1
        points.append((fp / negatives, tp / positives))
        i = j
    return points


def _confusion(acc: dict[str, Any]) -> dict[str, Any] | None:
    inferences = [i for i in acc.get("inferences") or [] if i.get("label") is not None]
    if not inferences or acc.get("metric") == "auc":
        return None
    preds = []
    for inf in inferences:
        predicted = inf.get("predicted")
        if predicted is None and inf.get("values"):
            values = inf["values"]
            predicted = max(range(len(values)), key=lambda k: values[k])
        preds.append(predicted)
    classes = max([int(i["label"]) for i in inferences] + [int(p) for p in preds if p is not None]) + 1
    matrix = [[0] * classes for _ in range(classes)]
    for inf, p in zip(inferences, preds):
        if p is not None:
            matrix[int(inf["label"])][int(p)] += 1
    peak = max(max(row) for row in matrix) or 1
    rows = []
    for c, row in enumerate(matrix):
        total = sum(row)
        rows.append({"label": c, "cells": [{"count": n, "shade": round(0.85 * n / peak, 3),
                                            "diagonal": k == c} for k, n in enumerate(row)],
                     "total": total, "correct": row[c],
                     "accuracy": row[c] / total if total else None})
    return {"classes": list(range(classes)), "rows": rows}


def _roc(acc: dict[str, Any]) -> dict[str, Any] | None:
    if acc.get("metric") != "auc":
        return None
    labels = {}
    for inf in acc.get("inferences") or []:
        if inf.get("label") is not None:
            labels[inf.get("file") or inf.get("stimulus")] = int(inf["label"])
    scores = {k: float(v) for k, v in (acc.get("file_scores") or {}).items()}
    points = roc_points(labels, scores)
    return {"svg": Markup(svg.roc_curve(points, _number(acc.get("auc")))) if points else None,
            "files": len(scores), "normal": sum(1 for k in scores if labels.get(k) == 0),
            "anomaly": sum(1 for k in scores if labels.get(k) == 1)}


def _latency(perf: dict[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(perf, dict) or not perf.get("windows"):
        return None
    windows = perf["windows"]
    rates = [_number(w.get("throughput")) or 0.0 for w in windows]
    median = _number(perf.get("median_throughput"))
    return {"windows": windows, "median": median, "latency_ms": _number(perf.get("latency_ms")),
            "scaled": perf.get("scaled_for_emulator"),
            "svg": Markup(svg.bar_chart(rates, [f"window {i}" for i in range(1, len(rates) + 1)],
                                        "inferences per second", median))}


def _energy(energy: Any, traces: list[tuple[str, str]]) -> dict[str, Any] | None:
    if not isinstance(energy, dict) or not energy.get("windows"):
        return None
    windows = energy["windows"]
    per = [_number(w.get("uj_per_inference")) or 0.0 for w in windows]
    median = _number(energy.get("median_uj_per_inference"))
    return {"windows": windows, "median": median, "validity": energy.get("validity"),
            "estimate": energy.get("estimate"), "traces": traces,
            "svg": Markup(svg.bar_chart(per, [f"window {i}" for i in range(1, len(per) + 1)],
                                        "uJ per inference", median))}


def _build(size: dict[str, Any] | None) -> dict[str, Any] | None:
    if not size:
        return None
    parts = size.get("parts") or {}
    flash = [(p, int(v.get("flash", 0))) for p, v in parts.items() if v.get("flash")]
    ram = [(p, int(v.get("ram", 0))) for p, v in parts.items() if v.get("ram")]
    if not flash:
        flash = [("image", int(size.get("flash_bytes") or 0))]
    if not ram:
        ram = [("image", int(size.get("ram_bytes") or 0))]
    return {"flash_svg": Markup(svg.stacked_bar(flash, size.get("flash_capacity"), "flash")),
            "ram_svg": Markup(svg.stacked_bar(ram, size.get("ram_capacity"), "RAM")),
            "stack_note": size.get("stack_note")}


def _profile(entry: Entry) -> dict[str, Any] | None:
    rows = entry.data.get("rows") if entry.kind == "profile" else entry.data.get("profile")
    if not rows:
        return None
    bars = [(f"#{r.get('op')} {r.get('kind')} {r.get('summary', '')}".strip(),
             float(r.get("instructions") or 0), float(r.get("share") or 0)) for r in rows]
    return {"rows": rows, "svg": Markup(svg.share_bars(bars, "instructions per inference")),
            "stack": entry.data.get("stack_bytes")}


def _metric(acc: dict[str, Any] | None) -> str | None:
    if not isinstance(acc, dict):
        return None
    if acc.get("metric") == "auc":
        auc = _number(acc.get("auc"))
        return f"AUC {auc:.3f}" if auc is not None else "AUC undefined"
    top1 = _number(acc.get("top1"))
    return f"top-1 {100 * top1:.1f}%" if top1 is not None else "top-1 undefined"


def entry_view(entry: Entry, anchor: str) -> dict[str, Any]:
    data = entry.data
    acc = data.get("accuracy") if isinstance(data.get("accuracy"), dict) else None
    return {
        "anchor": anchor, "title": entry.title, "folder": str(entry.folder), "kind": entry.kind,
        "bench": entry.bench, "board": entry.board, "data": data,
        "emulation": data.get("emulation"), "validity": data.get("validity"),
        "checks": data.get("checks") or [], "build": _build(entry.size),
        "latency": _latency(data.get("performance")),
        "accuracy": acc, "metric": _metric(acc), "confusion": _confusion(acc) if acc else None,
        "roc": _roc(acc) if acc else None,
        "energy": _energy(data.get("energy"), entry.traces), "profile": _profile(entry),
    }


def _summary(system: System, views: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """One column per bench: the figures of each kind of run, and their validity."""
    columns = []
    for bench in system.benches:
        cells: dict[str, Any] = {"bench": bench, "runs": []}
        for e in system.entries:
            if e.bench != bench:
                continue
            v = views[id(e)]
            validity = v["validity"] or {}
            cells["runs"].append({"kind": e.kind, "anchor": v["anchor"],
                                  "valid": validity.get("valid"),
                                  "reasons": validity.get("reasons") or []})
            if v["latency"] and "latency" not in cells:
                cells["latency"] = v["latency"]
            if v["metric"] and "metric" not in cells:
                cells["metric"] = v["metric"]
                cells["verdict"] = (v["accuracy"] or {}).get("target_verdict")
            if v["energy"] and "energy" not in cells:
                cells["energy"] = v["energy"]
            if v["build"] and "size" not in cells:
                cells["size"] = e.size
        columns.append(cells)
    return columns


def render_report(systems: list[System], title: str | None = None) -> str:
    views: dict[int, dict[str, Any]] = {}
    counter = 0
    for system in systems:
        for e in system.entries:
            counter += 1
            views[id(e)] = entry_view(e, f"run-{counter}")
    page = [{"name": s.name, "description": s.description, "summary": _summary(s, views),
             "entries": [views[id(e)] for e in s.entries]} for s in systems]
    runs = sum(len(s.entries) for s in systems)
    return render_html(
        "page.html.j2", title=title or ("tinygen report: " + ", ".join(s.name for s in systems)),
        systems=page, runs=runs, version=__version__,
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def write_report(systems: list[System], out: Path, title: str | None = None) -> Path:
    out = Path(out)
    out.write_text(render_report(systems, title), encoding="utf-8")
    return out
