// Models: the workspace's model providers (chat, embedding, rerank). Add one from a preset or
// by base URL, paste its key once (a password field, never filled in again: afterwards only
// its last characters are shown), test it (latency, or the provider's exact error), edit,
// delete, and choose the default chat model new assistants take.
import { api } from "./api.js";
import { addStrings, t } from "./i18n.js";
import { act, errorBox, field, h, showError, table, toast } from "./ui.js";

addStrings({
  en: {
    models_title: "Models", providers: "Providers", add_provider: "Add a provider",
    edit_provider: "Edit provider {x}", preset: "Preset", custom: "Custom (OpenAI-compatible)",
    kind: "Kind", kind_openai: "chat", kind_embedding: "embedding", kind_rerank: "rerank",
    kind_llama_cpp: "local GGUF", base_url: "Base URL", models_list: "Models (one per line)",
    key: "API key", key_new: "Pasted once, stored encrypted, never shown again.",
    key_keep: "Leave empty to keep the stored key ({x}).", key_none: "no key",
    key_env: "from ${x}", clear_key: "Remove the stored key", test: "Test",
    testing: "Testing…", test_ok: "OK · {x} ms", test_failed: "Failed: {x}",
    default_model: "Default chat model", default_hint: "New assistants take it when they name no model.",
    set_default: "Save default", is_default: "default",
    confirm_delete_provider: "Delete provider “{x}” and its key? Assistants using it will stop answering with it.",
    no_providers: "No provider yet. Pick a preset below, paste the key and test it.",
    admins_only: "Only workspace admins can change providers.", cancel: "Cancel",
    default_extractive: "extractive (no model)", models_col: "Models",
  },
  zh: {
    models_title: "模型", providers: "模型服务", add_provider: "添加模型服务",
    edit_provider: "编辑模型服务 {x}", preset: "预设", custom: "自定义（OpenAI 兼容）",
    kind: "类型", kind_openai: "对话", kind_embedding: "向量", kind_rerank: "重排序",
    kind_llama_cpp: "本地 GGUF", base_url: "接口地址（Base URL）", models_list: "模型（每行一个）",
    key: "API 密钥", key_new: "只需粘贴一次，加密保存，之后不再显示。",
    key_keep: "留空则保留已保存的密钥（{x}）。", key_none: "无密钥",
    key_env: "来自 ${x}", clear_key: "删除已保存的密钥", test: "测试",
    testing: "测试中…", test_ok: "正常 · {x} 毫秒", test_failed: "失败：{x}",
    default_model: "默认对话模型", default_hint: "新建助手未选择模型时使用它。",
    set_default: "保存默认模型", is_default: "默认",
    confirm_delete_provider: "删除模型服务“{x}”及其密钥？使用它的助手将无法再用它回答。",
    no_providers: "还没有模型服务。请在下方选择预设，粘贴密钥并测试。",
    admins_only: "只有工作区管理员可以修改模型服务。", cancel: "取消",
    default_extractive: "抽取式（不用模型）", models_col: "模型",
  },
});

const KINDS = ["openai", "embedding", "rerank"];
const kindLabel = (k) => t(`kind_${k.replace("-", "_")}`);

export async function modelsPage(view) {
  const err = errorBox();
  view.replaceChildren(h("h1", t("models_title")), err);
  let providers = [], presets = [], choices = [], def = null, me = null;
  try {
    [providers, presets, choices, def, me] = await Promise.all([api("GET", "/v1/providers"),
      api("GET", "/v1/provider-presets"), api("GET", "/v1/provider-models?kind=chat"),
      api("GET", "/v1/workspace/default-model"), api("GET", "/v1/auth/me")]);
  } catch (e) { showError(e, err); return; }
  const admin = ["admin", "owner"].includes(me.level);
  const reload = () => modelsPage(view);
  view.append(defaultCard(choices, def.model, admin, reload), providerCard(providers, def.model, admin, reload));
  if (admin) view.append(providerForm(presets, null, reload));
  else view.append(h("p.muted", t("admins_only")));
}

function defaultCard(choices, current, admin, reload) {
  const err = errorBox();
  const pick = h("select", { id: "default-model", disabled: !admin }, choices.map((c) => h("option",
    { value: c.id === "extractive" ? "" : c.id, selected: (current || "extractive") === c.id },
    c.id === "extractive" ? t("default_extractive") : c.id)));
  const save = admin ? h("button", { type: "submit" }, t("set_default")) : null;
  const form = h("form.row", field(t("default_model"), pick, t("default_hint")), save);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(save, async () => {
      await api("PUT", "/v1/workspace/default-model", { model: pick.value || null });
      toast(t("saved"));
      await reload();
    }, err);
  });
  return h("section.card", { "aria-label": t("default_model") }, form, err);
}

function keyText(p) {
  if (p.has_key) return p.key_mask;
  return p.api_key_env ? t("key_env", p.api_key_env) : t("key_none");
}

function providerCard(providers, current, admin, reload) {
  const box = h("section.card", { "aria-labelledby": "prov-h" }, h("h2", { id: "prov-h" }, t("providers")));
  if (!providers.length) { box.append(h("p.muted", t("no_providers"))); return box; }
  const rows = providers.flatMap((p) => {
    const result = h("output.small", { "aria-live": "polite", "data-test-result": p.name });
    const resultRow = h("tr.test-result", { hidden: true }, h("td", { colSpan: 6 }, result));
    const testBtn = h("button.ghost", { type: "button" }, t("test"));
    testBtn.addEventListener("click", () => act(testBtn, async () => {
      resultRow.hidden = false;
      result.className = "small muted";
      result.textContent = t("testing");
      const r = await api("POST", `/v1/providers/${encodeURIComponent(p.name)}/test`, {});
      result.className = r.ok ? "small badge ready" : "small error test-error";
      result.textContent = r.ok ? t("test_ok", Math.round(r.latency_ms)) : t("test_failed", r.error);
    }));
    const edit = h("button.ghost", { type: "button" }, t("edit"));
    edit.addEventListener("click", async () => {
      const presets = await api("GET", "/v1/provider-presets");
      const form = providerForm(presets, p, reload);
      box.after(form);
      form.querySelector("input, select").focus();
    });
    const del = h("button.ghost", { type: "button" }, t("delete"));
    del.addEventListener("click", () => {
      if (!confirm(t("confirm_delete_provider", p.name))) return;
      act(del, async () => {
        await api("DELETE", `/v1/providers/${encodeURIComponent(p.name)}`);
        toast(t("deleted"));
        await reload();
      });
    });
    const models = p.models.map((m) => h("span.tag", m, current === `${p.name}/${m}` ? ` · ${t("is_default")}` : ""));
    return [h("tr", { "data-provider": p.name }, h("td", h("strong", p.name)), h("td", kindLabel(p.kind)),
      h("td", h("code", p.base_url || "—")), h("td", models), h("td.n", h("code", keyText(p))),
      h("td.actions", admin ? [testBtn, edit, del] : null)), resultRow];
  });
  box.append(table([t("name"), t("kind"), t("base_url"), t("models_col"), t("key"), t("actions")],
    rows, t("providers")));
  return box;
}

// The add form (existing = null) or the edit form of one provider.
function providerForm(presets, existing, reload) {
  const err = errorBox();
  const preset = h("select", { name: "preset" }, h("option", { value: "" }, t("custom")),
    KINDS.map((k) => h("optgroup", { label: kindLabel(k) }, presets.filter((p) => p.kind === k)
      .map((p) => h("option", { value: p.name }, p.title)))));
  const name = h("input", { type: "text", name: "name", required: true, maxLength: 64, pattern: "[A-Za-z0-9_.\\-]+",
    value: existing ? existing.name : "", disabled: !!existing });
  const kind = h("select", { name: "kind" }, KINDS.map((k) => h("option", { value: k,
    selected: (existing ? existing.kind : "openai") === k }, kindLabel(k))));
  const baseUrl = h("input", { type: "url", name: "base_url", required: true, maxLength: 2048,
    value: existing ? existing.base_url : "", placeholder: "https://api.example.com/v1" });
  // a key is never sent back to the page: the field always starts empty
  const key = h("input", { type: "password", name: "api_key", autocomplete: "new-password", value: "",
    placeholder: existing && existing.has_key ? existing.key_mask : "sk-…" });
  const clearKey = existing && existing.has_key ? h("input", { type: "checkbox", name: "clear_key" }) : null;
  const models = h("textarea", { name: "models", rows: 3, value: existing ? existing.models.join("\n") : "" });
  preset.addEventListener("change", () => {
    const p = presets.find((x) => x.name === preset.value);
    if (!p) return;
    if (!name.value && !existing) name.value = p.name;
    kind.value = p.kind;
    baseUrl.value = p.base_url;
    models.value = p.models.join("\n");
  });
  const save = h("button.primary", { type: "submit" }, existing ? t("save") : t("create"));
  const cancel = existing ? h("button.ghost", { type: "button", onclick: () => form.remove() }, t("cancel")) : null;
  const form = h("form.card", { "aria-label": existing ? t("edit_provider", existing.name) : t("add_provider") },
    h("h2", existing ? t("edit_provider", existing.name) : t("add_provider")),
    h("div.grid", field(t("preset"), preset), field(t("name"), name)),
    h("div.grid", field(t("kind"), kind), field(t("base_url"), baseUrl)),
    field(t("key"), key, existing && existing.has_key ? t("key_keep", existing.key_mask) : t("key_new")),
    clearKey ? h("label.check", clearKey, " ", t("clear_key")) : null,
    field(t("models_list"), models), err, h("div.row", save, cancel));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(save, async () => {
      const body = { kind: kind.value, base_url: baseUrl.value.trim(),
        models: models.value.split(/[\n,]/).map((m) => m.trim()).filter(Boolean) };
      if (key.value.trim()) body.api_key = key.value.trim();
      if (existing) {
        if (clearKey && clearKey.checked) body.clear_key = true;
        await api("PATCH", `/v1/providers/${encodeURIComponent(existing.name)}`, body);
      } else {
        await api("POST", "/v1/providers", { name: name.value.trim(), ...body });
      }
      key.value = "";
      toast(t("saved"));
      await reload();
    }, err);
  });
  return form;
}
