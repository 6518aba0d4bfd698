// Usage: tokens, cost, latency and requests over time per assistant or API key (line chart),
// the figures grouped one way (table), and the feedback given.
import { api } from "./api.js";
import { t } from "./i18n.js";
import { fmt, lineChart } from "./charts.js";
import { errorBox, field, fmtTime, h, num, showError, table, timeZone } from "./ui.js";

// days are counted in this browser's time zone (the API sums UTC hours into its days)
const TZ = timeZone();

const METRICS = [
  ["tokens", "tokens", (p) => p.input_tokens + p.output_tokens, (v) => fmt(v)],
  ["cost", "cost", (p) => p.cost, (v) => fmt(v, 4)],
  ["latency", "avg_latency", (p) => p.avg_latency_ms, (v) => fmt(v, 0)],
  ["requests", "requests", (p) => p.requests, (v) => fmt(v, 0)],
];
const MAX_SERIES = 8;

export async function usagePage(view, groupBy = "assistant") {
  const err = errorBox();
  const pick = h("select", { id: "group-by" }, [["assistant", "by_assistant"], ["key", "by_key"], ["day", "by_day"]]
    .map(([v, k]) => h("option", { value: v, selected: v === groupBy }, t(k))));
  pick.addEventListener("change", () => usagePage(view, pick.value));
  const usage = h("div", h("p.muted", t("loading")));
  const fb = h("div");
  const over = h("section.card", { "aria-labelledby": "over-h" }, h("h2", { id: "over-h" }, t("usage_over_time")));
  view.replaceChildren(h("h1", t("usage_title")), err, over,
    h("section.card", h("div.row", h("label", { htmlFor: "group-by" }, t("group_by")), pick), usage),
    h("section.card", h("h2", t("feedback_title")), fb));
  overTime(over, err);
  try {
    const rows = await api("GET", `/v1/usage?group_by=${groupBy}&tz=${encodeURIComponent(TZ)}`);
    const max = Math.max(1, ...rows.map((r) => r.requests));
    usage.replaceChildren(rows.length ? table(
      [t("group"), t("requests"), t("calls"), t("input_tokens"), t("output_tokens"), t("cost"), t("avg_latency"), t("max_latency")],
      rows.map((r) => h("tr", { "data-group": String(r.group) },
        h("td", r.group === null ? "—" : String(r.group)),
        h("td.n", h("span.bar", { style: `--w:${(100 * r.requests) / max}%` }), String(r.requests)),
        h("td.n", r.calls), h("td.n", r.input_tokens), h("td.n", r.output_tokens), h("td.n", num(r.cost, 4)),
        h("td.n", num(r.avg_latency_ms, 0)), h("td.n", num(r.max_latency_ms, 0)))),
      t("usage_title")) : h("p.muted", t("none_yet")));
  } catch (e) { showError(e, err); usage.replaceChildren(); }
  try {
    const rows = await api("GET", "/v1/feedback");
    const mark = (r) => (r > 0 ? t("helpful") : r < 0 ? t("not_helpful") : "·");
    fb.replaceChildren(rows.length ? table([t("rating"), t("assistant"), t("question"), t("answer"), t("correction"), t("when")],
      rows.map((r) => h("tr.feedback-row", h("td", { "aria-label": String(r.rating) }, mark(r.rating)), h("td", r.assistant || "—"),
        h("td", r.question), h("td.clip", r.answer), h("td", r.corrected_answer || r.comment || ""),
        h("td", fmtTime(r.created_at)))), t("feedback_title")) : h("p.muted", t("none_yet")));
  } catch (e) { showError(e, err); }
}

// The "over time" card: controls, the chart and its data as a table.
function overTime(card, err) {
  const by = h("select", { id: "series-by" }, [["assistant", "by_assistant"], ["key", "by_key"]]
    .map(([v, k]) => h("option", { value: v }, t(k))));
  const metric = h("select", { id: "series-metric" }, METRICS.map(([v, k]) => h("option", { value: v }, t(k))));
  const bucket = h("select", { id: "series-bucket" }, [["day", "by_day"], ["hour", "by_hour"]]
    .map(([v, k]) => h("option", { value: v }, t(k))));
  const out = h("div", { id: "usage-chart" }, h("p.muted", t("loading")));
  let points = [];
  const draw = () => out.replaceChildren(seriesChart(points, by.value, bucket.value, metric.value));
  const load = async () => {
    try {
      points = (await api("GET", `/v1/usage/series?by=${by.value}&bucket=${bucket.value}&tz=${encodeURIComponent(TZ)}`)).points;
      draw();
    } catch (e) { showError(e, err); out.replaceChildren(); }
  };
  by.addEventListener("change", load);
  bucket.addEventListener("change", load);
  metric.addEventListener("change", draw);
  card.append(h("div.grid.controls", field(t("per"), by), field(t("metric"), metric), field(t("interval_of"), bucket)), out);
  load();
}

// Every bucket from the first to the last (at least 14 days or 24 hours, at most 90 days or
// 7×24 hours), so gaps show as zero.
function buckets(present, unit) {
  if (!present.length) return [];
  const parse = (b) => new Date(unit === "day" ? `${b}T00:00:00Z` : `${b}:00:00Z`);
  const step = unit === "day" ? 864e5 : 36e5, cap = unit === "day" ? 90 : 168, least = unit === "day" ? 14 : 24;
  const last = parse(present[present.length - 1]).getTime();
  const first = Math.max(Math.min(parse(present[0]).getTime(), last - (least - 1) * step), last - (cap - 1) * step);
  const out = [];
  for (let v = first; v <= last; v += step) out.push(new Date(v).toISOString().slice(0, unit === "day" ? 10 : 13));
  return out;
}

function groupName(p, by) {
  if (by === "key") return p.group === null ? t("session_users") : p.label || `#${p.group}`;
  return p.group === null ? t("deleted_assistant") : String(p.group);
}

function seriesChart(points, by, unit, metricKey) {
  if (!points.length) return h("p.muted", t("none_yet"));
  const [, labelKey, value, format] = METRICS.find((m) => m[0] === metricKey);
  const labels = buckets([...new Set(points.map((p) => p.bucket))].sort(), unit);
  const groups = new Map();
  for (const p of points) {
    const name = groupName(p, by);
    if (!groups.has(name)) groups.set(name, { name, by: new Map(), total: 0 });
    const g = groups.get(name);
    g.by.set(p.bucket, p);
    g.total += p.input_tokens + p.output_tokens + p.requests;
  }
  const top = [...groups.values()].sort((a, b) => b.total - a.total).slice(0, MAX_SERIES);
  const gap = metricKey === "latency" ? null : 0; // no calls: zero tokens, but no latency
  const series = top.map((g) => ({ name: g.name, values: labels.map((b) => (g.by.has(b) ? value(g.by.get(b)) : gap)) }));
  // hours are UTC hours shown in local time; days are this browser's calendar days
  const local = labels.map((b) => (unit === "day" ? b : fmtTime(`${b}:00:00Z`)));
  const short = labels.map((b, i) => (unit === "day" ? b.slice(5) : local[i].slice(5, 13) + "h"));
  const chart = lineChart({ labels: short, series, label: `${t(labelKey)} — ${t("usage_over_time")}`, format });
  const data = h("details.data", h("summary", t("show_data")), table([t(unit === "day" ? "by_day" : "by_hour"), ...series.map((s) => s.name)],
    labels.map((b, i) => h("tr", h("td", local[i]), series.map((s) => h("td.n", format(s.values[i]))))), t(labelKey)));
  return h("div", chart, data);
}
