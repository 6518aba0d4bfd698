// Workspace administration: switch and create workspaces, invitations (to accept, and sent),
// members and roles, API keys (create with scope, the secret shown once with a copy button,
// revoke).
import { api, can } from "./api.js";
import { addStrings, label, t } from "./i18n.js";
import { signinPolicy } from "./signinpolicy.js";
import { act, copyButton, errorBox, field, fmtTime, h, showError, table, toast } from "./ui.js";

const ROLES = ["owner", "admin", "editor", "viewer"];

addStrings({
  en: { already_member: "{x} is already a member of this workspace. To change what they may do, pick another role in their row above." },
  zh: { already_member: "{x} 已经是本工作区的成员。如需调整权限，请在上方其所在行选择新的角色。" },
});

export async function adminPage(view) {
  const err = errorBox();
  const ws = h("section.card", { "aria-labelledby": "ws-h" }, h("h2", { id: "ws-h" }, t("workspaces")));
  const members = h("section.card", { "aria-labelledby": "mem-h" }, h("h2", { id: "mem-h" }, t("members")));
  const keys = h("section.card", { "aria-labelledby": "keys-h" }, h("h2", { id: "keys-h" }, t("api_keys")));
  const signin = h("section.card", { "aria-labelledby": "signin-policy-h" }, h("h2", { id: "signin-policy-h" }, t("signin_policy")));
  // members, keys and the sign-in policy are for admins; everyone may switch workspaces and
  // answer invitations
  const admin = can("admin");
  view.replaceChildren(...[h("h1", t("admin_title")), err, ws, admin ? members : null, admin ? signin : null, admin ? keys : null].filter(Boolean));
  await Promise.all([workspaces(ws), admin ? memberList(members) : null, admin ? signinPolicy(signin) : null, admin ? keyList(keys) : null]);
}

async function workspaces(box) {
  const err = errorBox();
  let list = [], me;
  try {
    [list, me] = await Promise.all([api("GET", "/v1/workspaces"), api("GET", "/v1/auth/me")]);
  } catch (e) { showError(e, err); box.append(err); return; }
  const pick = h("select", { id: "ws-pick" }, list.map((w) => h("option", { value: w.name, selected: w.id === me.workspace_id },
    w.role ? `${w.name} (${label("role", w.role)})` : w.name)));
  const password = h("input", { type: "password", autocomplete: "current-password" });
  const switchBtn = h("button", { type: "submit" }, t("switch"));
  const switchForm = h("form.row", field(t("workspace"), pick), me.user_id ? field(t("password"), password) : null, switchBtn);
  switchForm.addEventListener("submit", (e) => {
    e.preventDefault();
    act(switchBtn, async () => {
      const email = localStorage.getItem("zhiku.email");
      if (!email || !me.user_id) throw new Error(t("switch_needs_login"));
      await api("POST", "/v1/auth/login", { email, password: password.value, workspace: pick.value, cookie: true });
      location.reload();
    }, err);
  });
  const name = h("input", { type: "text", required: true, maxLength: 128 });
  const createBtn = h("button", { type: "submit" }, t("create"));
  const createForm = h("form.row", field(t("new_workspace"), name), createBtn);
  createForm.addEventListener("submit", (e) => {
    e.preventDefault();
    act(createBtn, async () => {
      await api("POST", "/v1/workspaces", { name: name.value.trim() });
      toast(t("saved"));
      name.value = "";
      box.replaceChildren(box.firstChild);
      await workspaces(box);
    }, err);
  });
  const mine = me.user_id ? await myInvitations(box, err) : null;
  box.append(...[switchForm, me.user_id ? createForm : null, mine, err].filter(Boolean));
}

// Invitations addressed to the signed-in user: accept (then switch to the workspace) or decline.
async function myInvitations(box, err) {
  const rows = await api("GET", "/v1/auth/invitations").catch((e) => { showError(e, err); return []; });
  if (!rows.length) return null;
  const reload = async () => { box.replaceChildren(box.firstChild); await workspaces(box); };
  return table([t("workspace"), t("role"), t("invited_by"), t("actions")], rows.map((i) =>
    h("tr", { "data-invitation": i.workspace }, h("td", i.workspace), h("td", label("role", i.role)), h("td", i.invited_by || "—"),
      h("td", h("button.primary", { type: "button", onclick: (e) => act(e.currentTarget, async () => {
        await api("POST", `/v1/auth/invitations/${i.id}/accept`); toast(t("joined")); await reload();
      }, err) }, t("accept")), " ",
      h("button", { type: "button", onclick: (e) => act(e.currentTarget, async () => {
        await api("POST", `/v1/auth/invitations/${i.id}/decline`); await reload();
      }, err) }, t("decline"))))), t("my_invitations"));
}

async function memberList(box) {
  const err = errorBox();
  const body = h("div");
  const email = h("input", { type: "email", required: true });
  const role = h("select", ROLES.map((r) => h("option", { value: r, selected: r === "viewer" }, label("role", r))));
  const invited = h("div");
  const pending = h("div");
  const add = h("button", { type: "submit" }, t("invite"));
  const form = h("form.grid", field(t("email"), email), field(t("role"), role), h("div.field.end", add));
  let present = [];
  // an e-mail that is already a member: say so, and point at the role to change instead
  function alreadyMember(member) {
    invited.replaceChildren();
    err.replaceChildren(h("p", t("already_member", member.email)));
    err.hidden = false;
    const row = [...body.querySelectorAll("tr[data-member]")].find((r) => r.dataset.member === member.email);
    if (row) {
      row.classList.add("flash");
      row.querySelector("select").focus();
    }
  }
  async function load() {
    try {
      const rows = await api("GET", "/v1/users");
      present = rows;
      body.replaceChildren(table([t("email"), t("role"), t("created"), t("actions")], rows.map((m) => {
        const sel = h("select", { "aria-label": `${t("role")} ${m.email}` }, ROLES.map((r) => h("option", { value: r, selected: r === m.role }, label("role", r))));
        sel.addEventListener("change", () => act(sel, async () => {
          await api("PATCH", `/v1/users/${m.id}`, { role: sel.value });
          toast(t("saved"));
        }, err).then(load));
        return h("tr", { "data-member": m.email }, h("td", m.email), h("td", sel), h("td", fmtTime(m.created_at, { date: true })),
          h("td", h("button.danger", { type: "button", onclick: (e) => {
            if (!confirm(t("confirm_delete", m.email))) return;
            act(e.currentTarget, async () => { await api("DELETE", `/v1/users/${m.id}`); await load(); }, err);
          } }, t("remove"))));
      }), t("members")));
      const waiting = await api("GET", "/v1/invitations");
      pending.replaceChildren(waiting.length ? table([t("email"), t("role"), t("expires"), t("actions")], waiting.map((i) =>
        h("tr", { "data-invitation": i.email }, h("td", i.email), h("td", label("role", i.role)), h("td", fmtTime(i.expires_at)),
          h("td", h("button.danger", { type: "button", onclick: (e) => act(e.currentTarget, async () => {
            await api("DELETE", `/v1/invitations/${i.id}`); toast(t("revoked")); await load();
          }, err) }, t("revoke"))))), t("invitations")) : "");
    } catch (e) { showError(e, err); }
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const member = present.find((m) => m.email.toLowerCase() === email.value.trim().toLowerCase());
    if (member) { alreadyMember(member); return; }
    act(add, async () => {
      let made;
      try {
        made = await api("POST", "/v1/users", { email: email.value.trim(), role: role.value });
      } catch (e2) {
        if (e2.status !== 409) throw e2;
        await load();  // someone else added them meanwhile
        const now = present.find((m) => m.email.toLowerCase() === email.value.trim().toLowerCase());
        if (!now) throw e2;
        alreadyMember(now);
        return;
      }
      const out = h("input.secret", { type: "text", readOnly: true, value: made.token, "aria-label": t("invitation_code") });
      invited.replaceChildren(h("div.card.once", { role: "status" }, h("strong", t("invite_once")), h("div.row", out)));
      email.value = "";
      await load();
    }, err);
  });
  box.append(body, pending, invited, form, err);
  await load();
}

async function keyList(box) {
  const err = errorBox();
  const body = h("div");
  const secret = h("div");
  const name = h("input", { type: "text", maxLength: 200 });
  const access = h("select", ["read", "read_write", "admin"].map((a) => h("option", { value: a }, label("access", a))));
  const kbs = h("input", { type: "text", placeholder: t("all") });
  const assistants = h("input", { type: "text", placeholder: t("all") });
  const create = h("button.primary", { type: "submit" }, t("create_key"));
  const form = h("form.grid", field(t("name"), name), field(t("access"), access),
    field(t("key_kbs"), kbs, t("comma_sep")), field(t("key_assistants"), assistants, t("comma_sep")), h("div.field.end", create));
  const listOf = (v) => (v.trim() ? v.split(",").map((s) => s.trim()).filter(Boolean) : null);
  async function load() {
    try {
      const rows = await api("GET", "/v1/keys");
      body.replaceChildren(table([t("name"), t("prefix"), t("access"), t("scope"), t("last_used"), t("status"), t("actions")],
        rows.map((k) => h("tr", { "data-key": k.name },
          h("td", k.name || "—"), h("td", h("code", `${k.prefix}…`)), h("td", label("access", k.access)),
          h("td", [k.knowledge_bases ? `${t("kb")}: ${k.knowledge_bases.join(", ")}` : null,
            k.assistants ? `${t("assistant")}: ${k.assistants.join(", ")}` : null].filter(Boolean).join("; ") || t("all")),
          h("td", fmtTime(k.last_used_at)),
          h("td", k.revoked_at ? h("span.badge.error", t("revoked")) : h("span.badge.ready", t("active"))),
          h("td", k.revoked_at ? null : h("button.danger", { type: "button", onclick: (e) => {
            if (!confirm(t("confirm_revoke", k.name || k.prefix))) return;
            act(e.currentTarget, async () => { await api("DELETE", `/v1/keys/${k.id}`); toast(t("revoked")); await load(); }, err);
          } }, t("revoke"))))), t("api_keys")));
    } catch (e) { showError(e, err); }
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(create, async () => {
      const made = await api("POST", "/v1/keys", { name: name.value, access: access.value,
        knowledge_bases: listOf(kbs.value), assistants: listOf(assistants.value) });
      const out = h("input.secret", { type: "text", readOnly: true, value: made.key, "aria-label": t("new_key") });
      secret.replaceChildren(h("div.card.once", { role: "status" }, h("strong", t("key_once")), h("div.row", out, copyButton(out))));
      name.value = kbs.value = assistants.value = "";
      await load();
    }, err);
  });
  box.append(body, secret, form, err);
  await load();
}
