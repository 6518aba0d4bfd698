// Audit: who changed what, when, from where. Filters by time (the browser's local time,
// sent as UTC), actor and action; times shown in local time with the zone; older entries a
// page at a time; the filtered log exported as JSON lines.
import { api, headers } from "./api.js";
import { addStrings, t } from "./i18n.js";
import { act, errorBox, field, fmtTime, h, table } from "./ui.js";

addStrings({
  en: {
    audit_title: "Audit log", audit_filters: "Filters", audit_since: "From", audit_until: "Until",
    audit_actor: "Actor", audit_action: "Action", audit_result: "Result", audit_all: "All",
    audit_success: "Success", audit_failure: "Failure", audit_apply: "Apply",
    audit_export: "Export JSON lines", audit_more: "Older entries", audit_when: "When",
    audit_target: "Target", audit_address: "Address", audit_detail: "Detail",
    audit_none: "No entries match.", audit_actor_hint: "part of an e-mail or key name",
    audit_action_hint: "e.g. kb.delete, or a family: kb", audit_shown: "{x} entries shown",
  },
  zh: {
    audit_title: "审计日志", audit_filters: "筛选", audit_since: "起始时间", audit_until: "截止时间",
    audit_actor: "操作者", audit_action: "操作", audit_result: "结果", audit_all: "全部",
    audit_success: "成功", audit_failure: "失败", audit_apply: "应用",
    audit_export: "导出 JSON Lines", audit_more: "更早的记录", audit_when: "时间",
    audit_target: "对象", audit_address: "地址", audit_detail: "详情",
    audit_none: "没有符合条件的记录。", audit_actor_hint: "邮箱或密钥名称的一部分",
    audit_action_hint: "例如 kb.delete，或一类：kb", audit_shown: "已显示 {x} 条",
  },
});

const ACTIONS = ["auth", "auth.login", "auth.signup", "workspace.create", "member", "invitation",
  "key", "key.create", "key.revoke", "provider", "kb", "kb.create", "kb.update", "kb.delete",
  "document", "document.upload", "document.delete", "document.reindex", "chunk", "assistant"];

function query(form) {
  const q = new URLSearchParams();
  const at = (v) => (v ? new Date(v).toISOString() : "");  // datetime-local is local time
  for (const [k, v] of [["since", at(form.since.value)], ["until", at(form.until.value)],
    ["actor", form.actor.value.trim()], ["action", form.action.value.trim()], ["result", form.result.value]]) {
    if (v) q.set(k, v);
  }
  return q;
}

function row(e) {
  const target = [e.target_kind, e.target_name || e.target_id].filter(Boolean).join(" ");
  const detail = Object.keys(e.detail).length
    ? h("details", h("summary", t("audit_detail")), h("pre.audit-detail", JSON.stringify(e.detail, null, 2)))
    : "";
  return h("tr.audit-row", { "data-action": e.action, "data-result": e.result },
    h("td", h("time", { dateTime: e.at, title: e.at }, fmtTime(e.at, { seconds: true }))),
    h("td", e.actor_name, h("small.muted", ` (${e.actor_kind})`)),
    h("td", h("code", e.action)), h("td", target), h("td", e.address || "—"),
    h("td", h(`span.badge.${e.result === "success" ? "ready" : "error"}`, t(`audit_${e.result}`))),
    h("td", detail));
}

export async function auditPage(view) {
  const err = errorBox();
  const input = (id, type = "text", extra = {}) => h("input", { id, name: id, type, ...extra });
  const form = h("form.grid.controls", { id: "audit-filters" },
    field(t("audit_since"), input("since", "datetime-local")),
    field(t("audit_until"), input("until", "datetime-local")),
    field(t("audit_actor"), input("actor", "text", { placeholder: t("audit_actor_hint") })),
    field(t("audit_action"), input("action", "text", { list: "audit-actions", placeholder: t("audit_action_hint") })),
    field(t("audit_result"), h("select", { id: "result", name: "result" },
      [["", "audit_all"], ["success", "audit_success"], ["failure", "audit_failure"]]
        .map(([v, k]) => h("option", { value: v }, t(k))))),
    h("datalist", { id: "audit-actions" }, ACTIONS.map((a) => h("option", { value: a }))),
    h("div.row", h("button.primary", { type: "submit" }, t("audit_apply"))));
  const exportBtn = h("button", { type: "button", id: "audit-export" }, t("audit_export"));
  const body = h("tbody");
  const count = h("p.muted", { id: "audit-count" });
  const more = h("button", { type: "button", id: "audit-more" }, t("audit_more"));
  const moreRow = h("div.row", more);
  const list = h("div.scroll", h("table.audit", h("caption.sr", t("audit_title")),
    h("thead", h("tr", [t("audit_when"), t("audit_actor"), t("audit_action"), t("audit_target"),
      t("audit_address"), t("audit_result"), t("audit_detail")].map((c) => h("th", { scope: "col" }, c)))), body));
  let cursor = null, shown = 0, filters = new URLSearchParams();
  const load = async (append) => {
    const q = new URLSearchParams(filters);
    if (append && cursor) q.set("cursor", cursor);
    const page = await api("GET", `/v1/audit?${q}`);
    if (!append) { body.replaceChildren(); shown = 0; }
    body.append(...page.entries.map(row));
    shown += page.entries.length;
    cursor = page.next_cursor;
    moreRow.style.display = cursor ? "" : "none"; // .row's display outranks [hidden]
    count.textContent = shown ? t("audit_shown", shown) : t("audit_none");
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    filters = query(form);
    act(form.querySelector("button"), () => load(false), err);
  });
  more.addEventListener("click", () => act(more, () => load(true), err));
  exportBtn.addEventListener("click", () => act(exportBtn, async () => {
    const resp = await fetch(`/v1/audit.jsonl?${query(form)}`, { headers: headers() });
    if (!resp.ok) {
      let msg = `${resp.status}`;
      try { msg = (await resp.json()).error.message; } catch { /* not JSON */ }
      throw new Error(msg);
    }
    const a = h("a", { href: URL.createObjectURL(await resp.blob()), download: "audit.jsonl" });
    a.click();
    URL.revokeObjectURL(a.href);
  }, err));
  view.replaceChildren(h("h1", t("audit_title")), err,
    h("section.card", { "aria-labelledby": "audit-f" }, h("h2", { id: "audit-f" }, t("audit_filters")), form,
      h("div.row", exportBtn)),
    h("section.card", count, list, moreRow));
  await act(null, () => load(false), err);
}
