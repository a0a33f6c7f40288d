"""The tune chart: one self-contained HTML file (inline SVG, no script, no network) with p50 duration and cost
per invocation against memory size, the pick marked."""

from __future__ import annotations

import html

from lamina.tune.sweep import Result

WIDTH, HEIGHT, PAD = 760, 400, 70


def _polyline(points: list[tuple[float, float]], colour: str) -> str:
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>' for x, y in points)
    return f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>{dots}'


def render(function: str, results: list[Result], chosen: Result, strategy: str) -> str:
    n = len(results)
    step = (WIDTH - 2 * PAD) / max(1, n - 1)
    xs = [PAD + i * step if n > 1 else WIDTH / 2 for i in range(n)]
    top_ms = max((r.p(0.5) for r in results), default=1.0) or 1.0
    top_cost = max((r.cost_usd for r in results), default=1.0) or 1.0
    plot = HEIGHT - 2 * PAD

    def y(value: float, top: float) -> float:
        return HEIGHT - PAD - value / top * plot

    durations = [(x, y(r.p(0.5), top_ms)) for x, r in zip(xs, results, strict=True)]
    costs = [(x, y(r.cost_usd, top_cost)) for x, r in zip(xs, results, strict=True)]
    labels = "".join(
        f'<text x="{x:.1f}" y="{HEIGHT - PAD + 22}" text-anchor="middle">{r.memory} MB</text>'
        for x, r in zip(xs, results, strict=True)
    )
    pick = xs[results.index(chosen)]
    rows = "".join(
        f"<tr{' class=best' if r is chosen else ''}><td>{r.memory}</td><td>{r.p(0.5):.2f}</td>"
        f"<td>{r.p(0.99):.2f}</td><td>{r.cost_usd:.10f}</td><td>{r.errors}</td></tr>"
        for r in results
    )
    name = html.escape(function)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lamina tune {name}</title>
<style>body{{font:14px system-ui,sans-serif;margin:24px;color:#222}} svg text{{font-size:12px}}
table{{border-collapse:collapse;margin-top:16px}} td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}
tr.best{{background:#e8f5e9;font-weight:600}} .k1{{color:#1565c0}} .k2{{color:#ef6c00}}</style></head>
<body><h1>lamina tune: {name}</h1>
<p>Strategy <b>{html.escape(strategy)}</b>; best: <b id="best">{chosen.memory} MB</b>.
<span class="k1">&#9632; p50 duration (ms, left)</span>
<span class="k2">&#9632; cost per invocation (USD, right)</span></p>
<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img"
 aria-label="duration and cost against memory">
<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>
<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>
<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#1565c0"/>
<line x1="{WIDTH - PAD}" y1="{PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#ef6c00"/>
<text x="{PAD - 8}" y="{PAD - 8}" text-anchor="end" fill="#1565c0">{top_ms:.1f} ms</text>
<text x="{WIDTH - PAD}" y="{PAD - 8}" text-anchor="middle" fill="#ef6c00">{top_cost:.3g} $</text>
<line x1="{pick:.1f}" y1="{PAD}" x2="{pick:.1f}" y2="{HEIGHT - PAD}" stroke="#2e7d32" stroke-dasharray="4 4"/>
{_polyline(durations, "#1565c0")}{_polyline(costs, "#ef6c00")}{labels}
</svg>
<table><tr><th>memory (MB)</th><th>p50 (ms)</th><th>p99 (ms)</th><th>cost / invocation (USD)</th><th>errors</th></tr>
{rows}</table></body></html>
"""
