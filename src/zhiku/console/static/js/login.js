// Sign-in: e-mail and password for a session cookie, or an API key pasted in (kept in memory).
import { api, auth } from "./api.js";
import { t } from "./i18n.js";
import { act, errorBox, field, h } from "./ui.js";

export function loginPage(onDone) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const workspace = h("input", { type: "text", name: "workspace" });
  const err = errorBox();
  const btn = h("button.primary", { type: "submit" }, t("sign_in"));
  const form = h("form.card", { "aria-labelledby": "signin-h" },
    h("h1", { id: "signin-h" }, t("signin_title")),
    field(t("email"), email), field(t("password"), password), field(t("workspace_opt"), workspace),
    err, h("div.row", btn));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(btn, async () => {
      const body = { email: email.value.trim(), password: password.value, cookie: true };
      if (workspace.value.trim()) body.workspace = workspace.value.trim();
      await api("POST", "/v1/auth/login", body);
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
  return h("div.login", form, keyForm);
}
