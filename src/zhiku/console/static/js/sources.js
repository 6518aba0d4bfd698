// Sources: the folders and sites each knowledge base is synced from, their last runs (refreshed
// while one is running), sync now, the run history, add a source, remove one.
import { api } from "./api.js";
import { addStrings, label, t } from "./i18n.js";
import { act, dialog, errorBox, field, fmtTime, h, showError, table, toast } from "./ui.js";

addStrings({
  en: {
    sources_title: "Sources", new_source: "New source", kind: "Kind", source_kb: "Knowledge base",
    schedule: "Schedule",
    source_config: "Settings (JSON)", schedule_opt: "Schedule (cron, UTC; optional)",
    last_run: "Last run", sync_now: "Sync now", runs: "Runs", remove: "Remove",
    source_added: "Source added", sync_queued: "Sync queued", source_removed: "Source removed",
    confirm_remove_source: "Remove this source and the documents it brought in?",
    added: "added", updated: "updated", unchanged: "unchanged", removed: "removed",
    failed_items: "failed", never: "never", origin: "Origin", started: "Started",
    folder_hint: "{\"path\": \"/srv/share/hr\", \"include\": [\"**/*.md\"]}",
    web_hint: "{\"start_urls\": [\"https://intranet.example/\"], \"max_pages\": 500}",
    st_stopped: "stopped", st_queued: "queued", st_running: "running",
  },
  zh: {
    sources_title: "数据源", new_source: "新建数据源", kind: "类型", source_kb: "知识库",
    schedule: "定时",
    source_config: "设置（JSON）", schedule_opt: "定时（cron，UTC；可选）",
    last_run: "上次同步", sync_now: "立即同步", runs: "同步记录", remove: "删除",
    source_added: "已添加数据源", sync_queued: "已排队同步", source_removed: "已删除数据源",
    confirm_remove_source: "删除此数据源及其带入的文档？",
    added: "新增", updated: "更新", unchanged: "未变", removed: "移除",
    failed_items: "失败", never: "从未", origin: "来源", started: "开始",
    folder_hint: "{\"path\": \"/srv/share/hr\", \"include\": [\"**/*.md\"]}",
    web_hint: "{\"start_urls\": [\"https://intranet.example/\"], \"max_pages\": 500}",
    st_stopped: "已停止", st_queued: "排队中", st_running: "进行中",
  },
});

const ACTIVE = new Set(["queued", "running"]);

function counts(run) {
  if (!run) return t("never");
  return `${label("st", run.status)} · ${run.added} ${t("added")}, ${run.updated} ${t("updated")}, `
    + `${run.unchanged} ${t("unchanged")}, ${run.removed} ${t("removed")}, ${run.failed} ${t("failed_items")}`;
}

function runsDialog(kb, source, where) {
  return act(null, async () => {
    const runs = await api("GET", `/v1/kbs/${encodeURIComponent(kb)}/sources/${source.id}/runs`);
    const rows = runs.map((r) => h("tr", { "data-run": r.id },
      h("td.n", String(r.id)), h("td", label("st", r.status)), h("td", r.origin),
      ...[r.added, r.updated, r.unchanged, r.removed, r.failed].map((n) => h("td.n", String(n))), h("td", fmtTime(r.started_at || r.created_at)),
      h("td", r.error || (r.errors || []).slice(0, 3).map((e) => `${e.item}: ${e.error}`).join("; "))));
    const body = table(["#", t("status"), t("origin"), t("added"), t("updated"), t("unchanged"),
      t("removed"), t("failed_items"), t("started"), t("error")], rows, t("runs"));
    dialog(`${t("runs")}: ${source.name}`, body);
  }, where);
}

export async function sourcesPage(view) {
  const list = h("div");
  const err = errorBox();
  let timer = null;

  async function load() {
    clearTimeout(timer);
    if (!view.isConnected) return; // the page was left
    try {
      const kbs = await api("GET", "/v1/kbs");
      kbSelect.replaceChildren(...kbs.map((kb) => h("option", { value: kb.name }, kb.name)));
      const groups = await Promise.all(kbs.map(async (kb) => [kb.name,
        await api("GET", `/v1/kbs/${encodeURIComponent(kb.name)}/sources`)]));
      const rows = [];
      let busy = false;
      for (const [kb, sources] of groups) {
        for (const s of sources) {
          const run = s.last_run;
          busy ||= Boolean(run && ACTIVE.has(run.status));
          const base = `/v1/kbs/${encodeURIComponent(kb)}/sources/${s.id}`;
          const syncBtn = h("button", { type: "button", disabled: Boolean(run && ACTIVE.has(run.status)) }, t("sync_now"));
          syncBtn.addEventListener("click", () => act(syncBtn, async () => {
            await api("POST", `${base}/sync`, {});
            toast(t("sync_queued"));
            await load();
          }, err));
          const runsBtn = h("button.ghost", { type: "button", onclick: () => runsDialog(kb, s, err) }, t("runs"));
          const rmBtn = h("button.ghost", { type: "button" }, t("remove"));
          rmBtn.addEventListener("click", () => {
            if (!confirm(t("confirm_remove_source"))) return;
            act(rmBtn, async () => { await api("DELETE", base); toast(t("source_removed")); await load(); }, err);
          });
          rows.push(h("tr", { "data-source": s.name },
            h("td", h("a", { href: `#/kbs/${encodeURIComponent(kb)}` }, kb)), h("td", s.name), h("td", s.kind),
            h("td", s.schedule || "—"),
            h("td.last-run", { "aria-live": "polite" }, counts(run), run && run.error ? h("br") : null,
              run && run.error ? h("small.muted", run.error) : null),
            h("td", h("div.row", syncBtn, runsBtn, rmBtn))));
        }
      }
      list.replaceChildren(rows.length ? table([t("source_kb"), t("name"), t("kind"), t("schedule"),
        t("last_run"), t("actions")], rows, t("sources_title")) : h("p.muted", t("none_yet")));
      if (busy) timer = setTimeout(load, 1500); // a run is going: follow its progress
    } catch (e) { showError(e, err); }
  }

  const kbSelect = h("select", { name: "kb", required: true });
  const name = h("input", { type: "text", name: "source_name", required: true, maxLength: 64, pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]*" });
  const kind = h("select", { name: "kind" }, ["folder", "web", "s3", "webdav", "git", "sql"].map((k) => h("option", { value: k }, k)));
  const config = h("textarea", { name: "config", rows: 4, placeholder: t("folder_hint") });
  kind.addEventListener("change", () => { config.placeholder = kind.value === "web" ? t("web_hint") : kind.value === "folder" ? t("folder_hint") : "{}"; });
  const schedule = h("input", { type: "text", name: "schedule", placeholder: "0 3 * * *" });
  const formErr = errorBox();
  const btn = h("button.primary", { type: "submit" }, t("create"));
  const form = h("form.card", h("h2", t("new_source")),
    h("div.grid", field(t("source_kb"), kbSelect), field(t("name"), name), field(t("kind"), kind),
      field(t("schedule_opt"), schedule)),
    field(t("source_config"), config), formErr, h("div.row", btn));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(btn, async () => {
      let parsed = {};
      try { parsed = config.value.trim() ? JSON.parse(config.value) : {}; } catch (e2) { throw new Error(`JSON: ${e2.message}`); }
      const body = { name: name.value.trim(), kind: kind.value, config: parsed };
      if (schedule.value.trim()) body.schedule = schedule.value.trim();
      await api("POST", `/v1/kbs/${encodeURIComponent(kbSelect.value)}/sources`, body);
      toast(t("source_added"));
      form.reset();
      await load();
    }, formErr);
  });
  view.replaceChildren(h("h1", t("sources_title")), err, list, form);
  await load();
}
