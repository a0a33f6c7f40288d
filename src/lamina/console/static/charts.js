// Monitor charts drawn as SVG from the functions' REPORT log lines (read through FilterLogEvents): Lamina records
// no CloudWatch metrics yet, and every invocation writes one REPORT line with its duration and memory.

import { call } from "./api.js";
import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 560;
const H = 160;
const PAD = 34;
const BUCKETS = 30;
const MAX_PAGES = 20; // FilterLogEvents pages read per refresh (10,000 events each at most)

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function quantile(values, q) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export async function reports(group, since) {
  const found = [];
  let nextToken;
  for (let page = 0; page < MAX_PAGES; page++) {
    const params = { logGroupName: group, filterPattern: "REPORT", startTime: since, limit: 10000 };
    if (nextToken) params.nextToken = nextToken;
    const out = await call("logs", "FilterLogEvents", params);
    for (const e of out.events) {
      const duration = /(?<!Billed )(?<!Init )\bDuration: ([0-9.]+) ms/.exec(e.message);
      if (!e.message.startsWith("REPORT ") || !duration) continue;
      const memory = /Max Memory Used: ([0-9.]+) MB/.exec(e.message);
      const init = /Init Duration: ([0-9.]+) ms/.exec(e.message);
      found.push({ t: e.timestamp, duration: Number(duration[1]), memory: memory ? Number(memory[1]) : null, cold: !!init });
    }
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  return found;
}

export function chart(title, series, { unit = "", from, to, summary = "" }) {
  // series: [{label, points: [[t, value|null], ...], cls}]
  const all = series.flatMap((s) => s.points.map(([, v]) => v)).filter((v) => v !== null);
  const top = Math.max(1, ...all);
  const x = (t) => PAD + ((t - from) / Math.max(1, to - from)) * (W - PAD - 8);
  const y = (v) => H - 20 - (v / top) * (H - 34);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, class: "chart-svg" });
  root.append(svg("line", { x1: PAD, y1: H - 20, x2: W - 8, y2: H - 20, class: "axis" }));
  root.append(svg("text", { x: 2, y: 18, class: "tick" }, `${Math.round(top * 100) / 100}${unit}`));
  root.append(svg("text", { x: 2, y: H - 22, class: "tick" }, `0${unit}`));
  root.append(svg("text", { x: PAD, y: H - 4, class: "tick" }, new Date(from).toISOString().slice(11, 16)));
  root.append(svg("text", { x: W - 48, y: H - 4, class: "tick" }, new Date(to).toISOString().slice(11, 16)));
  for (const s of series) {
    const pts = s.points.filter(([, v]) => v !== null).map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`);
    if (pts.length) root.append(svg("polyline", { points: pts.join(" "), class: `line ${s.cls}` }));
    for (const p of pts) {
      const [cx, cy] = p.split(",");
      root.append(svg("circle", { cx, cy, r: 2.5, class: `dot ${s.cls}` }));
    }
  }
  const legend = h("p", { class: "legend" }, series.map((s) => h("span", { class: `key ${s.cls}` }, s.label)));
  return h("figure", { class: "chart", testid: "monitoring-chart" }, h("figcaption", {}, title, summary ? h("span", { class: "muted", testid: "chart-summary" }, ` (${summary})`) : null), root, legend);
}

export function charts(found, from, to) {
  const width = (to - from) / BUCKETS;
  const buckets = Array.from({ length: BUCKETS }, () => []);
  for (const r of found) {
    const i = Math.min(BUCKETS - 1, Math.max(0, Math.floor((r.t - from) / width)));
    buckets[i].push(r);
  }
  const at = (i) => from + (i + 0.5) * width;
  const series = (fnOf) => buckets.map((b, i) => [at(i), fnOf(b)]);
  const durations = found.map((r) => r.duration);
  const p99 = quantile(durations, 0.99);
  const memory = found.map((r) => r.memory ?? 0);
  return [
    chart("Invocations", [{ label: "invocations", cls: "s1", points: series((b) => b.length) },
      { label: "cold starts", cls: "s2", points: series((b) => b.filter((r) => r.cold).length) }],
      { from, to, summary: `${found.length} in range` }),
    chart("Duration", [{ label: "p50", cls: "s1", points: series((b) => quantile(b.map((r) => r.duration), 0.5)) },
      { label: "p99", cls: "s2", points: series((b) => quantile(b.map((r) => r.duration), 0.99)) }], { unit: " ms", from, to, summary: p99 === null ? "no data" : `p99 ${p99} ms` }),
    chart("Max memory used", [{ label: "max", cls: "s1", points: series((b) => (b.length ? Math.max(...b.map((r) => r.memory ?? 0)) : null)) }],
      { unit: " MB", from, to, summary: memory.length ? `max ${Math.max(...memory)} MB` : "no data" }),
  ];
}
