// Small DOM helpers shared by the pages.
import { t } from "./i18n.js";

// h("button.primary", {onclick}, "text", child…)
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name || "div");
  if (classes.length) el.className = classes.join(" ");
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else if (k in el && k !== "list" && k !== "form") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let toastTimer;
export function toast(message, kind = "ok") {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.className = `toast ${kind}`;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === "error" ? 9000 : 3500);
}

export function showError(err, where) {
  const type = err && err.type ? ` (${err.type})` : "";
  const text = `${t("failed_action")}: ${(err && err.message) || err}${type}`;
  toast(text, "error");
  if (where) {
    where.textContent = text;
    where.hidden = false;
  }
}

// Run an async action from a button: disable it meanwhile, show any API error.
export async function act(button, fn, errorBox) {
  if (button) button.disabled = true;
  if (errorBox) errorBox.hidden = true;
  try {
    return await fn();
  } catch (e) {
    showError(e, errorBox);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

export function errorBox() {
  return h("p.error", { role: "alert", hidden: true });
}

export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h("div.field", h("label", { htmlFor: id }, label), input, hint ? h("small.muted", hint) : null);
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function num(v, digits = 3) {
  return v === null || v === undefined ? "—" : Number(v).toFixed(digits);
}

export function table(columns, rows, caption) {
  return h("div.scroll",
    h("table",
      caption ? h("caption.sr", caption) : null,
      h("thead", h("tr", columns.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", rows)));
}

// Query terms for highlighting: Latin words, and CJK runs cut into characters pairs.
export function terms(query) {
  const out = new Set();
  for (const m of query.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    const w = m[0];
    if (/\p{Script=Han}/u.test(w)) {
      for (const run of w.match(/\p{Script=Han}+/gu) || []) {
        if (run.length === 1) out.add(run);
        for (let i = 0; i + 1 < run.length; i++) out.add(run.slice(i, i + 2));
      }
      for (const lat of w.match(/[a-z0-9]{2,}/g) || []) out.add(lat);
    } else if (w.length > 2) {
      out.add(w.length > 4 ? w.replace(/(ing|ed|es|s)$/, "") : w); // "employees" → "employe"
    }
  }
  return [...out];
}

export function highlight(text, words) {
  const frag = document.createDocumentFragment();
  if (!words.length) { frag.append(text); return frag; }
  const esc = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const re = new RegExp(`(${esc.join("|")})`, "giu");
  let last = 0;
  for (const m of text.matchAll(re)) {
    frag.append(text.slice(last, m.index), h("mark", m[0]));
    last = m.index + m[0].length;
  }
  frag.append(text.slice(last));
  return frag;
}

// A modal dialog (native <dialog>: focus is trapped and Escape closes it).
export function dialog(title, body) {
  const close = h("button.ghost", { type: "button" }, t("close"));
  const dlg = h("dialog.modal", { "aria-label": title },
    h("div.modal-head", h("h2", title), close), body);
  close.addEventListener("click", () => dlg.close());
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}
