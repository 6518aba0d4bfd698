// A knowledge base's documents at any scale: one page at a time from the server (search by
// name, status and tag filters, sort, a total count), with selection and batch delete,
// re-index and tag.
import { api, apiPage, can, stream } from "./api.js";
import { addStrings, label, t } from "./i18n.js";
import { act, bytes, dialog, errorBox, fmtTime, h, pagerButtons, showError, toast } from "./ui.js";

addStrings({
  en: {
    docs_search: "Search by name", docs_count: "{x} documents", docs_count_one: "1 document",
    docs_per_page: "Per page",
    docs_tag_filter: "Tag", docs_created: "Added", docs_selected: "{x} selected",
    docs_select_all: "Select all on this page", docs_select_one: "Select {x}",
    docs_batch_delete: "Delete selected", docs_batch_reindex: "Re-index selected",
    docs_batch_tag: "Add tag", docs_batch_untag: "Remove tag", docs_tag_input: "Tag for the selected documents",
    docs_clear: "Clear selection", docs_confirm_batch: "Delete {x} documents?",
    docs_batch_done: "Done: {x}", docs_batch_failed: "{x} failed", docs_reindex_running: "Re-indexing {x}…",
    docs_no_match: "No document matches.",
    docs_readers: "Readers", docs_everyone: "Everyone", docs_admins_only: "Administrators",
    docs_batch_groups: "Set readers", docs_groups_title: "Who may read {x} documents",
    docs_groups_everyone: "Everyone in the workspace",
    docs_groups_some: "Only administrators and these groups:", docs_groups_save: "Save",
  },
  zh: {
    docs_search: "按名称搜索", docs_count: "共 {x} 个文档", docs_count_one: "共 1 个文档",
    docs_per_page: "每页",
    docs_tag_filter: "标签", docs_created: "添加时间", docs_selected: "已选 {x} 个",
    docs_select_all: "全选本页", docs_select_one: "选择 {x}",
    docs_batch_delete: "删除所选", docs_batch_reindex: "重建所选索引",
    docs_batch_tag: "添加标签", docs_batch_untag: "移除标签", docs_tag_input: "给所选文档的标签",
    docs_clear: "取消选择", docs_confirm_batch: "删除 {x} 个文档？",
    docs_batch_done: "已完成 {x} 个", docs_batch_failed: "{x} 个失败", docs_reindex_running: "正在重建索引 {x}…",
    docs_no_match: "没有匹配的文档。",
    docs_readers: "可读者", docs_everyone: "所有人", docs_admins_only: "仅管理员",
    docs_batch_groups: "设置可读者", docs_groups_title: "谁能读这 {x} 个文档",
    docs_groups_everyone: "工作区内所有人",
    docs_groups_some: "只有管理员和这些权限组：", docs_groups_save: "保存",
  },
});

const SORTS = [["name", "source"], ["format", "format"], ["size", "size"], ["chunks", "chunks"],
  ["status", "status"], ["created", "docs_created"]];

// The documents card of knowledge base `kbName`; `reload()` fetches the current page again.
export function documentsCard(kbName) {
  const base = `/v1/kbs/${encodeURIComponent(kbName)}`;
  const state = { q: "", status: "", tag: "", sort: "created", order: "desc", offset: 0, limit: 50 };
  const selected = new Set();
  let rows = [], total = 0, timer = null;
  let groups = [];  // the workspace's groups (admins only: they set who reads a document)
  const err = errorBox();
  const q = h("input", { type: "search", id: "docs-q", "aria-label": t("docs_search"), placeholder: t("docs_search"), maxLength: 200 });
  q.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.q = q.value.trim(); state.offset = 0; load(); }, 250);
  });
  const status = h("select", { id: "docs-status", "aria-label": t("filter_status") },
    ["", "parsed", "ready", "error"].map((s) => h("option", { value: s }, s ? label("st", s) : t("all"))));
  status.addEventListener("change", () => { state.status = status.value; state.offset = 0; load(); });
  const tag = h("input", { type: "text", id: "docs-tag", "aria-label": t("docs_tag_filter"), placeholder: t("docs_tag_filter"), maxLength: 200, size: 10 });
  tag.addEventListener("change", () => { state.tag = tag.value.trim(); state.offset = 0; load(); });
  const count = h("span.muted.docs-count", { "aria-live": "polite" });
  const refresh = h("button.ghost", { type: "button", onclick: () => load() }, t("refresh"));
  const body = h("div.docs-body");
  const batchBar = h("div.row.batch", { hidden: true });
  const pager = h("div.row.pager");
  const el = h("div.docs",
    h("div.row.between", h("h2", t("documents")), h("div.row", q, status, tag, refresh)),
    count, batchBar, err, body, pager);

  async function load() {
    const p = new URLSearchParams({ sort: state.sort, order: state.order, limit: state.limit, offset: state.offset });
    if (state.q) p.set("q", state.q);
    if (state.status) p.set("status", state.status);
    if (state.tag) p.set("tag", state.tag);
    try {
      if (can("admin") && !groups.length) groups = await api("GET", "/v1/groups").catch(() => []);
      ({ items: rows, total } = await apiPage(`${base}/documents?${p}`));
      if (!rows.length && state.offset > 0 && total > 0) {
        state.offset = Math.max(0, Math.floor((total - 1) / state.limit) * state.limit);
        return load();
      }
      draw();
    } catch (e) { showError(e, err); }
  }

  function sortBtn(key, text) {
    const on = state.sort === key;
    return h("button.sort", {
      type: "button", "data-sort": key, "aria-sort": on ? (state.order === "asc" ? "ascending" : "descending") : null,
      onclick: () => {
        state.order = on && state.order === "asc" ? "desc" : on ? "asc" : (key === "created" ? "desc" : "asc");
        state.sort = key; state.offset = 0; load();
      },
    }, t(text), on ? (state.order === "asc" ? " ▲" : " ▼") : "");
  }

  function draw() {
    count.textContent = total === 1 ? t("docs_count_one") : t("docs_count", total);
    const all = h("input", { type: "checkbox", "aria-label": t("docs_select_all"), checked: rows.length > 0 && rows.every((d) => selected.has(d.id)) });
    all.addEventListener("change", () => { rows.forEach((d) => (all.checked ? selected.add(d.id) : selected.delete(d.id))); draw(); });
    const head = [all, ...SORTS.map(([k, s]) => sortBtn(k, s)), t("tags"), t("docs_readers"), t("error"), t("actions")];
    const tbl = h("table", h("caption.sr", t("documents")),
      h("thead", h("tr", head.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", rows.map(docRow)));
    body.replaceChildren(rows.length ? h("div.scroll", tbl) : h("p.muted", total || state.q || state.status || state.tag ? t("docs_no_match") : t("none_yet")));
    const last = Math.min(state.offset + rows.length, total);
    const per = h("select", { "aria-label": t("docs_per_page") }, [20, 50, 100].map((n) => h("option", { value: n, selected: n === state.limit }, n)));
    per.addEventListener("change", () => { state.limit = Number(per.value); state.offset = 0; load(); });
    const step = pagerButtons((by) => { state.offset = Math.max(0, state.offset + by * state.limit); load(); });
    step.update(state.offset > 0, last < total);
    pager.replaceChildren(step.prev, h("span.muted.range", total ? `${state.offset + 1}–${last} / ${total}` : "0"),
      step.next, h("label.check", t("docs_per_page"), " ", per));
    drawBatch();
  }

  function docRow(d) {
    const box = h("input", { type: "checkbox", "aria-label": t("docs_select_one", d.source), checked: selected.has(d.id) });
    box.addEventListener("change", () => { if (box.checked) selected.add(d.id); else selected.delete(d.id); drawBatch(); });
    return h("tr", { "data-doc": d.source, "data-id": d.id },
      h("td", box),
      h("td", h("a", { href: `#/kbs/${encodeURIComponent(kbName)}/docs/${d.id}` }, d.source),
        d.title && d.title !== d.source ? h("span", h("br"), h("small.muted", d.title)) : null),
      h("td", d.format), h("td.n", bytes(d.size_bytes)), h("td.n", String(d.chunk_count)),
      h("td", h(`span.badge.${d.status}`, label("st", d.status))),
      h("td", h("small.muted", fmtTime(d.created_at))),
      h("td", d.tags.map((x) => h("span.tag", x))), h("td.readers", readers(d.groups)),
      h("td.err", d.error || ""),
      h("td.actions",
        h("button.ghost", { type: "button", onclick: (e) => act(e.currentTarget, () => batch("reindex", [d.id]), err) }, t("reindex")),
        h("button.danger", { type: "button", onclick: (e) => {
          if (!confirm(t("confirm_delete", d.source))) return;
          act(e.currentTarget, () => batch("delete", [d.id]), err);
        } }, t("delete"))));
  }

  // Who reads a document: everyone, or administrators and the named groups.
  function readers(ids) {
    if (ids === null || ids === undefined) return h("small.muted", t("docs_everyone"));
    if (!ids.length) return h("span.badge", t("docs_admins_only"));
    const names = new Map(groups.map((g) => [g.id, g.name]));
    return ids.map((id) => h("span.tag.group", names.get(id) || `#${id}`));
  }

  // The readers dialog of the selected documents: everyone, or some groups.
  function groupsDialog(ids) {
    const dErr = errorBox();
    const everyone = h("input", { type: "radio", name: "readers", value: "all", checked: true, id: "readers-all" });
    const some = h("input", { type: "radio", name: "readers", value: "some", id: "readers-some" });
    const boxes = groups.map((g) => h("label.check", h("input", { type: "checkbox", value: g.id, "data-group": g.name }), " ", g.name));
    const save = h("button.primary", { type: "button", id: "readers-save" }, t("docs_groups_save"));
    const dlg = dialog(t("docs_groups_title", ids.length), h("div.readers",
      h("label.check", everyone, " ", t("docs_groups_everyone")),
      h("label.check", some, " ", t("docs_groups_some")),
      h("div.row", boxes), dErr, h("div.row", save)));
    save.addEventListener("click", () => act(save, async () => {
      const chosen = some.checked
        ? boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => Number(i.value))
        : null;
      for (const id of ids) await api("PUT", `${base}/documents/${id}/groups`, { groups: chosen });
      dlg.close();
      await load();
    }, dErr));
  }

  function drawBatch() {
    batchBar.hidden = selected.size === 0;
    if (!selected.size) { batchBar.replaceChildren(); return; }
    const tagIn = h("input", { type: "text", id: "batch-tag", maxLength: 200, size: 12, "aria-label": t("docs_tag_input"), placeholder: t("docs_tag_input") });
    const ids = () => [...selected];
    batchBar.replaceChildren(...[
      h("strong", t("docs_selected", selected.size)),
      h("button.danger", { type: "button", "data-batch": "delete", onclick: (e) => {
        if (!confirm(t("docs_confirm_batch", selected.size))) return;
        act(e.currentTarget, () => batch("delete", ids()), err);
      } }, t("docs_batch_delete")),
      h("button", { type: "button", "data-batch": "reindex", onclick: (e) => act(e.currentTarget, () => batch("reindex", ids()), err) }, t("docs_batch_reindex")),
      tagIn,
      h("button", { type: "button", "data-batch": "tag", onclick: (e) => tagIn.value.trim() && act(e.currentTarget, () => batch("tag", ids(), { tags: [tagIn.value.trim()] }), err) }, t("docs_batch_tag")),
      h("button.ghost", { type: "button", "data-batch": "untag", onclick: (e) => tagIn.value.trim() && act(e.currentTarget, () => batch("tag", ids(), { remove_tags: [tagIn.value.trim()] }), err) }, t("docs_batch_untag")),
      can("admin") ? h("button", { type: "button", "data-batch": "groups", onclick: () => groupsDialog(ids()) }, t("docs_batch_groups")) : null,
      h("button.ghost", { type: "button", onclick: () => { selected.clear(); draw(); } }, t("docs_clear"))].filter(Boolean));
  }

  async function batch(action, ids, extra = {}) {
    const out = await api("POST", `${base}/documents/batch`, { action, ids, ...extra });
    const failed = out.results.filter((r) => !r.ok);
    if (failed.length) {
      err.textContent = `${t("docs_batch_failed", failed.length)}: ${failed.slice(0, 5).map((r) => `#${r.id} ${r.error}`).join("; ")}`;
      err.hidden = false;
    }
    toast(`${t("docs_batch_done", out.done)}${failed.length ? ` · ${t("docs_batch_failed", failed.length)}` : ""}`, failed.length ? "error" : "ok");
    if (action !== "tag") selected.clear();
    await load();
    if (out.job) {
      toast(t("docs_reindex_running", out.done));
      await stream("GET", `/v1/jobs/${out.job.id}/events`, undefined, () => {});
      await load();
    }
  }

  return { el, reload: load };
}
