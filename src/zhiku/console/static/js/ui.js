// Small DOM helpers shared by the pages.
import { lang, t } from "./i18n.js";
import "./shellstrings.js";

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
// opts.keep: the message outlives the navigation it causes (e.g. "session ended" → sign-in).
export function toast(message, kind = "ok", opts = {}) {
  const el = document.getElementById("toast");
  if (opts.keep) el.dataset.keep = "1";
  else delete el.dataset.keep;
  el.textContent = message;
  el.className = `toast ${kind}`;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === "error" ? 9000 : 3500);
}

// Hide the toast (all of them, or only an error one): a new page or a later success makes an
// old message stale.
export function clearToast(onlyErrors = false) {
  const el = document.getElementById("toast");
  if (!el || (onlyErrors && !el.classList.contains("error"))) return;
  if (el.dataset.keep && !onlyErrors) { delete el.dataset.keep; return; }
  el.hidden = true;
  clearTimeout(toastTimer);
}

// The viewer's IANA time zone (e.g. "Asia/Shanghai"), for APIs that count days in it.
export function timeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

// A server timestamp in the viewer's local time with its zone, e.g. "2026-12-04 21:39 GMT+8"
// (`opts.date`: the day only; `opts.seconds`: "21:39:05"). Server times are UTC ISO strings,
// with a "T" or a space between day and time; one without a zone designator is read as UTC.
export function fmtTime(iso, opts = {}) {
  if (!iso) return "—";
  const s = String(iso).replace(/^(\d{4}-\d\d-\d\d) (?=\d)/, "$1T");
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) || !s.includes("T") && s.length <= 10 ? s : `${s}Z`);
  if (Number.isNaN(d.getTime())) return String(iso);
  const parts = Object.fromEntries(new Intl.DateTimeFormat(lang() === "zh" ? "zh-CN" : "en-GB", {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    second: opts.seconds ? "2-digit" : undefined, hourCycle: "h23", timeZoneName: "shortOffset",
  }).formatToParts(d).map((p) => [p.type, p.value]));
  const day = `${parts.year}-${parts.month}-${parts.day}`;
  const time = `${parts.hour}:${parts.minute}${opts.seconds ? `:${parts.second}` : ""}`;
  return opts.date ? day : `${day} ${time} ${parts.timeZoneName}`;
}

// A button that copies `source`'s value (an input or a textarea) and says so; where the
// Clipboard API is refused (a page served over plain http), the text is selected and copied
// the older way.
export function copyButton(source, tag = "button") {
  return h(tag, { type: "button", onclick: async () => {
    try { await navigator.clipboard.writeText(source.value); } catch { source.select(); document.execCommand("copy"); }
    toast(t("copied"));
  } }, t("copy"));
}

// Previous and next buttons of any paged view (a list the server pages, a PDF's pages): a
// click calls `step(-1)` or `step(1)`; `update(hasPrev, hasNext)` enables them.
export function pagerButtons(step) {
  const prev = h("button.ghost", { type: "button", "data-page": "prev", onclick: () => step(-1) }, "‹ ", t("prev"));
  const next = h("button.ghost", { type: "button", "data-page": "next", onclick: () => step(1) }, t("next"), " ›");
  return { prev, next, update(hasPrev, hasNext) { prev.disabled = !hasPrev; next.disabled = !hasNext; } };
}

// A citation's location from the server ("p. 3 · Leave") with the page in the interface language.
export function fmtLocation(loc) {
  return loc ? String(loc).replace(/\bp\. (\d+)/g, (_, n) => t("page_short", n)) : "";
}

// An evaluation metric's name in the interface language ("recall@5" → "召回率@5").
export function metricName(name) {
  const [base, cut] = String(name).split("@");
  const key = `metric_${base}`;
  const text = t(key) === key ? base : t(key);
  return cut === undefined ? text : `${text}@${cut}`;
}

// Friendly text for an API error, by its type (then by its HTTP status).
export function errorText(err) {
  if (!err || typeof err !== "object") return String(err);
  const byType = err.type ? t(`err_${err.type}`) : "";
  if (err.type && byType !== `err_${err.type}`) return byType;
  if (err.status >= 500) return t("err_status_5");
  if (err.status >= 400) return t("err_status_4");
  return err.message || String(err);
}

// The server's own words, for a "details" toggle: type, status, message, field problems.
function errorDetail(err) {
  if (!err || typeof err !== "object") return "";
  const head = [err.type, err.status ? `HTTP ${err.status}` : ""].filter(Boolean).join(" · ");
  return [head, err.message].filter(Boolean).join("\n");
}

let retryPage = null;
// The shell registers how to reload the current page; error boxes offer it as "Retry".
export function onRetry(fn) { retryPage = fn; }
const RETRYABLE = new Set(["network_error", "timeout", "busy", "rate_limited", "internal_error"]);

// An error's message with its detail toggle and, where trying again may help, a Retry button
// (opts.retry, or the page reload the shell registered).
export function errorContent(err, opts = {}) {
  const detail = errorDetail(err);
  const retry = opts.retry || (err && (RETRYABLE.has(err.type) || err.status >= 500) ? retryPage : null);
  return [
    h("span.error-text", `${opts.prefix || t("failed_action")}: ${errorText(err)}`),
    detail ? h("details.error-detail", h("summary", t("details")), h("pre", detail)) : null,
    retry ? h("button.retry", { type: "button", onclick: () => retry() }, t("retry")) : null,
  ];
}

export function showError(err, where, opts = {}) {
  // a request that ended the session leaves the shell's "session ended" toast in place
  const ended = err && err.status === 401 && location.hash === "#/login";
  if (!ended) toast(`${opts.prefix || t("failed_action")}: ${errorText(err)}`, "error");
  if (where) {
    where.replaceChildren(...errorContent(err, opts).filter(Boolean));
    where.hidden = false;
  }
}

// Run an async action from a button: disable it meanwhile, show any API error; a success
// clears the error a previous try left.
export async function act(button, fn, errorBox) {
  if (button) button.disabled = true;
  if (errorBox) errorBox.hidden = true;
  try {
    const out = await fn();
    clearToast(true);
    return out;
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
