// Knowledge graph explorer: pick a knowledge base, start from an overview or a searched entity,
// expand neighbours, and read the passages behind each relation of the selected entity.
import { api, can, stream } from "./api.js";
import { addStrings, label, t } from "./i18n.js";
import { act, errorBox, field, h, highlight, showError, toast } from "./ui.js";
import { GraphView } from "./graphview.js";

const LIMITS = [100, 300, 1000, 2000];

addStrings({
  en: { graph_llm_hint: "This graph was extracted without a language model: most relations only say that two entities appear in the same passage, and some entities are noise. For named relations (founded by, part of, …) and cleaner entities, extract with a model on the server: zhiku graph build --kb {x} --llm-url <OpenAI-compatible URL> --llm-model <model>." },
  zh: { graph_llm_hint: "此图谱是在不使用大语言模型的情况下抽取的：大多数关系只表示两个实体出现在同一段落（共现），也有一些噪声实体。如需具名关系（创立者、属于等）和更干净的实体，请在服务器上用模型抽取：zhiku graph build --kb {x} --llm-url <OpenAI 兼容地址> --llm-model <模型>。" },
});
const NEIGHBOURS = 40;
let current = null; // the page's GraphView (its animation stops when the page is left)

export async function graphPage(view, kbName) {
  if (current) { current.destroy(); current = null; }
  const err = errorBox();
  view.replaceChildren(h("h1", t("graph_title")), err);
  let kbs;
  try { kbs = await api("GET", "/v1/kbs"); } catch (e) { showError(e, err); return; }
  if (!kbs.length) { view.append(h("p.muted", t("none_yet"), " ", h("a", { href: "#/kbs" }, t("new_kb")))); return; }
  const kb = kbs.find((k) => k.name === kbName) || kbs.find((k) => k.settings && k.settings.graph) || kbs[0];
  const base = `/v1/kbs/${encodeURIComponent(kb.name)}/graph`;
  const pick = h("select", { id: "graph-kb" }, kbs.map((k) => h("option", { value: k.name, selected: k.name === kb.name }, k.name)));
  pick.addEventListener("change", () => { location.hash = `#/graph/${encodeURIComponent(pick.value)}`; });
  const stats = h("p.muted.graph-stats", { "aria-live": "polite" });
  view.append(h("div.row", field(t("kb"), pick), stats));

  let info;
  try { info = await api("GET", base); } catch (e) { showError(e, err); return; }
  if (!info.nodes) { view.append(emptyGraph(view, kb.name, base, err)); return; }

  const panel = h("aside.card.entity-panel", { "aria-live": "polite" }, h("p.muted", t("pick_entity")));
  const help = h("p.muted.small", { id: "graph-help" }, t("graph_help"));
  const gv = new GraphView({ describedBy: "graph-help", onSelect: (n) => showEntity(n), onExpand: (n) => expand(n) });
  current = gv;
  const legend = h("div");
  const llmHint = h("p.note.warn.graph-llm-hint", { hidden: true }, t("graph_llm_hint", kb.name));
  const count = () => {
    stats.textContent = `${gv.nodes.length} ${t("entities_shown")} (${t("of_total")} ${info.nodes}) · ${gv.edges.length} ${t("relations")}`;
    legend.replaceChildren(gv.legend());
    // a graph the fast extractor made alone: say what a model would add
    llmHint.hidden = !(gv.edges.length && !info.llm_chunks);
  };

  async function load(path, near) {
    const sub = await api("GET", `${base}/subgraph?${path}`);
    gv.add(sub.nodes, sub.edges, near);
    count();
    return sub;
  }

  async function expand(node) {
    try {
      const before = gv.nodes.length;
      await load(`around_id=${node.id}&limit=${NEIGHBOURS}`, node.id);
      toast(`${t("expanded")}: ${gv.nodes.length - before}`);
      gv.select(node.id, { focus: gv.nodes.length > 150 });
      if (gv.nodes.length <= 150) gv.follow(); // small: show it all; large: keep the node centred
    } catch (e) { showError(e, err); }
  }

  let shown = null;
  async function showEntity(node) {
    shown = node;
    if (!node) { panel.replaceChildren(h("p.muted", t("pick_entity"))); return; }
    panel.replaceChildren(h("h2", node.name), h("p.muted", t("loading")));
    let d;
    try {
      d = await api("GET", `${base}/entities/${encodeURIComponent(node.name)}?limit=30&passages=3`);
    } catch (e) { showError(e, err); panel.replaceChildren(h("h2", node.name)); return; }
    if (shown !== node) return; // another node was selected meanwhile
    const expandBtn = h("button.primary", { type: "button" }, t("expand"));
    expandBtn.addEventListener("click", () => act(expandBtn, () => expand(node), err));
    panel.replaceChildren(...[
      h("h2", d.name),
      h("p", h("span.badge", label("et", d.type)), " ", `${t("mentions")}: ${d.mentions}`,
        d.aliases.length ? h("span", h("br"), `${t("aliases")}: ${d.aliases.join(", ")}`) : null),
      d.description ? h("p", d.description) : null,
      h("div.row", expandBtn),
      h("h3", `${t("relations")} (${d.relations.length})`),
      d.relations.length ? h("ul.relations", d.relations.map((r) => relationItem(kb.name, d, r, gv))) : h("p.muted", t("none_yet")),
    ].filter(Boolean)); // DOM append would print null
  }

  const query = h("input", { type: "search", id: "entity-q", maxLength: 200, autocomplete: "off" });
  const results = h("ul.entity-results");
  const searchBtn = h("button", { type: "submit" }, t("run_search"));
  const searchForm = h("form.entity-search", { role: "search" }, field(t("find_entity"), query), h("div.row", searchBtn), results);
  searchForm.addEventListener("submit", (e) => {
    e.preventDefault();
    act(searchBtn, async () => {
      const found = await api("GET", `${base}/entities?q=${encodeURIComponent(query.value.trim())}&limit=20`);
      results.replaceChildren(...(found.length ? found.map((en) => h("li", h("button.link", { type: "button", onclick: () => focusEntity(en) },
        en.name, " ", h("small.muted", `${label("et", en.type)} · ${en.mentions}`)))) : [h("li.muted", t("no_entities"))]));
    }, err);
  });

  function focusEntity(en) {
    if (!gv.byId.has(en.id)) {
      gv.add([{ id: en.id, name: en.name, type: en.type, mentions: en.mentions }], []);
      count();
    }
    gv.select(en.id, { focus: true });
  }

  const limit = h("select", { id: "graph-limit" }, LIMITS.map((n) => h("option", { value: n, selected: n === 300 }, String(n))));
  const overviewBtn = h("button", { type: "button" }, t("overview"));
  overviewBtn.addEventListener("click", () => act(overviewBtn, async () => {
    gv.clear();
    await load(`limit=${limit.value}`);
    gv.follow();
  }, err));
  const tools = h("div.row.graph-tools",
    field(t("node_limit"), limit), overviewBtn,
    h("button.ghost", { type: "button", "aria-label": t("zoom_in"), title: t("zoom_in"), onclick: () => gv.zoom(1.25) }, "+"),
    h("button.ghost", { type: "button", "aria-label": t("zoom_out"), title: t("zoom_out"), onclick: () => gv.zoom(0.8) }, "−"),
    h("button.ghost", { type: "button", onclick: () => gv.fit() }, t("fit")),
    h("button.ghost", { type: "button", onclick: () => { gv.clear(); count(); showEntity(null); } }, t("clear")));

  view.append(h("div.graph-layout",
    h("section.card.graph-main", searchForm, tools, gv.el, legend, llmHint, help),
    panel));
  try {
    await load("limit=300");
    gv.follow();
  } catch (e) { showError(e, err); }
}

function relationItem(kb, entity, r, gv) {
  const arrow = r.direction === "out" ? "→" : "←";
  const words = [entity.name, r.entity];
  const target = [...gv.nodes].find((n) => n.name === r.entity);
  return h("li",
    h("details",
      h("summary", `${arrow} ${label("rt", r.type)} `, h("strong", r.entity),
        h("small.muted", ` · ${t("weight")} ${r.weight} · ${t("evidence")} ${r.evidence}`)),
      target ? h("button.link", { type: "button", onclick: () => gv.select(target.id, { focus: true }) }, t("select")) : null,
      r.passages.length ? h("ol.passages", r.passages.map((p) => h("li.passage-item",
        h("a", { href: `#/kbs/${encodeURIComponent(kb)}/docs/${p.document_id}` }, p.title || p.source),
        h("p", highlight(p.text, words))))) : h("p.muted", t("no_passages"))));
}

// No nodes yet: say how to get a graph, and offer the build.
function emptyGraph(view, kbName, base, err) {
  const build = h("button.primary", { type: "button" }, t("graph_build"));
  build.addEventListener("click", () => act(build, async () => {
    const job = await api("POST", `${base}/build`, {});
    let last = job;
    await stream("GET", `/v1/jobs/${job.id}/events`, undefined, (event, data) => { last = data; });
    if (last.status === "failed" || last.status === "dead") throw new Error(last.error || t("failed"));
    toast(t("graph_built"));
    await graphPage(view, kbName);
  }, err));
  return h("section.card", h("p", t("graph_empty")), can("write") ? h("div.row", build) : null);
}
