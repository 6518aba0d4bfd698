// SVG charts drawn by hand (no library): lines over time, bars with interval whiskers,
// histograms and a forest plot of deltas. Each chart has a <title> per mark and a text label.
import { t } from "./i18n.js";
import { h } from "./ui.js";

const NS = "http://www.w3.org/2000/svg";
export const PALETTE = ["#1f5fbf", "#d9822b", "#2e8b57", "#b03a48", "#7b5ea7", "#3a9ca8", "#8c6d31", "#c2478c"];

export function svg(tag, attrs = {}, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  return n;
}

function frame(W, H, label) {
  return svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label });
}

// "nice" upper bound and tick step for an axis from 0 to max (whole steps for counts)
function ticks(max, n = 4, whole = false) {
  if (!(max > 0)) return whole ? { top: 1, step: 1 } : { top: 1, step: 0.25 };
  const raw = max / n, mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  if (whole) step = Math.max(1, Math.ceil(step));
  return { top: step * Math.ceil(max / step), step };
}

export function fmt(v, digits) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (digits !== undefined) return Number(v).toFixed(digits);
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (a >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return v.toPrecision(2);
}

function yAxis(g, x0, x1, y, top, step, format) {
  for (let v = 0; v <= top + step / 2; v += step) {
    const yy = y(v);
    g.append(svg("line", { x1: x0, x2: x1, y1: yy, y2: yy, class: "grid" }));
    g.append(svg("text", { x: x0 - 4, y: yy + 4, "text-anchor": "end" }, format(v)));
  }
}

// Lines over shared x labels: series = [{name, values: [number|null per label]}]
export function lineChart({ labels, series, label, format = fmt }) {
  const W = 720, H = 240, L = 52, R = 12, T = 12, B = 30;
  const max = Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v !== null)));
  const { top, step } = ticks(max);
  const x = (i) => L + (labels.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (labels.length - 1));
  const y = (v) => H - B - ((H - T - B) * v) / top;
  const root = frame(W, H, label);
  yAxis(root, L, W - R, y, top, step, format);
  const every = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((lab, i) => {
    const last = i === labels.length - 1;
    if ((i % every === 0 && labels.length - 1 - i >= every / 2) || last) {
      root.append(svg("text", { x: x(i), y: H - 10, "text-anchor": last && labels.length > 1 ? "end" : "middle" }, lab));
    }
  });
  series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length];
    const pts = s.values.map((v, i) => (v === null ? null : [x(i), y(v)]));
    let d = "", pen = false;
    for (const p of pts) {
      if (!p) { pen = false; continue; }
      d += `${pen ? "L" : "M"}${p[0].toFixed(1)},${p[1].toFixed(1)}`;
      pen = true;
    }
    root.append(svg("path", { d, fill: "none", stroke: color, "stroke-width": 2, class: "series" }));
    pts.forEach((p, i) => {
      if (!p) return;
      const dot = svg("circle", { cx: p[0], cy: p[1], r: 3, fill: color });
      dot.append(svg("title", {}, `${s.name} · ${labels[i]}: ${format(s.values[i])}`));
      root.append(dot);
    });
  });
  const legend = h("p.legend", series.map((s, k) => h("span", h("i", { style: `background:${PALETTE[k % PALETTE.length]}` }), s.name)));
  return h("figure.chart-box", root, legend);
}

// Vertical bars with optional [low, high] whiskers: items = [{label, value, low, high}]
export function barChart({ items, label, top: fixedTop, format = fmt, whole = false, width = 720 }) {
  const longest = Math.max(1, ...items.map((i) => String(i.label).length));
  const W = width, L = 44, R = 10, T = 12, B = 18 + Math.min(110, 5.6 * longest), H = 180 + B;
  const max = fixedTop ?? Math.max(0, ...items.map((i) => Math.max(i.value ?? 0, i.high ?? 0)));
  const { top, step } = fixedTop ? { top: fixedTop, step: fixedTop / 4 } : ticks(max, 4, whole);
  const slot = (W - L - R) / Math.max(1, items.length), bw = Math.min(36, slot * 0.6);
  const y = (v) => H - B - ((H - T - B) * Math.max(0, Math.min(v, top))) / top;
  const root = frame(W, H, label);
  yAxis(root, L, W - R, y, top, step, format);
  items.forEach((it, i) => {
    const cx = L + slot * i + slot / 2, g = svg("g");
    g.append(svg("title", {}, `${it.label}: ${format(it.value)}${it.low !== undefined && it.low !== null ? ` [${format(it.low)}, ${format(it.high)}]` : ""}`));
    g.append(svg("rect", { x: cx - bw / 2, y: y(it.value ?? 0), width: bw, height: Math.max(0, H - B - y(it.value ?? 0)), class: "bar1" }));
    if (it.low !== undefined && it.low !== null && it.high !== null) {
      g.append(svg("line", { x1: cx, x2: cx, y1: y(it.low), y2: y(it.high), class: "whisker" }));
      for (const v of [it.low, it.high]) g.append(svg("line", { x1: cx - 5, x2: cx + 5, y1: y(v), y2: y(v), class: "whisker" }));
    }
    g.append(svg("text", { x: cx, y: H - B + 14, "text-anchor": "end", transform: `rotate(-35 ${cx} ${H - B + 14})` }, it.label));
    root.append(g);
  });
  return h("figure.chart-box", root);
}

// Counts per bin: bins = [{label, count}]
export function histogram({ bins, label }) {
  return barChart({ items: bins.map((b) => ({ label: b.label, value: b.count })), label, whole: true, width: 460,
    format: (v) => fmt(v, 0) });
}

// Horizontal intervals around zero: rows = [{label, delta, low, high, significant}]
export function forestPlot({ rows, label }) {
  const W = 720, rowH = 22, L = 150, R = 70, T = 10, B = 24, H = T + B + rowH * rows.length;
  const ext = Math.max(0.05, ...rows.flatMap((r) => [Math.abs(r.low ?? 0), Math.abs(r.high ?? 0), Math.abs(r.delta ?? 0)]));
  const x = (v) => L + ((v + ext) / (2 * ext)) * (W - L - R);
  const root = frame(W, H, label);
  root.append(svg("line", { x1: x(0), x2: x(0), y1: T, y2: H - B, class: "zero" }));
  for (const v of [-ext, 0, ext]) root.append(svg("text", { x: x(v), y: H - 6, "text-anchor": "middle" }, fmt(v, 2)));
  rows.forEach((r, i) => {
    const cy = T + rowH * i + rowH / 2, g = svg("g", { class: r.significant ? "sig" : "ns" });
    g.append(svg("title", {}, `${r.label}: ${fmt(r.delta, 3)} [${fmt(r.low, 3)}, ${fmt(r.high, 3)}] ${r.significant ? t("significant") : t("not_significant")}`));
    g.append(svg("text", { x: L - 8, y: cy + 4, "text-anchor": "end" }, r.label));
    if (r.low !== null && r.high !== null) g.append(svg("line", { x1: x(r.low), x2: x(r.high), y1: cy, y2: cy, class: "whisker" }));
    if (r.delta !== null) g.append(svg("circle", { cx: x(r.delta), cy, r: 4 }));
    g.append(svg("text", { x: W - R + 6, y: cy + 4 }, r.delta === null ? "—" : `${r.delta > 0 ? "+" : ""}${fmt(r.delta, 3)}`));
    root.append(g);
  });
  return h("figure.chart-box", root);
}
