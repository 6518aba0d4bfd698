// The console shell: header, navigation, hash routes, sign-in state.
import { api, auth, can, limits, setPrincipal } from "./api.js";
import { LANGS, addStrings, lang, setLang, t } from "./i18n.js";
import { clearToast, errorContent, h, onRetry, toast } from "./ui.js";
import { loginPage } from "./login.js";

// Page modules load on first use: [route, module, exported page function].
const ROUTES = [
  [/^#\/kbs\/([^/]+)\/docs\/(\d+)$/, "./document.js", "documentPage"],
  [/^#\/kbs\/([^/]+)$/, "./kbs.js", "kbPage"],
  [/^#\/kbs$/, "./kbs.js", "kbListPage"],
  [/^#\/sources$/, "./sources.js", "sourcesPage"],
  [/^#\/search$/, "./search.js", "searchPage"],
  [/^#\/assistants(?:\/([^/]+))?$/, "./assistants.js", "assistantsPage"],
  [/^#\/apps$/, "./apps.js", "appsPage"],
  [/^#\/workflows\/([^/]+)$/, "./workflow.js", "workflowPage"],
  [/^#\/agents(?:\/([^/]+))?$/, "./agent.js", "agentPage"],
  [/^#\/tool-sources$/, "./toolsources.js", "toolSourcesPage"],
  [/^#\/chat(?:\/([^/]+))?$/, "./chat.js", "chatPage"],
  [/^#\/graph(?:\/([^/]+))?$/, "./graph.js", "graphPage"],
  [/^#\/evals\/runs\/(\d+)$/, "./evalrun.js", "evalRunPage"],
  [/^#\/evals\/compare\/(\d+)\/(\d+)$/, "./evalcompare.js", "evalComparePage"],
  [/^#\/evals$/, "./evals.js", "evalsPage"],
  [/^#\/usage$/, "./usage.js", "usagePage"],
  [/^#\/logs(?:\/(\d+))?$/, "./logs.js", "logsPage"],
  [/^#\/admin$/, "./admin.js", "adminPage"],
  [/^#\/audit$/, "./audit.js", "auditPage"],
  [/^#\/groups$/, "./groups.js", "groupsPage"],
  [/^#\/models$/, "./models.js", "modelsPage"],
];
const NAV = [["#/kbs", "nav_kbs"], ["#/sources", "nav_sources"], ["#/search", "nav_search"],
  ["#/assistants", "nav_assistants"], ["#/apps", "nav_apps"],
  ["#/chat", "nav_chat"], ["#/graph", "nav_graph"], ["#/evals", "nav_evals"], ["#/logs", "nav_logs"],
  ["#/usage", "nav_usage"],
  ["#/models", "nav_models"], ["#/admin", "nav_admin"], ["#/groups", "nav_groups"],
  ["#/audit", "nav_audit"]];
addStrings({
  en: { nav_models: "Models", nav_groups: "Groups" },
  zh: { nav_models: "模型", nav_groups: "权限组" },
});

// Navigation entries that need more than read access.
const NAV_NEEDS = { "#/usage": "admin", "#/logs": "admin", "#/audit": "admin", "#/groups": "admin" };

export const session = { me: null };

// The nav entry of the page shown (workflow, agent and tool source pages belong to Apps).
function current(href) {
  return location.hash.startsWith(href) || (href === "#/apps" && /^#\/(workflows|agents|tool-sources)\b/.test(location.hash));
}

function header() {
  const top = document.getElementById("top");
  const select = h("select", { id: "lang", "aria-label": t("language") },
    Object.entries(LANGS).map(([v, name]) => h("option", { value: v, selected: v === lang() }, name)));
  select.addEventListener("change", () => { setLang(select.value); render(); });
  const entries = NAV.filter(([href]) => !NAV_NEEDS[href] || can(NAV_NEEDS[href]));
  const nav = session.me ? h("nav", { "aria-label": t("nav_label") }, h("ul", entries.map(([href, key]) =>
    h("li", h("a", { href, "aria-current": current(href) ? "page" : null }, t(key)))))) : null;
  const who = session.me ? h("span.who", `${t("signed_in_as")}: ${session.me.workspace}`) : null;
  const out = session.me ? h("button.ghost", { type: "button", onclick: signOut }, t("sign_out")) : null;
  top.replaceChildren(...[h("a.brand", { href: "#/kbs" }, "智库 Zhiku"), nav, h("div.tools", who, select, out)].filter(Boolean));
  document.querySelector(".skip").textContent = t("skip");
}

async function signOut() {
  try { await api("POST", "/v1/auth/logout"); } catch { /* the token may be an API key or gone */ }
  auth.token = "";
  session.me = null;
  setPrincipal(null);
  location.hash = "#/login";
}

// The page is loading: a note that appears at once, says "slow" after limits.slowMs and goes
// when the page has loaded.
function loadingNote() {
  const note = h("p.loading.muted", { role: "status" }, h("span.spinner", { "aria-hidden": "true" }), t("loading"));
  const timer = setTimeout(() => { note.classList.add("slow"); note.append(h("span.slow-note", ` ${t("slow")}`)); }, limits.slowMs);
  return { note, done() { clearTimeout(timer); note.remove(); } };
}

async function me() {
  session.me = await api("GET", "/v1/auth/me");
  setPrincipal(session.me);
}

export async function render() {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  document.title = t("app");
  const main = document.getElementById("main");
  if (!session.me && (auth.token || auth.cookieSession)) {
    try { await me(); } catch (e) {
      if (e.status === 401 || e.status === 403) auth.token = "";
      else { header(); main.replaceChildren(h("div.page", h("div.error.load-error", { role: "alert" }, errorContent(e, { prefix: t("load_failed"), retry: render })))); return; }
    }
  }
  if (!session.me) {
    header();
    if (location.hash !== "#/login") { location.hash = "#/login"; return; }
    // a second render (a hash change and a failed session check racing) keeps what was typed
    if (main.querySelector(".login")) return;
    main.replaceChildren(loginPage(async () => {
      await me();
      location.hash = "#/kbs";
    }));
    return;
  }
  if (!location.hash || location.hash === "#/login") { location.hash = "#/kbs"; return; }
  header();
  for (const [re, path, name] of ROUTES) {
    const m = location.hash.match(re);
    if (m) {
      const view = h("div.page", { "aria-busy": "true" });
      const loading = loadingNote();
      main.replaceChildren(view, loading.note);
      let page;
      try {
        page = (await import(path))[name];
      } catch {
        loading.done();
        view.replaceChildren(h("div.error.load-error", { role: "alert" }, t("module_failed"), " ",
          h("button", { type: "button", onclick: () => location.reload() }, t("reload"))));
        view.removeAttribute("aria-busy");
        return;
      }
      if (main.firstChild !== view) return; // navigated away meanwhile
      try {
        await page(view, ...m.slice(1).map((x) => (x === undefined ? undefined : decodeURIComponent(x))));
      } catch (e) {
        if (main.firstChild === view) {
          view.append(h("div.error.load-error", { role: "alert" }, errorContent(e, { prefix: t("load_failed"), retry: render })));
        }
      } finally {
        loading.done();
        view.removeAttribute("aria-busy");
      }
      if (location.hash === "#/kbs" && main.firstChild === view) {
        (await import("./firstrun.js")).firstRun(view);
      }
      return;
    }
  }
  location.hash = "#/kbs";
}

window.addEventListener("zhiku:unauthorized", () => {
  if (!session.me) return; // a sign-in attempt shows its own error
  session.me = null;
  setPrincipal(null);
  auth.token = "";
  toast(t("session_expired"), "error", { keep: true });
  location.hash = "#/login";
});
// After a navigation, focus moves to the new page's heading (screen readers announce it)
// without a focus frame, unless the page focused a field of its own (the chat composer); a
// stale message from the previous page goes.
async function navigate() {
  clearToast();
  await render();
  const main = document.getElementById("main");
  const heading = main.querySelector("h1");
  const own = main.contains(document.activeElement) && document.activeElement !== main;
  if (heading && !own) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}
onRetry(() => render());
window.addEventListener("hashchange", navigate);
render();
