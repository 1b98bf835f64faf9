"""Charts as inline SVG, drawn here so the site needs no script or CDN to show them. Pure: no I/O.

Colours: text, axes and grid use the theme's foreground colour through CSS classes (see assets/site.css), so a
chart reads in light and dark mode alike; the series colours are mid-tone hues readable on both backgrounds.
"""

from __future__ import annotations

from html import escape

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#8c8c8c")
_W, _H, _LEFT, _BOTTOM, _TOP = 760, 260, 44, 38, 12


def _nice_max(value: int) -> int:
    step = 1
    while True:
        for m in (1, 2, 5):
            if value <= step * m * 4:
                return step * m * 4
        step *= 10


def _axes(months: list[str], top: int) -> list[str]:
    plot_h = _H - _BOTTOM - _TOP
    parts = []
    for i in range(5):
        value = top * i // 4
        y = _H - _BOTTOM - plot_h * i / 4
        parts.append(f'<line class="xs-grid" x1="{_LEFT}" x2="{_W}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="xs-axis" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>')
    every = max(1, len(months) // 12)
    band = (_W - _LEFT) / max(1, len(months))
    for i, month in enumerate(months):
        if i % every == 0:
            x = _LEFT + band * (i + 0.5)
            parts.append(f'<text class="xs-axis" x="{x:.1f}" y="{_H - _BOTTOM + 16}" text-anchor="middle">{month}</text>')
    return parts


def _legend(names: list[str]) -> str:
    items = "".join(
        f'<li><span class="xs-swatch" style="background:{PALETTE[i % len(PALETTE)]}"></span>{escape(n)}</li>'
        for i, n in enumerate(names)
    )
    return f'<ul class="xs-legend">{items}</ul>'


def _figure(title: str, svg_body: list[str], names: list[str]) -> str:
    label = escape(title)
    return (
        f'<figure class="xs-chart"><svg viewBox="0 0 {_W} {_H}" role="img" aria-label="{label}">'
        f"<title>{label}</title>{''.join(svg_body)}</svg>{_legend(names)}</figure>"
    )


def stacked_bars(title: str, months: list[str], series: dict[str, list[int]]) -> str:
    """One bar per month, one colour per series (e.g. scans per month by category)."""
    if not months or not series:
        return f'<p class="xs-empty">{escape(title)}: no dated scans yet.</p>'
    totals = [sum(values[i] for values in series.values()) for i in range(len(months))]
    top = _nice_max(max(totals) or 1)
    plot_h = _H - _BOTTOM - _TOP
    band = (_W - _LEFT) / len(months)
    bar = max(1.0, min(band * 0.8, 40.0))  # few months must not make slabs
    parts = _axes(months, top)
    for i, month in enumerate(months):
        y = float(_H - _BOTTOM)
        for k, (name, values) in enumerate(series.items()):
            if not values[i]:
                continue
            h = plot_h * values[i] / top
            y -= h
            x = _LEFT + band * i + (band - bar) / 2
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{PALETTE[k % len(PALETTE)]}">'
                f"<title>{escape(month)} · {escape(name)}: {values[i]}</title></rect>"
            )
    return _figure(title, parts, list(series))


def lines(title: str, months: list[str], series: dict[str, list[int]]) -> str:
    """One line per series over the months (e.g. keyword trends)."""
    if not months or not series:
        return f'<p class="xs-empty">{escape(title)}: nothing to draw yet.</p>'
    top = _nice_max(max((max(v) for v in series.values()), default=1) or 1)
    plot_h = _H - _BOTTOM - _TOP
    band = (_W - _LEFT) / len(months)
    parts = _axes(months, top)
    for k, (name, values) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        points = " ".join(
            f"{_LEFT + band * (i + 0.5):.1f},{_H - _BOTTOM - plot_h * v / top:.1f}" for i, v in enumerate(values)
        )
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
                     f"<title>{escape(name)}</title></polyline>")
    return _figure(title, parts, list(series))


def matrix(title: str, months: list[str], rows: dict[str, list[int]]) -> str:
    """A row per series, a dot per month sized by its count (e.g. the top recurring signals over time)."""
    if not months or not rows:
        return f'<p class="xs-empty">{escape(title)}: no recurring signal yet.</p>'
    label_w, row_h = 220, 22
    height = _TOP + row_h * len(rows) + 24
    band = (_W - label_w) / len(months)
    top = max((max(v) for v in rows.values()), default=1) or 1
    parts = []
    every = max(1, len(months) // 10)
    for i, month in enumerate(months):
        if i % every == 0:
            x = label_w + band * (i + 0.5)
            parts.append(f'<text class="xs-axis" x="{x:.1f}" y="{height - 6}" text-anchor="middle">{month}</text>')
    for r, (name, values) in enumerate(rows.items()):
        y = _TOP + row_h * (r + 0.5)
        short = name if len(name) <= 34 else name[:33] + "…"
        parts.append(f'<line class="xs-grid" x1="{label_w}" x2="{_W}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="xs-axis" x="{label_w - 8}" y="{y + 4:.1f}" text-anchor="end">'
                     f"<title>{escape(name)}</title>{escape(short)}</text>")
        for i, v in enumerate(values):
            if v:
                radius = 3 + 6 * v / top
                parts.append(
                    f'<circle cx="{label_w + band * (i + 0.5):.1f}" cy="{y:.1f}" r="{radius:.1f}" '
                    f'fill="{PALETTE[r % len(PALETTE)]}"><title>{escape(name)} · {months[i]}: {v}</title></circle>'
                )
    label = escape(title)
    return (
        f'<figure class="xs-chart"><svg viewBox="0 0 {_W} {height}" role="img" aria-label="{label}">'
        f"<title>{label}</title>{''.join(parts)}</svg></figure>"
    )
