// Sign-in: e-mail and password for a session cookie (then a workspace, for people in several),
// single sign-on with the server's OIDC provider, a directory (LDAP / Active Directory)
// account, an invitation code to join a workspace, or an API key pasted in (kept in memory).
import { api, auth } from "./api.js";
import { addStrings, t } from "./i18n.js";
import { act, errorBox, field, h } from "./ui.js";

addStrings({
  en: {
    sso_with: "Sign in with {x}", sso_or: "Or with e-mail and password",
    directory_title: "Directory account", directory_login: "Directory user name", directory_password: "Directory password",
    directory_sign_in: "Use directory account", sso_failed: "Single sign-on failed: {x}",
  },
  zh: {
    sso_with: "使用 {x} 登录", sso_or: "或使用邮箱和密码",
    directory_title: "目录账号（LDAP / AD）", directory_login: "目录用户名", directory_password: "目录密码",
    directory_sign_in: "使用目录账号登录", sso_failed: "单点登录失败：{x}",
  },
});

// The error a failed OIDC callback sent back in the address (?sso_error=…), taken out of the
// address so a reload does not show it again.
function ssoError() {
  const params = new URLSearchParams(location.search);
  const message = params.get("sso_error");
  if (message === null) return null;
  params.delete("sso_error");
  const query = params.toString();
  history.replaceState(null, "", location.pathname + (query ? `?${query}` : "") + location.hash);
  return message;
}

// Sign-in methods the server offers besides passwords: a button that starts OIDC sign-in
// (a full-page navigation to the provider) and a form for a directory account.
async function otherMethods(form, workspaceOf, onDone) {
  let methods;
  try { methods = await api("GET", "/v1/auth/methods"); } catch { return; }
  if (methods.oidc) {
    const sso = h("a.button.primary.sso", { href: methods.oidc.login_url, id: "sso-login" }, t("sso_with", methods.oidc.name));
    sso.addEventListener("click", () => {
      const chosen = workspaceOf();
      sso.href = methods.oidc.login_url + (chosen ? `?workspace=${encodeURIComponent(chosen)}` : "");
    });
    form.before(h("div.card.sso-card", h("div.row", sso), h("p.muted", t("sso_or"))));
  }
  if (methods.ldap) form.after(directoryForm(workspaceOf, onDone));
}

function directoryForm(workspaceOf, onDone) {
  const login = h("input", { type: "text", name: "directory_login", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "directory_password", autocomplete: "current-password", required: true });
  const pick = h("select", { name: "directory_workspace" });
  const pickField = field(t("choose_workspace"), pick);  // added when the user has several
  const err = errorBox();
  const btn = h("button", { type: "submit" }, t("directory_sign_in"));
  const form = h("form.card.directory", { "aria-labelledby": "dir-h" }, h("h2", { id: "dir-h" }, t("directory_title")),
    field(t("directory_login"), login), field(t("directory_password"), password), err, h("div.row", btn));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(btn, async () => {
      const body = { login: login.value.trim(), password: password.value, cookie: true };
      const chosen = pickField.isConnected ? pick.value : workspaceOf();
      if (chosen) body.workspace = chosen;
      try {
        await api("POST", "/v1/auth/ldap/login", body);
      } catch (e2) {
        if (e2.type !== "choose_workspace" || !Array.isArray(e2.details.workspaces)) throw e2;
        pick.replaceChildren(...e2.details.workspaces.map((n) => h("option", { value: n }, n)));
        if (!pickField.isConnected) err.before(pickField);
        pick.focus();
        return;
      }
      auth.token = "";
      const me = await api("GET", "/v1/auth/me");
      localStorage.setItem("zhiku.email", (await api("GET", `/v1/users/${me.user_id}`)).email);
      await onDone();
    }, err);
  });
  return form;
}

export function loginPage(onDone) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const workspace = h("input", { type: "text", name: "workspace" });
  const wsField = field(t("workspace_opt"), workspace);
  const pick = h("select", { name: "workspace_pick" });
  const pickField = field(t("choose_workspace"), pick);  // shown in place of wsField when needed
  const err = errorBox();
  const btn = h("button.primary", { type: "submit" }, t("sign_in"));
  const form = h("form.card", { "aria-labelledby": "signin-h" },
    h("h1", { id: "signin-h" }, t("signin_title")),
    field(t("email"), email), field(t("password"), password), wsField,
    err, h("div.row", btn));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(btn, async () => {
      const body = { email: email.value.trim(), password: password.value, cookie: true };
      const chosen = pickField.isConnected ? pick.value : workspace.value.trim();
      if (chosen) body.workspace = chosen;
      try {
        await api("POST", "/v1/auth/login", body);
      } catch (e2) {
        // the password was right and the account has several workspaces: let the user pick one
        if (e2.type !== "choose_workspace" || !Array.isArray(e2.details.workspaces)) throw e2;
        pick.replaceChildren(...e2.details.workspaces.map((n) => h("option", { value: n }, n)));
        if (wsField.isConnected) wsField.replaceWith(pickField);
        pick.focus();
        return;
      }
      auth.token = "";
      localStorage.setItem("zhiku.email", body.email);
      await onDone();
    }, err);
  });

  const key = h("input", { type: "password", name: "api_key", autocomplete: "off", required: true });
  const keyErr = errorBox();
  const keyBtn = h("button", { type: "submit" }, t("use_key"));
  const keyForm = h("form.card", h("h2", t("or_key")), field(t("api_key"), key), keyErr, h("div.row", keyBtn));
  keyForm.addEventListener("submit", (e) => {
    e.preventDefault();
    act(keyBtn, async () => {
      auth.token = key.value.trim();
      try { await onDone(); } catch (e2) { auth.token = ""; throw e2; }
    }, keyErr);
  });
  const code = h("input", { type: "text", name: "invitation", autocomplete: "off", required: true });
  const joinName = h("input", { type: "text", name: "name", autocomplete: "name", maxLength: 200 });
  const joinPassword = h("input", { type: "password", name: "new_password", autocomplete: "new-password", minLength: 10, required: true });
  const joinErr = errorBox();
  const joinBtn = h("button", { type: "submit" }, t("join"));
  const joinForm = h("form.card", h("h2", t("join_title")), field(t("invitation_code"), code),
    field(t("name"), joinName), field(t("join_password"), joinPassword, t("password_rule")), joinErr, h("div.row", joinBtn));
  joinForm.addEventListener("submit", (e) => {
    e.preventDefault();
    act(joinBtn, async () => {
      await api("POST", "/v1/auth/signup", { token: code.value.trim(), password: joinPassword.value, name: joinName.value.trim(), cookie: true });
      auth.token = "";
      const me = await api("GET", "/v1/auth/me");
      localStorage.setItem("zhiku.email", (await api("GET", `/v1/users/${me.user_id}`)).email);
      await onDone();
    }, joinErr);
  });
  const failed = ssoError();
  if (failed !== null) {  // shown as text: it comes from the address bar
    err.textContent = t("sso_failed", failed);
    err.hidden = false;
  }
  otherMethods(form, () => (pickField.isConnected ? pick.value : workspace.value.trim()), onDone);
  return h("div.login", form, joinForm, keyForm);
}
