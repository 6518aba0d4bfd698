// Search playground: a query over some knowledge bases; every hit with its full-text, vector
// and fused scores side by side and the query's terms highlighted.
import { api } from "./api.js";
import { addStrings, label, t } from "./i18n.js";
import { act, errorBox, field, h, highlight, num, showError, terms } from "./ui.js";

addStrings({
  en: { search_zh_keyword: "Chinese question over an embedder that does not read Chinese: matched by keywords only." },
  zh: { search_zh_keyword: "中文问题，但知识库的向量模型不支持中文：仅按关键词匹配。" },
});

export async function searchPage(view) {
  const query = h("input", { type: "search", name: "query", required: true, maxLength: 4000 });
  const kb = h("select", { name: "kb" }, h("option", { value: "" }, t("all_kbs")));
  const mode = h("select", { name: "mode" }, ["hybrid", "keyword", "vector"].map((m) => h("option", { value: m }, label("mode", m))));
  const topK = h("input", { type: "number", name: "top_k", min: 1, max: 100, value: 5 });
  const err = errorBox();
  const btn = h("button.primary", { type: "submit" }, t("run_search"));
  const results = h("ol.hits", { "aria-live": "polite" });
  const notes = h("div.search-notes", { "aria-live": "polite" });
  const form = h("form.card.search",
    h("div.grid", field(t("query"), query), field(t("kb"), kb), field(t("mode"), mode), field(t("top_k"), topK)),
    err, h("div.row", btn));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(btn, async () => {
      const body = { query: query.value, mode: mode.value, top_k: Number(topK.value) || 5 };
      if (kb.value) body.knowledge_bases = [kb.value];
      const out = await api("POST", "/v1/search", body);
      const words = terms(query.value);
      notes.replaceChildren(...(out.warnings || []).map((w) => h("p.note.warn", { role: "note", title: w }, t("search_zh_keyword"))));
      results.replaceChildren(...(out.hits.length ? out.hits.map((hit) => hitCard(hit, words)) : [h("p.muted", t("no_hits"))]));
    }, err);
  });
  view.replaceChildren(h("h1", t("search_title")), form, notes, results);
  query.focus();
  try {
    for (const k of await api("GET", "/v1/kbs")) kb.append(h("option", { value: k.name }, k.name));
  } catch (e) { showError(e, err); }
}

function hitCard(hit, words) {
  const s = hit.scores || {};
  const score = (label, v) => h("div.score", h("span.muted", label), h("strong", num(v)));
  return h("li.hit.card",
    h("div.row.between",
      h("div", h("strong", hit.title || hit.source), " ", h("small.muted", [hit.kb, hit.source, hit.page ? t("page_short", hit.page) : ""].filter(Boolean).join(" · "))),
      h("div.scores", { "aria-label": t("scores") },
        score(t("keyword"), s.keyword), score(t("vector"), s.vector), score(t("fused"), s.fused ?? hit.score),
        score(t("relevance"), hit.relevance))),
    hit.heading_path && hit.heading_path.length ? h("p.muted.path", hit.heading_path.join(" › ")) : null,
    h("p.text", highlight(hit.text, words)));
}
