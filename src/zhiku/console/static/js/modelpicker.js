// A model picker for editors: a <select> of the workspace's models (GET /v1/provider-models),
// "extractive (no model)" first; a new item starts on the workspace's default chat model. A
// model that is no longer offered (its provider was removed) stays listed, marked missing.
import { api } from "./api.js";
import { addStrings, t } from "./i18n.js";
import { h } from "./ui.js";

addStrings({
  en: { mp_label: "Model", mp_extractive: "extractive (no model)", mp_missing: "{x} (not configured)",
    mp_default: "{x} (default)", mp_none: "No model configured yet: add one under Models.",
    mp_kb_default: "the knowledge base's reranker", mp_reranker: "Reranker" },
  zh: { mp_label: "模型", mp_extractive: "抽取式（不用模型）", mp_missing: "{x}（未配置）",
    mp_default: "{x}（默认）", mp_none: "还没有配置模型：请在“模型”页面添加。",
    mp_kb_default: "知识库的重排序设置", mp_reranker: "重排序模型" },
});

// kind: "chat" (with "extractive", the empty choice) or "rerank" (with "the knowledge base's"
// as the empty choice); current: the item's model, or undefined for a new item (then the
// default chat model is preselected).
export async function modelPicker({ name = "model", kind = "chat", current } = {}) {
  const chat = kind === "chat";
  let choices = [], fallback = null;
  try {
    [choices, fallback] = await Promise.all([
      api("GET", `/v1/provider-models?kind=${kind}`),
      chat ? api("GET", "/v1/workspace/default-model").then((d) => d.model) : null,
    ]);
  } catch { choices = []; }
  const ids = choices.map((c) => c.id).filter((id) => id !== "extractive");
  const chosen = current === undefined ? (chat ? fallback : null) : current;
  if (chosen && !ids.includes(chosen)) ids.push(chosen);
  const empty = h("option", { value: "", selected: !chosen }, chat ? t("mp_extractive") : t("mp_kb_default"));
  const select = h("select", { name }, empty, ids.map((id) => h("option", { value: id, selected: id === chosen },
    !choices.some((c) => c.id === id) ? t("mp_missing", id) : id === fallback ? t("mp_default", id) : id)));
  select.dataset.picker = kind;
  const hint = chat && !ids.length ? t("mp_none") : null;
  return { select, hint };
}
