// A/B comparison of two runs: per-metric B − A with paired-bootstrap intervals (forest plot and
// table), and the questions whose key metric improved or regressed.
import { api } from "./api.js";
import { t } from "./i18n.js";
import { forestPlot } from "./charts.js";
import { errorBox, field, h, metricName, showError, table } from "./ui.js";
import { metricValue, questionText, statusBadge, targetLabel } from "./evalparts.js";

const SHOWN = 50;

export async function evalComparePage(view, a, b, metric) {
  const err = errorBox();
  view.replaceChildren(h("p.crumbs", h("a", { href: "#/evals" }, t("evals_title")), " / ", `#${a} ↔ #${b}`),
    h("h1", `${t("compare")}: #${a} ↔ #${b}`), err);
  let cmp;
  try {
    cmp = await api("GET", `/v1/evals/compare?a=${a}&b=${b}${metric ? `&metric=${encodeURIComponent(metric)}` : ""}`);
  } catch (e) { showError(e, err); return; }
  const side = (title, r) => h("section.card", h("h2", title),
    h("p", h("a", { href: `#/evals/runs/${r.id}` }, `#${r.id}`), " · ", r.set, " · ", targetLabel(r.target), " ", statusBadge(r.status)));
  const pick = h("select", { id: "cmp-metric" }, cmp.deltas.map((d) => h("option", { value: d.metric, selected: d.metric === cmp.key_metric }, d.metric)));
  pick.addEventListener("change", () => evalComparePage(view, a, b, pick.value));
  const rows = cmp.deltas.map((d) => ({ label: metricName(d.metric), delta: d.delta, low: d.low, high: d.high, significant: d.significant }));
  view.append(
    h("div.split", side(t("run_a"), cmp.run_a), side(t("run_b"), cmp.run_b)),
    h("section.card", { "aria-labelledby": "d-h" }, h("h2", { id: "d-h" }, t("deltas_chart")),
      forestPlot({ rows, label: t("deltas_chart") }),
      table([t("metric"), "A", "B", "B − A", t("interval"), "", "n"], cmp.deltas.map((d) => h("tr", { "data-metric": d.metric },
        h("td", metricName(d.metric)), h("td.n", metricValue(d.a)), h("td.n", metricValue(d.b)),
        h("td.n", d.delta === null ? "—" : `${d.delta > 0 ? "+" : ""}${metricValue(d.delta)}`),
        h("td.n", `${metricValue(d.low)} – ${metricValue(d.high)}`),
        h("td", d.significant ? h("span.badge.ready", t("significant")) : h("span.badge", t("not_significant"))),
        h("td.n", d.n))), t("deltas_chart"))),
    h("section.card", { "aria-labelledby": "c-h" }, h("h2", { id: "c-h" }, `${t("key_metric")}: ${cmp.key_metric}`),
      field(t("key_metric"), pick),
      cmp.only_in_a || cmp.only_in_b ? h("p.muted", `${t("only_in")} A: ${cmp.only_in_a} · ${t("only_in")} B: ${cmp.only_in_b}`) : null,
      h("div.split", changes(t("improved"), cmp.improved), changes(t("regressed"), cmp.regressed))));
}

function changes(title, list) {
  return h("div", h("h3", `${title} (${list.length})`),
    list.length ? h("ol.changes", list.slice(0, SHOWN).map((c) => h("li", { "data-question": c.id },
      h("strong", c.id), " ", questionText(c), h("br"),
      h("small.muted", `${metricValue(c.a)} → ${metricValue(c.b)} (${c.delta > 0 ? "+" : ""}${metricValue(c.delta)})`))))
      : h("p.muted", t("none_yet")));
}
