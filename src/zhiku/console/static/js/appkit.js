// Shared by the app pages (apps, workflow editor, agent editor, tool sources): their strings,
// their stylesheet (loaded with the first of them, not on the console's first load), and small
// helpers.
import "./appstrings.js";
import { t } from "./i18n.js";
import { h } from "./ui.js";

export function useStyles() {
  if (document.getElementById("apps-css")) return;
  document.head.append(h("link", { id: "apps-css", rel: "stylesheet", href: "/console/apps.css" }));
}

export function statusBadge(live) {
  return live ? h("span.badge.ready", t("app_live", live)) : h("span.badge", t("draft"));
}

export function download(name, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function pretty(value) {
  if (value === undefined) return "";
  try { return JSON.stringify(value, null, 2); } catch { return String(value); }
}

// A value shown as compact JSON in a <pre>, cut when long (the full text in a <details>).
export function jsonBlock(value, limit = 600) {
  const text = typeof value === "string" ? value : pretty(value);
  if (text.length <= limit) return h("pre.json", text);
  return h("details.json-more", h("summary", h("pre.json", text.slice(0, limit) + "…")), h("pre.json", text));
}

export function citationList(citations) {
  return h("ol.cites", citations.map((c) => h("li", { "data-n": c.n },
    h("strong", `[${c.n ?? "?"}] ${c.title || c.source || ""}`),
    c.title && c.source && c.title !== c.source ? h("span.muted", ` · ${c.source}`) : null,
    c.page ? h("span.muted", ` · ${t("page_n", c.page)}`) : null,
    c.text ? h("div.cite-text", (c.quote || c.text).slice(0, 400)) : null)));
}

// Ask before leaving a page with unsaved edits: a link inside the console, or the tab closing.
export function guardUnsaved(view, isDirty) {
  const token = String(Math.random()); // a page drawn again into the same view replaces its guard
  view.dataset.guard = token;
  const mine = () => document.contains(view) && view.dataset.guard === token;
  const leaving = () => mine() && isDirty();
  const onClick = (e) => {
    if (!mine()) { document.removeEventListener("click", onClick, true); return; }
    const a = e.target.closest && e.target.closest("a[href^='#/']");
    if (a && leaving() && !confirm(t("leave_unsaved"))) { e.preventDefault(); e.stopPropagation(); }
  };
  document.addEventListener("click", onClick, true);
  window.addEventListener("beforeunload", (e) => { if (leaving()) e.preventDefault(); });
}

export const BUILTIN_TOOLS = ["calculator", "current_time"];
