// One evaluation run: summary, metric means with intervals, a metric's distribution, latency,
// and the per-question results (failing ones first by default) with what was expected.
import { api } from "./api.js";
import { t } from "./i18n.js";
import { barChart, fmt, histogram } from "./charts.js";
import { errorBox, field, fmtTime, h, showError, table } from "./ui.js";
import { metricValue, poll, questionText, statusBadge, targetLabel } from "./evalparts.js";
import { metricInfo, metricLabel, reasonBadges, reasonSummary } from "./evalwhy.js";

const PAGE = 50;

export async function evalRunPage(view, runId) {
  const err = errorBox();
  view.replaceChildren(h("p.crumbs", h("a", { href: "#/evals" }, t("evals_title")), " / ", `#${runId}`),
    h("h1", t("run_title", `#${runId}`)), err);
  let run;
  try { run = await api("GET", `/v1/evals/runs/${runId}`); } catch (e) { showError(e, err); return; }
  const s = run.summary, lat = s.latency_ms || {};
  const facts = [[t("eval_set"), run.set], [t("target"), targetLabel(run.target)], [t("top_k"), run.config.top_k],
    [t("questions"), s.questions ?? "—"], [t("failing_questions"), run.distributions.failing],
    ...(run.withheld_questions ? [[t("withheld_questions"), run.withheld_questions]] : []),
    [t("latency_p50_p95"), `${fmt(lat.p50, 0)} / ${fmt(lat.p95, 0)}`],
    [t("tokens"), s.prompt_tokens === null || s.prompt_tokens === undefined ? "—" : s.prompt_tokens + (s.completion_tokens || 0)],
    [t("cost"), s.cost === null || s.cost === undefined ? "—" : fmt(s.cost, 4)], [t("created"), fmtTime(run.created_at)]];
  view.append(h("section.card.run-summary",
    h("p", statusBadge(run.status), run.error ? h("span.error", ` ${run.error}`) : null),
    h("dl.facts", facts.flatMap(([k, v]) => [h("dt", k), h("dd", String(v))]))));
  if (run.status === "running") {
    view.append(h("p.muted", { role: "status" }, t("st_running")));
    poll(view, async () => {
      const again = await api("GET", `/v1/evals/runs/${runId}`);
      if (again.status === "running") return true;
      evalRunPage(view, runId);
      return false;
    });
    return;
  }
  const metrics = run.distributions.metrics;
  const names = Object.keys(metrics);
  if (names.length) {
    const items = names.map((n) => ({ label: metricInfo(n).label, value: metrics[n].mean, low: metrics[n].low, high: metrics[n].high }));
    const pick = h("select", { id: "dist-metric" }, names.map((n) => h("option", { value: n, selected: n === run.key_metric }, metricInfo(n).label)));
    const dist = h("div");
    const drawDist = () => {
      const m = metrics[pick.value];
      dist.replaceChildren(histogram({ label: `${t("distribution")}: ${pick.value}`,
        bins: m.histogram.map((c, i) => ({ label: `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`, count: c })) }));
    };
    pick.addEventListener("change", drawDist);
    drawDist();
    view.append(
      h("section.card", { "aria-labelledby": "m-h" }, h("h2", { id: "m-h" }, t("metrics_chart")),
        barChart({ items, top: 1, label: t("metrics_chart"), format: (v) => fmt(v, 2) }),
        h("details.data", h("summary", t("show_data")), table([t("metric"), t("mean"), t("interval"), "n"],
          names.map((n) => h("tr", h("td", metricLabel(n)), h("td.n", metricValue(metrics[n].mean)),
            h("td.n", `${metricValue(metrics[n].low)} – ${metricValue(metrics[n].high)}`), h("td.n", metrics[n].n))), t("metrics_chart")))),
      h("div.split",
        h("section.card", h("h2", t("distribution")), field(t("metric"), pick), dist),
        h("section.card", h("h2", t("latency_chart")), latencyChart(run.distributions.latency))));
  }
  view.append(reasonSummary(run.distributions.reasons), await resultsCard(runId, run.key_metric, err));
}

function latencyChart(lat) {
  const w = (lat.max_ms || 0) / 10, digits = w < 1 ? 2 : w < 10 ? 1 : 0;
  return histogram({ label: t("latency_chart"),
    bins: lat.histogram.map((c, i) => ({ label: `${fmt(i * w, digits)}–${fmt((i + 1) * w, digits)}`, count: c })) });
}

async function resultsCard(runId, key, err) {
  const list = h("ol.results");
  const more = h("button.ghost", { type: "button", hidden: true }, t("more"));
  const only = h("input", { type: "checkbox", checked: true, id: "only-failing" });
  const heading = h("h2", { id: "res-h" }, t("failing_questions"));
  let offset = 0;
  const load = async (reset) => {
    if (reset) { offset = 0; list.replaceChildren(); }
    try {
      const page = await api("GET", `/v1/evals/runs/${runId}/results?failing=${only.checked}&offset=${offset}&limit=${PAGE}`);
      list.append(...page.results.map((r) => resultItem(r, key)));
      offset += page.results.length;
      more.hidden = offset >= page.total;
      heading.textContent = `${only.checked ? t("failing_questions") : t("all_questions")} (${page.total})`;
      if (!page.total) list.append(h("li.muted", t("none_yet")));
    } catch (e) { showError(e, err); }
  };
  only.addEventListener("change", () => load(true));
  more.addEventListener("click", () => load(false));
  await load(true);
  return h("section.card", { "aria-labelledby": "res-h" }, heading,
    h("label.check", only, " ", t("only_failing")), list, more);
}

function resultItem(r, key) {
  const sources = Object.keys(r.expected_sources);
  return h("li", { "data-question": r.id, className: r.failed ? "result failed" : "result" },
    h("details",
      h("summary", h("span.badge", { className: r.failed ? "badge error" : "badge ready" }, r.failed ? "✗" : "✓"), " ",
        h("strong", r.id), " ", questionText(r), " ", reasonBadges(r.reasons),
        h("small.muted", ` · ${metricInfo(key).label} ${metricValue(r.metrics[key])}`)),
      r.error ? h("p.error", r.error) : null,
      h("dl.facts",
        h("dt", t("expected")), h("dd", sources.length ? sources.join(", ") : r.answerable === false ? t("expect_refusal") : "—"),
        h("dt", t("reference")), h("dd", r.reference_answers.join(" | ") || "—"),
        h("dt", t("answer")), h("dd", r.refused ? t("refused_short") : r.withheld ? t("withheld") : r.answer || "—"),
        h("dt", t("retrieved")), h("dd", r.retrieved.slice(0, 5).map((x) => `${x.withheld ? t("withheld_short") : x.source} (${x.score.toFixed(3)})`).join(", ") || "—"),
        h("dt", t("latency")), h("dd", `${fmt(r.latency_ms, 0)} ms`),
        r.judge ? [h("dt", t("judge")), h("dd", r.judge.error || `${r.judge.faithfulness}/5, ${r.judge.relevance}/5 — ${r.judge.reasons}`)] : null),
      h("p.metrics", Object.entries(r.metrics).map(([k, v]) => h("span.metric", metricLabel(k), ` ${metricValue(v)}`)))));
}
