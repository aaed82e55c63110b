"""Small inline SVG charts for the report page (no scripts, no external files)."""

from __future__ import annotations

from html import escape

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
           "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
            + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 11,
          extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{extra}>'
            f"{escape(text)}</text>")


def bar_chart(values: list[float], labels: list[str], unit: str,
              reference: float | None = None, reference_label: str = "median") -> str:
    """Vertical bars, one per value, with an optional reference line."""
    width, height, left, bottom, top = 140 + 70 * len(values), 240, 60, 40, 40
    peak = max([v for v in values if v is not None] + [reference or 0, 1e-12])
    scale = (height - bottom - top) / peak
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" '
            f'y2="{height - bottom}" stroke="#333"/>',
            _text(10, 14, unit, size=10)]
    for i, (value, label) in enumerate(zip(values, labels)):
        x = left + 10 + i * 70
        h = (value or 0) * scale
        body.append(f'<rect x="{x}" y="{height - bottom - h:.1f}" width="50" height="{h:.1f}" '
                    f'fill="{PALETTE[0]}"><title>{escape(label)}: {value:.4g} {escape(unit)}'
                    "</title></rect>")
        body.append(_text(x + 25, height - bottom - h - 4, f"{value:.4g}", "middle", 10))
        body.append(_text(x + 25, height - bottom + 14, label, "middle", 10))
    if reference is not None:
        y = height - bottom - reference * scale
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" '
                    'stroke="#e15759" stroke-dasharray="4 3"/>')
        body.append(_text(width - 12, y - 4, f"{reference_label} {reference:.4g}", "end", 10,
                          ' fill="#e15759"'))
    return _svg(width, height, body, f"bars of {unit}")


def stacked_bar(parts: list[tuple[str, int]], capacity: int | None, title: str) -> str:
    """One horizontal bar split into parts, against the capacity when known."""
    width, height, left, bar_w = 720, 58 + 16 * ((len(parts) + 3) // 4), 10, 700
    total = sum(v for _, v in parts)
    whole = max(capacity or 0, total, 1)
    body = [_text(left, 14, f"{title}: {total:,} B"
                  + (f" of {capacity:,} B ({100 * total / capacity:.1f}%)" if capacity else ""))]
    x = float(left)
    body.append(f'<rect x="{left}" y="20" width="{bar_w}" height="18" fill="#eee" stroke="#999"/>')
    for i, (name, value) in enumerate(parts):
        w = bar_w * value / whole
        body.append(f'<rect x="{x:.2f}" y="20" width="{w:.2f}" height="18" '
                    f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(name)}: {value:,} B'
                    "</title></rect>")
        x += w
    for i, (name, value) in enumerate(parts):
        col, row = i % 4, i // 4
        lx, ly = left + col * 175, 52 + row * 16
        body.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" '
                    f'fill="{PALETTE[i % len(PALETTE)]}"/>')
        body.append(_text(lx + 14, ly, f"{name} {value:,} B", size=10))
    return _svg(width, height, body, title)


def roc_curve(points: list[tuple[float, float]], auc: float | None) -> str:
    """False-positive rate against true-positive rate, with the chance diagonal."""
    size, pad = 260, 40
    span = size - 2 * pad

    def xy(fpr: float, tpr: float) -> str:
        return f"{pad + fpr * span:.1f},{size - pad - tpr * span:.1f}"

    body = [f'<rect x="{pad}" y="{pad}" width="{span}" height="{span}" fill="none" stroke="#333"/>',
            f'<polyline points="{xy(0, 0)} {xy(1, 1)}" fill="none" stroke="#bbb" '
            'stroke-dasharray="4 3"/>',
            f'<polyline points="{" ".join(xy(f, t) for f, t in points)}" fill="none" '
            f'stroke="{PALETTE[0]}" stroke-width="2"/>',
            _text(size / 2, size - 8, "false positive rate", "middle", 10),
            _text(12, size / 2, "true positive rate", "middle", 10,
                  f' transform="rotate(-90 12 {size / 2})"'),
            _text(pad + 6, pad + 14, f"AUC {auc:.3f}" if auc is not None else "AUC undefined")]
    return _svg(size, size, body, "ROC curve")


def share_bars(rows: list[tuple[str, float, float]], unit: str) -> str:
    """Horizontal bars (label, value, share of the total), e.g. per-layer time."""
    width, row_h, label_w = 760, 18, 300
    height = 10 + row_h * len(rows)
    peak = max([v for _, v, _ in rows] + [1e-12])
    body = []
    for i, (label, value, share) in enumerate(rows):
        y = 5 + i * row_h
        w = (width - label_w - 120) * value / peak
        body.append(_text(label_w - 6, y + 12, label, "end", 10))
        body.append(f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row_h - 5}" '
                    f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(label)}: '
                    f"{value:,.0f} {escape(unit)}</title></rect>")
        body.append(_text(label_w + w + 6, y + 12, f"{value:,.0f} ({100 * share:.1f}%)", size=10))
    return _svg(width, height, body, f"{unit} per layer")
