// The workflow editor: the graph on a canvas (wfcanvas.js), a palette of every node type, the
// selected node's settings (wfform.js), validation shown on the nodes, import and export of the
// JSON definition, save, publish, versions, and the run/debug panel (wfrun.js).
// Node positions are not part of a definition (its schema takes no extra fields): the canvas
// lays nodes out by topological level, and positions dragged by hand are kept in this browser.
import { api } from "./api.js";
import { t } from "./i18n.js";
import { act, copyButton, dialog, errorBox, fmtTime, h, showError, table, toast } from "./ui.js";
import { BUILTIN_TOOLS, download, guardUnsaved, statusBadge, useStyles } from "./appkit.js";
import { FlowCanvas } from "./wfcanvas.js";
import { nodeForm } from "./wfform.js";
import { NODE_TYPES, handlesOf, newNode, uniqueId } from "./wfnodes.js";
import { runPanel } from "./wfrun.js";
import { shareSection } from "./share.js";

const posKey = (slug) => `zhiku.wf.pos.${slug}`;

function loadPositions(slug) {
  try { return JSON.parse(localStorage.getItem(posKey(slug)) || "null") || undefined; } catch { return undefined; }
}

export async function workflowPage(view, slug) {
  useStyles();
  const err = errorBox();
  view.replaceChildren(h("p.crumbs", h("a", { href: "#/apps" }, t("nav_apps"))), h("h1", t("workflow")), err);
  let wf, kbs = [], tools = [...BUILTIN_TOOLS];
  try {
    [wf, kbs] = await Promise.all([api("GET", `/v1/workflows/${encodeURIComponent(slug)}`), api("GET", "/v1/kbs")]);
  } catch (e) { showError(e, err); return; }
  kbs = kbs.map((k) => k.name);
  const path = `/v1/workflows/${encodeURIComponent(wf.slug)}`;
  let def = structuredClone(wf.draft);
  def.edges = def.edges || [];
  let problems = [], dirty = false, selection = {};

  const title = view.querySelector("h1");
  title.textContent = wf.name;
  const state = h("span.dirty", { "aria-live": "polite" });
  const live = h("span", statusBadge(wf.published_version));
  const side = h("aside.wf-side", { "aria-label": t("node_settings") });
  const problemBox = h("div.wf-problems", { "aria-live": "polite" });
  const formErr = errorBox();

  const setDirty = (v) => { dirty = v; state.textContent = v ? t("unsaved") : ""; };
  const savePositions = (pos) => localStorage.setItem(posKey(wf.slug), JSON.stringify(Object.fromEntries(pos)));
  let redraw = 0;
  const changed = () => {
    setDirty(true);
    cancelAnimationFrame(redraw);
    redraw = requestAnimationFrame(() => { canvas.render(); run.refreshInputs(); });
  };

  const canvas = new FlowCanvas({
    onSelect: (sel) => {
      selection = sel;
      drawSide();
      // on a narrow screen the form sits below the canvas: bring it into view
      if ((sel.node || sel.edge !== undefined) && matchMedia("(max-width: 900px)").matches) side.scrollIntoView({ block: "start" });
    },
    onConnect: (source, handle, target) => connect(source, handle, target),
    onDelete: (what) => { if (what.node) removeNode(what.node); else if (what.edge !== undefined) removeEdge(what.edge); },
    onMove: savePositions,
  });

  function connect(source, handle, target) {
    if (source === target) return;
    if (def.edges.some((e) => e.source === source && e.target === target && (e.handle || "out") === handle)) return;
    def.edges.push({ source, target, handle });
    setDirty(true);
    canvas.render();
    canvas.live.textContent = t("edge_added", `${source} → ${target}`);
    drawSide();
  }

  function removeEdge(i) {
    const [e] = def.edges.splice(i, 1);
    setDirty(true);
    canvas.edge = null;
    canvas.render();
    canvas.live.textContent = t("edge_removed", `${e.source} → ${e.target}`);
    selection = canvas.selected ? { node: canvas.selected } : {};
    drawSide();
  }

  function removeNode(id) {
    if (!confirm(t("confirm_delete", id))) return;
    def.nodes = def.nodes.filter((n) => n.id !== id);
    def.edges = def.edges.filter((e) => e.source !== id && e.target !== id);
    canvas.selected = null;
    selection = {};
    setDirty(true);
    canvas.setDefinition(def);
    drawSide();
    canvas.svg.focus();
  }

  // A renamed node: its edges, and every reference to it (`old.output` in templates and
  // expressions of the other nodes) follow.
  function rename(node, to) {
    const ref = new RegExp(`(^|[^\\w.])${node.id}\\.`, "g");
    const rewrite = (value, key) => {
      if (typeof value === "string") return key === "id" || key === "type" ? value : value.replace(ref, `$1${to}.`);
      if (Array.isArray(value)) return value.map((v) => rewrite(v));
      if (value && typeof value === "object") {
        for (const k of Object.keys(value)) value[k] = rewrite(value[k], k);
      }
      return value;
    };
    for (const n of def.nodes) if (n !== node) rewrite(n);
    for (const e of def.edges) {
      if (e.source === node.id) e.source = to;
      if (e.target === node.id) e.target = to;
    }
    const p = canvas.pos.get(node.id);
    canvas.pos.delete(node.id);
    if (p) canvas.pos.set(to, p);
    node.id = to;
    canvas.selected = to;
    selection = { node: to };
    setDirty(true);
    canvas.render();
    drawSide();
  }

  function addNode(type) {
    if (type === "start" && def.nodes.some((n) => n.type === "start")) { toast(t("one_start"), "error"); return; }
    const from = def.nodes.find((n) => n.id === canvas.selected);
    const node = newNode(type, uniqueId(def, type));
    def.nodes.push(node);
    if (from && type !== "start" && handlesOf(from).includes("out")) def.edges.push({ source: from.id, target: node.id, handle: "out" });
    else if (from && type !== "start") def.edges.push({ source: from.id, target: node.id, handle: handlesOf(from)[0] });
    if (from) {
      const p = canvas.pos.get(from.id);
      canvas.pos.set(node.id, { x: p.x + 250, y: p.y });
    }
    setDirty(true);
    canvas.setDefinition(def);
    canvas.reveal(node.id);
    canvas.select(node.id);
  }

  // the side panel: the selected node's form, or the selected edge, or the workflow's settings
  function drawSide() {
    const node = selection.node ? def.nodes.find((n) => n.id === selection.node) : null;
    if (node) {
      const outgoing = def.edges.map((e, i) => [e, i]).filter(([e]) => e.source === node.id || e.target === node.id);
      const target = h("select", { "aria-label": t("connect_to") }, def.nodes.filter((n) => n.id !== node.id && n.type !== "start")
        .map((n) => h("option", { value: n.id }, n.id)));
      const handle = h("select", { "aria-label": t("handle") }, handlesOf(node).map((x) => h("option", { value: x }, x)));
      side.replaceChildren(
        h("div.row.between", h("h2", `${t(`nt_${node.type}`)}: ${node.id}`),
          h("button.danger.small", { type: "button", onclick: () => removeNode(node.id) }, t("delete"))),
        nodeForm(def, node, { kbs, problems, onChange: changed, onRename: rename }),
        h("h3", t("edges")),
        outgoing.length ? h("ul.edge-list", outgoing.map(([e, i]) => h("li", { "data-edge": `${e.source}>${e.target}` },
          `${e.source}${e.handle && e.handle !== "out" ? ` [${e.handle}]` : ""} → ${e.target} `,
          h("button.ghost.small", { type: "button", onclick: () => removeEdge(i) }, t("disconnect"))))) : h("p.muted", t("no_edges")),
        h("div.row.connect", handle, target,
          h("button.small", { type: "button", onclick: () => target.value && connect(node.id, handle.value, target.value) }, t("connect"))));
    } else if (selection.edge !== undefined && def.edges[selection.edge]) {
      const e = def.edges[selection.edge];
      side.replaceChildren(h("h2", t("edge")), h("p", `${e.source} [${e.handle || "out"}] → ${e.target}`),
        h("button.danger", { type: "button", onclick: () => removeEdge(selection.edge) }, t("disconnect")));
    } else {
      side.replaceChildren(h("h2", t("wf_settings")), settingsForm());
    }
  }

  function settingsForm() {
    const name = h("input", { type: "text", id: "wf-name", value: wf.name, maxLength: 200 });
    name.addEventListener("input", () => { wf.name = name.value; setDirty(true); });
    const desc = h("textarea", { id: "wf-desc", rows: 2, value: def.description || "" });
    desc.addEventListener("input", () => { def.description = desc.value || undefined; setDirty(true); });
    const timeout = h("input", { type: "number", id: "wf-timeout", min: 1, max: 86400, value: def.timeout_s ?? 300 });
    timeout.addEventListener("input", () => { def.timeout_s = Number(timeout.value) || undefined; setDirty(true); });
    const vars = h("textarea", { id: "wf-vars", rows: 3, spellcheck: false, value: JSON.stringify(def.variables || {}, null, 2) });
    const bad = h("small.field-error", { hidden: true }, t("bad_json_text"));
    vars.addEventListener("input", () => {
      try { def.variables = JSON.parse(vars.value || "{}"); bad.hidden = true; setDirty(true); } catch { bad.hidden = false; }
    });
    const general = problems.filter((p) => !p.node);
    return h("div",
      h("p.muted", t("wf_hint")),
      h("div.field", h("label", { htmlFor: "wf-name" }, t("name")), name),
      h("div.field", h("label", { htmlFor: "wf-desc" }, t("description")), desc),
      h("div.field", h("label", { htmlFor: "wf-timeout" }, t("run_timeout")), timeout),
      h("div.field", h("label", { htmlFor: "wf-vars" }, t("wf_variables")), vars, h("small.muted", t("wf_variables_hint")), bad),
      general.length ? h("ul.problems", general.map((p) => h("li", `${p.field ? p.field + ": " : ""}${p.message}`))) : null);
  }

  function showProblems(list) {
    problems = list;
    canvas.setProblems(problems);
    problemBox.replaceChildren(problems.length ? h("div.error", { role: "alert" },
      h("strong", t("wf_problems_n", problems.length)),
      h("ul", problems.map((p) => h("li", p.node ? h("button.link", { type: "button", onclick: () => canvas.select(p.node.split(".")[0]) },
        `${p.node}${p.field ? "." + p.field : ""}`) : (p.field || ""), `: ${p.message}`)))) : "");
    drawSide();
  }

  async function validate() {
    const res = await api("POST", "/v1/workflow-validation", { definition: def });
    showProblems(res.problems);
    return res.valid;
  }

  const save = h("button.primary", { type: "button" }, t("save_draft"));
  // validate, then store the draft; false (problems shown on the nodes) when it is invalid
  async function saveDraft() {
    if (!(await validate())) { toast(t("wf_invalid"), "error"); return false; }
    wf = await api("PATCH", path, { name: wf.name, definition: def });
    title.textContent = wf.name;
    setDirty(false);
    toast(t("saved"));
    return true;
  }
  save.addEventListener("click", () => act(save, saveDraft, formErr));
  const check = h("button", { type: "button" }, t("validate"));
  check.addEventListener("click", () => act(check, async () => {
    if (await validate()) toast(t("wf_valid"));
  }, formErr));
  const publish = h("button", { type: "button" }, t("publish"));
  publish.addEventListener("click", () => act(publish, async () => {
    if (dirty && !(await saveDraft())) return; // publishing freezes the stored draft
    const r = await api("POST", `${path}/publish`, { note: "" });
    wf.published_version = r.version;
    live.replaceChildren(statusBadge(r.version));
    toast(t("published", r.version));
    await drawVersions();
  }, formErr));
  const remove = h("button.danger", { type: "button" }, t("delete"));
  remove.addEventListener("click", () => act(remove, async () => {
    if (!confirm(t("confirm_delete", wf.name))) return;
    await api("DELETE", path);
    localStorage.removeItem(posKey(wf.slug));
    dirty = false;
    toast(t("deleted"));
    location.hash = "#/apps";
  }, formErr));
  const exportBtn = h("button.ghost", { type: "button", onclick: () => download(`${wf.slug}.workflow.json`, JSON.stringify(def, null, 2)) }, t("export_file"));
  const file = h("input.sr", { type: "file", id: "wf-import", accept: ".json,application/json" });
  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (f) importText(await f.text());
    file.value = "";
  });
  const importBtn = h("button.ghost", { type: "button", onclick: () => file.click() }, t("import_file"));
  const jsonBtn = h("button.ghost", { type: "button", onclick: () => jsonDialog() }, t("edit_json"));

  function importText(text) {
    let parsed;
    try { parsed = JSON.parse(text); } catch { toast(t("bad_json_text"), "error"); return false; }
    if (!parsed || !Array.isArray(parsed.nodes)) { toast(t("wf_not_definition"), "error"); return false; }
    def = parsed;
    def.edges = def.edges || [];
    canvas.pos.clear();
    canvas.selected = null;
    selection = {};
    canvas.setDefinition(def);
    savePositions(canvas.pos);
    canvas.fit();
    setDirty(true);
    showProblems([]);
    run.refreshInputs();
    toast(t("imported"));
    return true;
  }

  function jsonDialog() {
    const text = h("textarea.json-edit", { rows: 18, spellcheck: false, "aria-label": t("definition_json"), value: JSON.stringify(def, null, 2) });
    const apply = h("button.primary", { type: "button" }, t("apply"));
    const dlg = dialog(t("definition_json"), h("div", h("p.muted", t("json_hint")), text, h("div.row", apply, copyButton(text, "button.ghost"))));
    apply.addEventListener("click", () => { if (importText(text.value)) dlg.close(); });
  }

  const palette = h("div.palette", { role: "toolbar", "aria-label": t("palette") },
    h("span.muted", t("add_node")), NODE_TYPES.map((type) => h("button.ghost.small", { type: "button", "data-type": type,
      title: t(`nd_${type}`), onclick: () => addNode(type) }, `+ ${t(`nt_${type}`)}`)));

  const versions = h("section.card", { "aria-labelledby": "wf-ver-h" }, h("h2", { id: "wf-ver-h" }, t("versions")));
  async function drawVersions() {
    const rows = await api("GET", `${path}/versions`);
    versions.replaceChildren(h("h2", { id: "wf-ver-h" }, t("versions")), rows.length ? table([t("version"), t("note"), t("created"), t("actions")],
      rows.map((v) => h("tr", { "data-version": v.version }, h("td", `v${v.version}${v.version === wf.published_version ? ` · ${t("live")}` : ""}`),
        h("td", v.note || "—"), h("td", fmtTime(v.created_at)),
        h("td.actions", h("button.ghost.small", { type: "button", onclick: () => run.runVersion(v.version) }, t("run_version"))))), t("versions"))
      : h("p.muted", t("no_versions")));
  }

  const run = runPanel({ path, getDefinition: () => def, canvas, ensureSaved: async () => !dirty || saveDraft() });

  view.append(
    h("div.row.between.wf-head", h("div.row", live, state), h("div.row", save, check, publish, exportBtn, importBtn, jsonBtn, file, remove)),
    formErr, palette, problemBox,
    h("div.wf-layout", h("div.wf-canvas", canvas.el), side),
    run.el, versions, shareSection(wf));
  canvas.setDefinition(def, loadPositions(wf.slug));
  requestAnimationFrame(() => canvas.fit());
  drawSide();
  guardUnsaved(view, () => dirty);
  // tools of registered sources for the tool node's list (admins only; others see built-ins)
  const list = h("datalist", { id: "wf-tools" });
  view.append(list);
  api("GET", "/v1/tool-sources").then((sources) => Promise.allSettled(sources.map(async (s) => {
    tools = tools.concat((await api("GET", `/v1/tool-sources/${encodeURIComponent(s.name)}/tools`)).map((x) => x.name));
  }))).catch(() => {}).finally(() => list.replaceChildren(...tools.map((x) => h("option", { value: x }))));
  try { await Promise.all([drawVersions(), run.drawRuns()]); } catch (e) { showError(e, err); }
}
