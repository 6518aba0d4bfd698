// The assistant page's draft tools: the "unpublished changes" badge, the diff between
// versions (or the draft and the live one), and the slug: its format explained, and an ASCII
// slug derived from the name (a Chinese name gets `assistant-xxxx`: no pinyin offline).
import { api } from "./api.js";
import { addStrings, t } from "./i18n.js";
import { act, errorBox, h, showError, toast } from "./ui.js";

addStrings({
  en: {
    ad_unpublished: "Unpublished changes", ad_never: "Not published yet: chats use the draft",
    ad_preview_draft: "Preview (draft)", ad_preview_note: "The preview answers with the saved draft, even before it is published.",
    ad_delete: "Delete assistant", ad_confirm_delete: "Delete the assistant “{x}” and its versions? Its conversations are kept.",
    ad_diff: "Changes", ad_from: "From", ad_to: "To", ad_live: "live", ad_draft: "draft",
    ad_setting: "Setting", ad_before: "Before", ad_after: "After", ad_same: "No differences.", ad_compare: "Compare",
    ad_slug_help: "Lower-case letters, digits, “.”, “_” and “-”, starting with a letter or digit; used in URLs and the API. It cannot be changed later.",
    ad_slug_derived: "Derived from the name. A Chinese name cannot be turned into pinyin offline, so a random ASCII slug was made: edit it if you like.",
  },
  zh: {
    ad_unpublished: "有未发布的修改", ad_never: "尚未发布：对话使用草稿",
    ad_preview_draft: "预览（草稿）", ad_preview_note: "预览使用已保存但未发布的草稿配置回答。",
    ad_delete: "删除助手", ad_confirm_delete: "删除助手“{x}”及其所有版本？对话记录会保留。",
    ad_diff: "修改对比", ad_from: "从", ad_to: "到", ad_live: "线上版本", ad_draft: "草稿",
    ad_setting: "设置项", ad_before: "之前", ad_after: "之后", ad_same: "没有差异。", ad_compare: "对比",
    ad_slug_help: "小写字母、数字、“.”、“_”和“-”，以字母或数字开头；用于网址和 API，创建后不能修改。",
    ad_slug_derived: "已根据名称生成。离线无法把中文名称转换为拼音，因此生成了随机的英文标识，可自行修改。",
  },
});

const SLUG_RE = /^[a-z0-9][a-z0-9._-]*$/;

// An ASCII slug for `name`: its Latin letters and digits, else `assistant-` and 4 hex digits.
export function deriveSlug(name) {
  const ascii = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64);
  if (ascii && SLUG_RE.test(ascii)) return { slug: ascii, random: false };
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(2)), (b) => b.toString(16).padStart(2, "0")).join("");
  return { slug: `assistant-${hex}`, random: true };
}

// Wire the slug field to the name field of a new assistant: explained, derived until edited.
export function slugHelp(nameIn, slugIn) {
  const hint = h("small.muted.slug-help", { id: "slug-help" }, t("ad_slug_help"));
  const derived = h("small.muted.slug-derived", { hidden: true }, t("ad_slug_derived"));
  slugIn.setAttribute("aria-describedby", "slug-help");
  slugIn.title = t("ad_slug_help");
  let touched = false;
  slugIn.addEventListener("input", () => { touched = true; derived.hidden = true; });
  nameIn.addEventListener("input", () => {
    if (touched || slugIn.disabled) return;
    const name = nameIn.value.trim();
    if (!name) { slugIn.value = ""; derived.hidden = true; return; }
    const { slug, random } = deriveSlug(name);
    if (random && SLUG_RE.test(slugIn.value) && slugIn.value.startsWith("assistant-")) { derived.hidden = false; return; }
    slugIn.value = slug;
    derived.hidden = !random;
  });
  return h("div.slug-notes", hint, h("br"), derived);
}

// The badge next to an assistant's status: unpublished changes, or never published.
export function draftBadge(a) {
  if (a.published_version && a.unpublished_changes) return h("span.badge.unpublished", { "data-unpublished": "" }, t("ad_unpublished"));
  if (!a.published_version) return h("span.badge.muted", t("ad_never"));
  return null;
}

function value(v) {
  return v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v);
}

// A card comparing two configurations of `a` (published versions, draft, live).
export function diffCard(a, versions) {
  const refs = [["live", t("ad_live")], ["draft", t("ad_draft")], ...versions.map((v) => [String(v.version), `v${v.version}`])];
  const pick = (id, chosen) => h("select", { id }, refs.map(([v, text]) => h("option", { value: v, selected: v === chosen }, text)));
  const from = pick("diff-from", "live"), to = pick("diff-to", "draft");
  const out = h("div.diff", { "aria-live": "polite" });
  const err = errorBox();
  async function load() {
    try {
      const d = await api("GET", `/v1/assistants/${encodeURIComponent(a.slug)}/diff?from=${encodeURIComponent(from.value)}&to=${encodeURIComponent(to.value)}`);
      out.replaceChildren(d.changes.length ? h("table", h("caption.sr", t("ad_diff")),
        h("thead", h("tr", [t("ad_setting"), t("ad_before"), t("ad_after")].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", d.changes.map((c) => h("tr", { "data-path": c.path }, h("td", h("code", c.path)),
          h("td", h("code", value(c.before))), h("td", h("code", value(c.after)))))))
        : h("p.muted", t("ad_same")));
    } catch (e) { showError(e, err); }
  }
  from.addEventListener("change", load);
  to.addEventListener("change", load);
  load();
  return h("section.card", { id: "assistant-diff", "aria-labelledby": "diff-h" }, h("h2", { id: "diff-h" }, t("ad_diff")),
    h("div.row", h("label", { htmlFor: "diff-from" }, t("ad_from")), from, h("label", { htmlFor: "diff-to" }, t("ad_to")), to), err, out);
}

// A button that deletes assistant `a` (after a confirmation) and returns to the list.
export function deleteButton(a, err) {
  return h("button.danger", { type: "button", "data-delete-assistant": a.slug, onclick: (e) => {
    if (!confirm(t("ad_confirm_delete", a.name || a.slug))) return;
    act(e.currentTarget, async () => {
      await api("DELETE", `/v1/assistants/${encodeURIComponent(a.slug)}`);
      toast(t("deleted"));
      location.hash = "#/assistants";
    }, err);
  } }, t("ad_delete"));
}
