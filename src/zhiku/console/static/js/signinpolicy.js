// A workspace's sign-in policy (admins): whether members may sign in with e-mail and password,
// or only through single sign-on / the directory. The instance owner keeps password sign-in.
import { api } from "./api.js";
import { addStrings, t } from "./i18n.js";
import { act, errorBox, h, showError, toast } from "./ui.js";

addStrings({
  en: {
    signin_policy: "Sign-in", password_signin: "Allow sign-in with e-mail and password",
    password_signin_hint: "Off: members sign in with single sign-on or their directory account. The instance owner (the first account) can always use a password, so nobody is locked out.",
  },
  zh: {
    signin_policy: "登录方式", password_signin: "允许使用邮箱和密码登录",
    password_signin_hint: "关闭后，成员须通过单点登录或目录账号登录。实例所有者（第一个账号）始终可用密码登录，避免所有人被锁在外面。",
  },
});

export async function signinPolicy(box) {
  const err = errorBox();
  let policy;
  try { policy = await api("GET", "/v1/workspace/signin"); } catch (e) { showError(e, err); box.append(err); return; }
  const toggle = h("input", { type: "checkbox", id: "password-signin", checked: policy.password_signin });
  toggle.addEventListener("change", () => {
    act(toggle, async () => {
      try {
        const saved = await api("PATCH", "/v1/workspace/signin", { password_signin: toggle.checked });
        toggle.checked = saved.password_signin;
        toast(t("saved"));
      } catch (e) { toggle.checked = !toggle.checked; throw e; }
    }, err);
  });
  box.append(h("label.check", toggle, t("password_signin")),
    h("p.muted", t("password_signin_hint")), err);
}
