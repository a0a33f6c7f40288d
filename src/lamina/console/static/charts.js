// Monitor charts drawn as SVG from CloudWatch's AWS/Lambda metrics (GetMetricData through the console API:
// console/monitoring.py). Each chart is one <figure data-testid="monitoring-chart">; nothing here parses HTML.

import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 560;
const H = 160;
const PAD = 34;

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

const round = (v) => Math.round(v * 100) / 100;

export function chart(title, series, { unit = "", from, to, summary = "", top: fixedTop } = {}) {
  // series: [{label, points: [[t ms, value], ...], cls}]
  const all = series.flatMap((s) => s.points.map(([, v]) => v));
  const top = fixedTop ?? Math.max(1, ...all);
  const x = (t) => PAD + ((t - from) / Math.max(1, to - from)) * (W - PAD - 8);
  const y = (v) => H - 20 - (v / top) * (H - 34);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, class: "chart-svg" });
  root.append(svg("line", { x1: PAD, y1: H - 20, x2: W - 8, y2: H - 20, class: "axis" }));
  root.append(svg("text", { x: 2, y: 18, class: "tick" }, `${round(top)}${unit}`));
  root.append(svg("text", { x: 2, y: H - 22, class: "tick" }, `0${unit}`));
  root.append(svg("text", { x: PAD, y: H - 4, class: "tick" }, new Date(from).toISOString().slice(11, 16)));
  root.append(svg("text", { x: W - 48, y: H - 4, class: "tick" }, new Date(to).toISOString().slice(11, 16)));
  for (const s of series) {
    const pts = s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`);
    if (pts.length > 1) root.append(svg("polyline", { points: pts.join(" "), class: `line ${s.cls}` }));
    for (const p of pts) {
      const [cx, cy] = p.split(",");
      root.append(svg("circle", { cx, cy, r: 2.5, class: `dot ${s.cls}` }));
    }
  }
  const legend = h("p", { class: "legend" }, series.map((s) => h("span", { class: `key ${s.cls}` }, s.label)));
  return h("figure", { class: "chart", testid: "monitoring-chart" },
    h("figcaption", {}, title, summary ? h("span", { class: "muted", testid: "chart-summary" }, ` (${summary})`) : null),
    root, legend);
}

const total = (points) => points.reduce((s, [, v]) => s + v, 0);
const peak = (points) => (points.length ? Math.max(...points.map(([, v]) => v)) : null);

// data: the console API's /functions/<name>/metrics answer (epoch seconds; series of [t, value])
export function metricCharts(data) {
  const from = data.start * 1000;
  const to = data.end * 1000;
  const s = Object.fromEntries(Object.entries(data.series).map(([id, pts]) => [id, pts.map(([t, v]) => [t * 1000, v])]));
  // counts are 0 in a period without datapoints (GetMetricData returns only the periods that have some)
  const step = data.period * 1000;
  for (const id of ["invocations", "errors", "throttles"]) {
    const slots = Array.from({ length: Math.ceil((to - from) / step) }, (_, i) => [from + i * step, 0]);
    for (const [t, v] of s[id] || []) {
      const i = Math.floor((t - from) / step);
      if (slots[i]) slots[i][1] += v;
    }
    s[id] = slots;
  }
  const opts = (extra) => ({ from, to, ...extra });
  const invocations = total(s.invocations || []);
  const errors = total(s.errors || []);
  const p99 = s.durationP99 && s.durationP99.length ? s.durationP99 : null;
  const duration = [{ label: "average", cls: "s1", points: s.durationAvg || [] }];
  if (p99) {
    duration.push({ label: "p50", cls: "s3", points: s.durationP50 || [] }, { label: "p99", cls: "s2", points: p99 });
  } else {
    duration.push({ label: "maximum", cls: "s2", points: s.durationMax || [] });
  }
  const durationPeak = peak(p99 || s.durationMax || []);
  return [
    chart("Invocations", [{ label: "invocations (sum)", cls: "s1", points: s.invocations || [] }],
      opts({ summary: `${invocations} in range` })),
    chart("Duration", duration, opts({ unit: " ms", summary: durationPeak === null ? "no data" : `${p99 ? "p99" : "max"} ${round(durationPeak)} ms` })),
    chart("Errors", [{ label: "errors (sum)", cls: "s2", points: s.errors || [] }], opts({ summary: `${errors} in range` })),
    chart("Success rate", [{ label: "success rate (%)", cls: "s1", points: s.successRate || [] }],
      opts({ unit: "%", top: 100, summary: invocations ? `${round(100 - (100 * errors) / invocations)}%` : "no data" })),
    chart("Throttles", [{ label: "throttles (sum)", cls: "s2", points: s.throttles || [] }], opts({ summary: `${total(s.throttles || [])} in range` })),
    chart("Concurrent executions", [{ label: "maximum", cls: "s1", points: s.concurrent || [] }],
      opts({ summary: peak(s.concurrent || []) === null ? "no data" : `max ${peak(s.concurrent)}` })),
    chart("Async event age", [{ label: "maximum", cls: "s1", points: s.asyncAge || [] }],
      opts({ unit: " ms", summary: peak(s.asyncAge || []) === null ? "no data" : `max ${round(peak(s.asyncAge))} ms` })),
  ];
}
