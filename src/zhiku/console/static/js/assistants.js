// Assistants: list, create and edit (knowledge bases, model picked from the workspace's models —
// none means extractive answers —, prompt, retrieval settings), publish, and a live preview chat
// on the draft.
import { api, can } from "./api.js";
import { t } from "./i18n.js";
import { act, errorBox, field, fmtTime, h, showError, table, toast } from "./ui.js";
import { chatBox } from "./chat.js";
import { shareSection } from "./share.js";
import { modelPicker } from "./modelpicker.js";
import { deleteButton, diffCard, draftBadge, slugHelp } from "./assistantdraft.js";
import { extractiveNote } from "./firstrun.js";

export async function assistantsPage(view, slug) {
  const err = errorBox();
  view.replaceChildren(h("h1", t("assistants_title")), err);
  let assistants = [], kbs = [];
  try {
    [assistants, kbs] = await Promise.all([api("GET", "/v1/assistants"), api("GET", "/v1/kbs")]);
  } catch (e) { showError(e, err); return; }
  const current = assistants.find((a) => a.slug === slug) || null;

  const list = assistants.length ? table([t("name"), t("slug"), t("pick_kbs"), t("model"), t("status"), t("actions")],
    assistants.map((a) => h("tr", { "data-assistant": a.slug },
      h("td", a.name || a.slug), h("td", h("code", a.slug)), h("td", a.config.knowledge_bases.join(", ")),
      h("td", a.config.model || t("extractive")),
      h("td", a.published_version ? t("published", a.published_version) : t("draft"), " ", draftBadge(a)),
      h("td.actions", can("write") ? h("a.button.ghost", { href: `#/assistants/${encodeURIComponent(a.slug)}` }, t("edit")) : null,
        h("a.button.ghost", { href: `#/chat/${encodeURIComponent(a.slug)}` }, t("nav_chat"))))),
  t("assistants_title")) : h("p.muted", t("none_yet"));

  const cfg = current ? current.config : { knowledge_bases: [], retrieval: { top_k: 8, min_relevance: 0.3 } };
  const slugIn = h("input", { type: "text", name: "slug", required: true, pattern: "[a-z0-9][a-z0-9._\\-]*", maxLength: 64,
    value: current ? current.slug : "", disabled: !!current });
  const name = h("input", { type: "text", name: "name", maxLength: 200, value: current ? current.name : "" });
  const { select: model, hint: modelHint } = await modelPicker({ current: current ? cfg.model : undefined });
  const prompt = h("textarea", { name: "system_prompt", rows: 3, value: cfg.system_prompt || "" });
  const topK = h("input", { type: "number", name: "top_k", min: 1, max: 200, value: cfg.retrieval.top_k });
  const minRel = h("input", { type: "number", name: "min_relevance", min: 0, max: 1, step: 0.05, value: cfg.retrieval.min_relevance });
  const policy = h("select", { name: "on_ungrounded" }, ["warn", "extractive", "refuse"].map((v) =>
    h("option", { value: v, selected: (cfg.on_ungrounded || "warn") === v }, t(`ung_${v}`))));
  const { select: reranker } = await modelPicker({ name: "reranker", kind: "rerank", current: cfg.retrieval.reranker || null });
  const boxes = kbs.map((k) => h("input", { type: "checkbox", name: "kb", value: k.name, checked: cfg.knowledge_bases.includes(k.name) }));
  const kbSet = h("fieldset.kbs", h("legend", t("pick_kbs")),
    kbs.length ? boxes.map((b) => h("label.check", b, " ", b.value)) : h("p.muted", h("a", { href: "#/kbs" }, t("new_kb"))));
  const formErr = errorBox();
  const save = h("button.primary", { type: "submit" }, current ? t("save") : t("create"));
  const publish = current ? h("button", { type: "button" }, t("publish")) : null;
  const form = h("form.card",
    h("h2", current ? `${t("edit")}: ${current.name || current.slug}` : t("new_assistant"), " ", current ? draftBadge(current) : null),
    h("div.grid", h("div", field(t("slug"), slugIn), slugHelp(name, slugIn)), field(t("name"), name)),
    kbSet, extractiveNote(cfg), field(t("mp_label"), model, modelHint), field(t("system_prompt"), prompt),
    h("div.grid", field(t("top_k"), topK), field(t("min_relevance"), minRel)),
    h("div.grid", field(t("on_ungrounded"), policy), field(t("mp_reranker"), reranker)),
    formErr, h("div.row", save, publish,
      current ? h("a.button.ghost", { href: "#/assistants" }, t("new_assistant")) : null,
      current ? deleteButton(current, formErr) : null));
  const config = () => {
    const c = { ...cfg, knowledge_bases: boxes.filter((b) => b.checked).map((b) => b.value),
      model: model.value.trim() || null, system_prompt: prompt.value.trim() || null, on_ungrounded: policy.value,
      retrieval: { ...cfg.retrieval, top_k: Number(topK.value) || 8, min_relevance: Number(minRel.value),
        reranker: reranker.value.trim() || null } };
    if (!c.model) c.fallback_models = [];
    return c;
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(save, async () => {
      if (current) {
        await api("PATCH", `/v1/assistants/${encodeURIComponent(current.slug)}`, { name: name.value, config: config() });
        toast(t("saved"));
        await assistantsPage(view, current.slug);
      } else {
        const made = await api("POST", "/v1/assistants", { slug: slugIn.value.trim(), name: name.value, config: config() });
        toast(t("saved"));
        location.hash = `#/assistants/${encodeURIComponent(made.slug)}`;
      }
    }, formErr);
  });
  if (publish) {
    publish.addEventListener("click", () => act(publish, async () => {
      const a = await api("POST", `/v1/assistants/${encodeURIComponent(current.slug)}/publish`, { note: "" });
      toast(t("published", a.published_version));
      await assistantsPage(view, current.slug);
    }, formErr));
  }
  const preview = current ? h("section.card.preview", { "aria-labelledby": "preview-h" },
    h("h2", { id: "preview-h" }, t("ad_preview_draft")), h("p.muted", t("ad_preview_note")),
    chatBox(current, { draft: true })) : null;
  const versions = current ? h("section.card", { "aria-labelledby": "ver-h" }, h("h2", { id: "ver-h" }, t("versions"))) : null;
  view.append(...[h("section.card", list), can("write") ? h("div.split", form, preview) : null, versions,
    current && can("write") ? shareSection(current) : null].filter(Boolean));
  if (current) {
    try {
      const rows = await api("GET", `/v1/assistants/${encodeURIComponent(current.slug)}/versions`);
      versions.append(rows.length ? table([t("version"), t("model"), t("pick_kbs"), t("created")], rows.map((v) => h("tr",
        h("td", `v${v.version}${v.version === current.published_version ? " ✓" : ""}`), h("td", v.config.model || t("extractive")),
        h("td", v.config.knowledge_bases.join(", ")), h("td", fmtTime(v.created_at)))), t("versions"))
        : h("p.muted", t("none_yet")));
      versions.after(diffCard(current, rows));
    } catch (e) { showError(e, err); }
  }
}
