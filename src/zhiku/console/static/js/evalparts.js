// Pieces shared by the evaluation pages: target and status labels, metric formatting, polling.
import { addStrings, label, t } from "./i18n.js";
import { h } from "./ui.js";

addStrings({
  en: { withheld_questions: "Questions left out (documents you may not read)" },
  zh: { withheld_questions: "未评测的问题（涉及你无权阅读的文档）" },
});

// A question's text, or a "withheld" label for one pointing at a document the reader may not read.
export function questionText(x) {
  return x.withheld && !x.question ? h("em.muted.withheld", t("withheld")) : x.question;
}

export function targetLabel(target) {
  const [kind, rest = ""] = target.split(/:(.*)/s);
  const [name, query = ""] = rest.split("?");
  const mode = query.startsWith("mode=") ? ` · ${label("mode", query.slice(5))}` : "";
  return `${kind === "app" ? t("assistant") : t("kb")} ${name}${mode}`;
}

export function statusBadge(status) {
  const cls = status === "done" ? "ready" : status === "failed" ? "error" : "parsed";
  return h(`span.badge.${cls}`, label("st", status));
}

export function metricValue(v) {
  return v === null || v === undefined ? "—" : Number(v).toFixed(3);
}

// Call `fn` every `ms` while `el` is on the page and `fn` returns true.
export function poll(el, fn, ms = 1500) {
  const step = async () => {
    if (!el.isConnected) return;
    let again = false;
    try { again = await fn(); } catch { again = false; }
    if (again) setTimeout(step, ms);
  };
  setTimeout(step, ms);
}
