// Sign-in: e-mail and password for a session cookie (then a workspace, for people in several),
// an invitation code to join a workspace, or an API key pasted in (kept in memory).
import { api, auth } from "./api.js";
import { t } from "./i18n.js";
import { act, errorBox, field, h } from "./ui.js";

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
  return h("div.login", form, joinForm, keyForm);
}
