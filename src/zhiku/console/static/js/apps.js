// Apps: assistants, workflows and agents in one list (kind, status, last change), with a way to
// create each kind; assistants keep their own page, workflows and agents open their editors.
import { api } from "./api.js";
import { t } from "./i18n.js";
import { act, errorBox, field, fmtTime, h, showError, table, toast } from "./ui.js";
import { statusBadge, useStyles } from "./appkit.js";

const EDIT = {
  assistant: (slug) => `#/assistants/${encodeURIComponent(slug)}`,
  workflow: (slug) => `#/workflows/${encodeURIComponent(slug)}`,
  agent: (slug) => `#/agents/${encodeURIComponent(slug)}`,
};

// A new workflow starts with a start node taking a question; the editor adds the rest.
const STARTER = { nodes: [{ id: "start", type: "start", inputs: [{ name: "question", type: "string" }] }] };

export async function appsPage(view) {
  useStyles();
  const err = errorBox();
  view.replaceChildren(h("div.row.between", h("h1", t("apps_title")),
    h("a.button.ghost", { href: "#/tool-sources" }, t("tool_sources"))), err);
  const kind = h("select", { id: "apps-kind", "aria-label": t("app_kind") },
    ["all", "assistant", "workflow", "agent"].map((k) => h("option", { value: k }, k === "all" ? t("all") : t(`kind_${k}`))));
  const query = h("input", { type: "search", id: "apps-q", placeholder: t("filter_name"), "aria-label": t("filter_name") });
  const listBox = h("div");

  const wfName = h("input", { type: "text", name: "wf-name", required: true, maxLength: 200 });
  const wfSlug = h("input", { type: "text", name: "wf-slug", maxLength: 64, pattern: "[a-z0-9][a-z0-9._\\-]*", placeholder: t("slug_auto") });
  const wfErr = errorBox();
  const wfBtn = h("button.primary", { type: "submit" }, t("create"));
  const wfForm = h("form.card.new-app", { "aria-labelledby": "new-wf-h" }, h("h2", { id: "new-wf-h" }, t("new_workflow")),
    h("p.muted", t("new_workflow_hint")),
    h("div.grid", field(t("name"), wfName), field(t("slug"), wfSlug, t("slug_rule"))), wfErr, wfBtn);
  wfForm.addEventListener("submit", (e) => {
    e.preventDefault();
    act(wfBtn, async () => {
      const made = await api("POST", "/v1/workflows", { name: wfName.value.trim(), slug: wfSlug.value.trim() || undefined, definition: STARTER });
      toast(t("saved"));
      location.hash = EDIT.workflow(made.slug);
    }, wfErr);
  });

  const creators = h("section.card", { "aria-labelledby": "create-h" }, h("h2", { id: "create-h" }, t("create_app")),
    h("div.kinds",
      h("div.kind-card", h("h3", h("span.kind.k-assistant", t("kind_assistant"))), h("p.muted", t("about_assistant")),
        h("a.button", { href: "#/assistants" }, t("new_assistant"))),
      h("div.kind-card", h("h3", h("span.kind.k-workflow", t("kind_workflow"))), h("p.muted", t("about_workflow")),
        h("a.button", { href: "#new-wf-h", onclick: (e) => { e.preventDefault(); wfName.focus(); } }, t("new_workflow"))),
      h("div.kind-card", h("h3", h("span.kind.k-agent", t("kind_agent"))), h("p.muted", t("about_agent")),
        h("a.button", { href: "#/agents" }, t("new_agent")))));

  view.append(h("section.card", h("div.row", kind, query), listBox), creators, wfForm);

  let apps = [];
  try {
    const [assistants, workflows, agents] = await Promise.all([
      api("GET", "/v1/assistants"), api("GET", "/v1/workflows"), api("GET", "/v1/agents")]);
    apps = [
      ...assistants.map((a) => ({ kind: "assistant", slug: a.slug, name: a.name || a.slug, live: a.published_version, updated: a.updated_at })),
      ...workflows.map((w) => ({ kind: "workflow", slug: w.slug, name: w.name, live: w.published_version, updated: w.updated_at,
        about: w.draft.description || t("nodes_n", w.draft.nodes.length) })),
      ...agents.map((a) => ({ kind: "agent", slug: a.slug, name: a.name, live: a.published_version, updated: a.updated_at, about: a.draft.model })),
    ].sort((a, b) => String(b.updated).localeCompare(String(a.updated)));
  } catch (e) { showError(e, err); }
  for (const a of apps) if (a.kind === "assistant") a.about = "";

  const draw = () => {
    const q = query.value.trim().toLowerCase();
    const shown = apps.filter((a) => (kind.value === "all" || a.kind === kind.value)
      && (!q || a.name.toLowerCase().includes(q) || a.slug.includes(q)));
    listBox.replaceChildren(shown.length ? table([t("name"), t("app_kind"), t("status"), t("updated"), t("actions")], shown.map((a) =>
      h("tr", { "data-app": `${a.kind}:${a.slug}` },
        h("td", h("a", { href: EDIT[a.kind](a.slug) }, a.name), h("br"), h("code.muted", a.slug), a.about ? h("span.muted", ` · ${a.about}`) : null),
        h("td", h(`span.kind.k-${a.kind}`, t(`kind_${a.kind}`))),
        h("td", statusBadge(a.live)),
        h("td", fmtTime(a.updated)),
        h("td.actions", h("a.button.ghost", { href: EDIT[a.kind](a.slug) }, t("edit"))))), t("apps_title"))
      : h("p.muted", apps.length ? t("no_match") : t("no_apps")));
  };
  kind.addEventListener("change", draw);
  query.addEventListener("input", draw);
  draw();
}
