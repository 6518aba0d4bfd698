// Usage: requests, tokens, cost and latency per assistant, key or day; and the feedback given.
import { api } from "./api.js";
import { t } from "./i18n.js";
import { errorBox, h, num, showError, table } from "./ui.js";

export async function usagePage(view, groupBy = "assistant") {
  const err = errorBox();
  const pick = h("select", { id: "group-by" }, [["assistant", "by_assistant"], ["key", "by_key"], ["day", "by_day"]]
    .map(([v, k]) => h("option", { value: v, selected: v === groupBy }, t(k))));
  pick.addEventListener("change", () => usagePage(view, pick.value));
  const usage = h("div", h("p.muted", t("loading")));
  const fb = h("div");
  const chart = h("div", { id: "usage-chart" });
  view.replaceChildren(h("h1", t("usage_title")), err,
    h("section.card", h("h2", t("per_day")), chart),
    h("section.card", h("div.row", h("label", { htmlFor: "group-by" }, t("group_by")), pick), usage),
    h("section.card", h("h2", t("feedback_title")), fb));
  try {
    const rows = await api("GET", `/v1/usage?group_by=${groupBy}`);
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
    chart.replaceChildren(dayChart(await api("GET", "/v1/usage?group_by=day")));
  } catch (e) { showError(e, err); }
  try {
    const rows = await api("GET", "/v1/feedback");
    const mark = (r) => (r > 0 ? t("helpful") : r < 0 ? t("not_helpful") : "·");
    fb.replaceChildren(rows.length ? table([t("rating"), t("assistant"), t("question"), t("answer"), t("correction"), t("when")],
      rows.map((r) => h("tr.feedback-row", h("td", { "aria-label": String(r.rating) }, mark(r.rating)), h("td", r.assistant || "—"),
        h("td", r.question), h("td.clip", r.answer), h("td", r.corrected_answer || r.comment || ""),
        h("td", r.created_at.slice(0, 16).replace("T", " ")))), t("feedback_title")) : h("p.muted", t("none_yet")));
  } catch (e) { showError(e, err); }
}

// Tokens (in + out, stacked) per day as an SVG bar chart, with the request count on top.
function dayChart(rows) {
  if (!rows.length) return h("p.muted", t("none_yet"));
  const days = rows.slice().sort((a, b) => String(a.group).localeCompare(String(b.group))).slice(-31);
  const W = 640, H = 200, pad = 28, bw = Math.min(40, (W - pad * 2) / days.length - 4);
  const max = Math.max(1, ...days.map((d) => d.input_tokens + d.output_tokens));
  const NS = "http://www.w3.org/2000/svg";
  const el = (tag, attrs, text) => {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    return n;
  };
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img",
    "aria-label": `${t("input_tokens")} / ${t("output_tokens")} — ${t("per_day")}` });
  days.forEach((d, i) => {
    const x = pad + i * ((W - pad * 2) / days.length) + 2;
    const hi = ((H - pad * 2) * d.input_tokens) / max, ho = ((H - pad * 2) * d.output_tokens) / max;
    const g = el("g", {});
    g.append(el("title", {}, `${d.group}: ${d.requests} ${t("requests")}, ${d.input_tokens} + ${d.output_tokens} tokens`));
    g.append(el("rect", { class: "b1", x, y: H - pad - hi, width: bw, height: hi }));
    g.append(el("rect", { class: "b2", x, y: H - pad - hi - ho, width: bw, height: ho }));
    g.append(el("text", { x: x + bw / 2, y: H - pad - hi - ho - 4, "text-anchor": "middle" }, String(d.requests)));
    g.append(el("text", { x: x + bw / 2, y: H - 8, "text-anchor": "middle" }, String(d.group).slice(5)));
    svg.append(g);
  });
  return h("div", svg, h("p.legend", h("span", h("i.b1", { style: "background:#6f95d6" }), t("input_tokens")),
    h("span", h("i", { style: "background:#e0a84a" }), t("output_tokens")), h("span.muted", `n = ${t("requests")}`)));
}
