// Share links of a published app (an assistant, an agent or a chat-shaped workflow): a public
// chat page and an embeddable widget per link.
// The token and the identity-signing secret are shown once, right after create or rotate.
import { api } from "./api.js";
import { addStrings, t } from "./i18n.js";
import { act, copyButton, errorBox, field, fmtTime, h, showError, table, toast } from "./ui.js";

addStrings({
  en: {
    sh_title: "Share", sh_intro: "A public chat page and a widget for other sites; visitors need no account and see nothing but this app's answers.",
    sh_publish_first: "Publish the app to share it.", sh_new: "New share link", sh_name: "Label",
    sh_password: "Password (optional)", sh_password_keep: "Password (empty: unchanged)", sh_clear_password: "Remove the password",
    sh_expires: "Expires (optional)", sh_rate: "Requests per visitor a minute", sh_quota: "Answers a day",
    sh_origins: "Sites that may embed it (one origin a line, e.g. https://intranet.example)",
    sh_link: "Link", sh_state: "State", sh_on: "enabled", sh_off: "disabled", sh_enable: "Enable", sh_disable: "Disable",
    sh_rotate: "Rotate", sh_confirm_rotate: "Rotate the link? The current URL and every open chat stop working.",
    sh_once: "Copy these now — the link and the signing secret are shown only once.",
    sh_url: "Public page", sh_bubble: "Widget (floating bubble)", sh_inline: "Widget (inline)",
    sh_secret: "Signing secret for user identities (HMAC-SHA256 of “user.exp”)",
    sh_has_password: "password", sh_never: "never", sh_any_origin: "this server only", sh_save: "Save changes",
    sh_edit: "Edit", sh_editing: "Edit link {x}", sh_expiry_col: "Expires", sh_origins_col: "Embedding sites",
  },
  zh: {
    sh_title: "分享", sh_intro: "公开的聊天页面和可嵌入其他网站的小部件；访客无需账号，只能看到本应用的回答。",
    sh_publish_first: "发布应用后才能分享。", sh_new: "新建分享链接", sh_name: "名称",
    sh_password: "访问密码（可选）", sh_password_keep: "访问密码（留空则不变）", sh_clear_password: "取消密码",
    sh_expires: "过期时间（可选）", sh_rate: "每位访客每分钟请求数", sh_quota: "每日回答数上限",
    sh_origins: "允许嵌入的网站（每行一个来源，如 https://intranet.example）",
    sh_link: "链接", sh_state: "状态", sh_on: "已启用", sh_off: "已停用", sh_enable: "启用", sh_disable: "停用",
    sh_rotate: "重置链接", sh_confirm_rotate: "重置链接？当前网址和所有进行中的对话将立即失效。",
    sh_once: "请现在复制——链接和签名密钥只显示这一次。",
    sh_url: "公开页面", sh_bubble: "小部件（悬浮按钮）", sh_inline: "小部件（内嵌）",
    sh_secret: "用户身份签名密钥（对“user.exp”做 HMAC-SHA256）",
    sh_has_password: "密码", sh_never: "永不", sh_any_origin: "仅本站", sh_save: "保存修改",
    sh_edit: "编辑", sh_editing: "编辑链接 {x}", sh_expiry_col: "过期时间", sh_origins_col: "允许嵌入的网站",
  },
});

function copyRow(label, value) {
  const out = h("input.secret", { type: "text", readOnly: true, value, "aria-label": label });
  return field(label, h("div.row", out, copyButton(out)));
}

function snippet(token, mode) {
  return `<script src="${location.origin}/widget.js" data-share="${token}" data-mode="${mode}"></script>`;
}

function issuedView(made) {
  return h("div.card.once", { role: "status", "data-issued": made.id },
    h("strong", t("sh_once")),
    copyRow(t("sh_url"), location.origin + made.path),
    copyRow(t("sh_bubble"), snippet(made.token, "bubble")),
    copyRow(t("sh_inline"), snippet(made.token, "inline")),
    made.signing_secret ? copyRow(t("sh_secret"), made.signing_secret) : null);
}

function localInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// The "Share" card of an app's page (an assistant, an agent or a workflow).
export function shareSection(assistant) {
  const box = h("section.card.share-links", { "aria-labelledby": "share-h" }, h("h2", { id: "share-h" }, t("sh_title")));
  if (!assistant.published_version) {
    box.append(h("p.muted", t("sh_publish_first")));
    return box;
  }
  const base = `/v1/apps/${encodeURIComponent(assistant.slug)}/share-links`;
  const err = errorBox();
  const listBox = h("div");
  const issued = h("div");
  let editing = null;
  const name = h("input", { type: "text", name: "share_name", maxLength: 200 });
  const password = h("input", { type: "password", name: "share_password", maxLength: 200, autocomplete: "new-password" });
  const clearPw = h("input", { type: "checkbox", name: "share_clear_password" });
  const expires = h("input", { type: "datetime-local", name: "share_expires" });
  const rate = h("input", { type: "number", name: "share_rate", min: 1, max: 10000, value: 20 });
  const quota = h("input", { type: "number", name: "share_quota", min: 1, max: 10000000, value: 1000 });
  const origins = h("textarea", { name: "share_origins", rows: 2, placeholder: "https://intranet.example" });
  const heading = h("h3", t("sh_new"));
  const submit = h("button.primary", { type: "submit" }, t("create"));
  const cancel = h("button.ghost", { type: "button" }, t("close"));
  cancel.style.display = "none";  // shown while a link is edited
  const pwLabel = h("div", { hidden: true }, h("label.check", clearPw, " ", t("sh_clear_password")));
  const pwField = field(t("sh_password"), password);
  const form = h("form.share-form", heading,
    h("div.grid", field(t("sh_name"), name), pwField), pwLabel,
    h("div.grid", field(t("sh_expires"), expires), field(t("sh_rate"), rate), field(t("sh_quota"), quota)),
    field(t("sh_origins"), origins), h("div.row", submit, cancel));

  const reset = () => {
    editing = null;
    form.reset();
    rate.value = 20; quota.value = 1000;
    heading.textContent = t("sh_new");
    submit.textContent = t("create");
    cancel.style.display = "none";
    pwLabel.hidden = true;
    pwField.querySelector("label").textContent = t("sh_password");
  };
  const edit = (link) => {
    editing = link;
    name.value = link.name; password.value = ""; clearPw.checked = false;
    expires.value = localInput(link.expires_at); rate.value = link.rate_per_minute; quota.value = link.daily_quota;
    origins.value = link.allowed_origins.join("\n");
    heading.textContent = t("sh_editing", link.name || `#${link.id}`);
    submit.textContent = t("sh_save");
    cancel.style.display = "";
    pwLabel.hidden = !link.has_password;
    pwField.querySelector("label").textContent = t("sh_password_keep");
    name.focus();
  };
  cancel.addEventListener("click", reset);

  async function load() {
    let links;
    try { links = await api("GET", base); } catch (e) { showError(e, err); return; }
    listBox.replaceChildren(links.length ? table(
      [t("sh_name"), t("sh_link"), t("sh_state"), t("sh_expiry_col"), t("sh_origins_col"), t("actions")],
      links.map((l) => h("tr", { "data-link": l.id },
        h("td", l.name || `#${l.id}`, l.has_password ? h("small.muted", ` · ${t("sh_has_password")}`) : null),
        h("td", h("code", `/s/…${l.token_hint}`)),
        h("td", l.enabled ? t("sh_on") : t("sh_off")),
        h("td", l.expires_at ? fmtTime(l.expires_at) : t("sh_never")),
        h("td", l.allowed_origins.length ? l.allowed_origins.join(" ") : h("span.muted", t("sh_any_origin"))),
        h("td.actions",
          h("button.ghost", { type: "button", onclick: () => edit(l) }, t("sh_edit")),
          h("button.ghost", { type: "button", onclick: (e) => act(e.currentTarget, async () => {
            await api("PATCH", `/v1/share-links/${l.id}`, { enabled: !l.enabled });
            await load();
          }, err) }, l.enabled ? t("sh_disable") : t("sh_enable")),
          h("button.ghost", { type: "button", onclick: (e) => {
            if (!confirm(t("sh_confirm_rotate"))) return;
            act(e.currentTarget, async () => {
              const made = await api("POST", `/v1/share-links/${l.id}/rotate`, {});
              issued.replaceChildren(issuedView(made));
              await load();
            }, err);
          } }, t("sh_rotate")),
          h("button.ghost.danger", { type: "button", onclick: (e) => {
            if (!confirm(t("confirm_delete", l.name || `#${l.id}`))) return;
            act(e.currentTarget, async () => {
              await api("DELETE", `/v1/share-links/${l.id}`);
              issued.replaceChildren();
              toast(t("deleted"));
              await load();
            }, err);
          } }, t("delete"))))), t("sh_title")) : h("p.muted", t("none_yet")));
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(submit, async () => {
      const body = {
        name: name.value.trim(),
        expires_at: expires.value ? new Date(expires.value).toISOString() : null,
        rate_per_minute: Number(rate.value) || 20, daily_quota: Number(quota.value) || 1000,
        allowed_origins: origins.value.split(/\s+/).filter(Boolean),
      };
      if (editing) {
        if (password.value) body.password = password.value;
        else if (clearPw.checked) body.password = null;
        await api("PATCH", `/v1/share-links/${editing.id}`, body);
        toast(t("saved"));
      } else {
        if (password.value) body.password = password.value;
        const made = await api("POST", base, body);
        issued.replaceChildren(issuedView(made));
      }
      reset();
      await load();
    }, err);
  });
  box.append(h("p.muted", t("sh_intro")), issued, listBox, form, err);
  load();
  return box;
}
