// Knowledge bases: list with sizes, create (embedder by the documents' language); one base:
// its settings, upload with live per-file progress (accepted formats listed, unsupported files
// refused before sending, unchanged files shown as skipped) and the paged documents table.
import { api, can, stream, upload } from "./api.js";
import { addStrings, lang, t } from "./i18n.js";
import { act, bytes, errorBox, errorText, field, fmtTime, h, showError, table, toast } from "./ui.js";
import { documentsCard } from "./kbdocs.js";
import { embedderText, retrievalNote, settingsPanel } from "./kbsettings.js";

addStrings({
  en: {
    up_formats: "Accepted: {x}", up_max: "up to {x} per file", up_unsupported: "not uploaded: .{x} files are not supported",
    up_too_big: "not uploaded: larger than {x}", up_skipped: "skipped: unchanged", up_no_ext: "not uploaded: the file has no extension",
  },
  zh: {
    up_formats: "支持的格式：{x}", up_max: "单个文件最大 {x}", up_unsupported: "未上传：不支持 .{x} 文件",
    up_too_big: "未上传：超过 {x}", up_skipped: "已跳过：内容未变化", up_no_ext: "未上传：文件没有扩展名",
  },
});

export async function kbListPage(view) {
  const list = h("div");
  const name = h("input", { type: "text", name: "kb_name", required: true, maxLength: 128, pattern: "[^\\/]+", title: t("kb_name_invalid") });
  name.addEventListener("input", () => name.setCustomValidity(name.value.includes("/") ? t("kb_name_invalid") : ""));
  const tokens = h("input", { type: "number", name: "chunk_tokens", min: 16, max: 4096, placeholder: "512" });
  const overlap = h("input", { type: "number", name: "chunk_overlap", min: 0, max: 1024, placeholder: "64" });
  const embedder = h("select", { name: "embedder" }, h("option", { value: "" }, t("kbs_auto")));
  const language = h("select", { name: "language" }, ["zh", "en", "auto"].map((v) =>
    h("option", { value: v, selected: v === (lang() === "zh" ? "zh" : "auto") }, t(`lang_${v}`))));
  api("GET", "/v1/embedders").then((list) => embedder.append(...list.map((e) =>
    h("option", { value: e.name, disabled: !e.installed }, embedderText(e))))).catch(() => {});
  const graph = h("input", { type: "checkbox", name: "graph" });
  const err = errorBox();
  const btn = h("button.primary", { type: "submit" }, t("create"));
  const form = h("form.card",
    h("h2", t("new_kb")),
    h("div.grid", field(t("name"), name), field(t("kbs_language"), language), field(t("embedder_opt"), embedder),
      field(t("chunk_tokens"), tokens), field(t("chunk_overlap"), overlap)),
    h("label.check", graph, " ", t("graph")), err, h("div.row", btn));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(btn, async () => {
      const settings = {};
      if (tokens.value) settings.chunk_tokens = Number(tokens.value);
      if (overlap.value) settings.chunk_overlap = Number(overlap.value);
      if (graph.checked) settings.graph = true;
      settings.language = language.value;
      const body = { name: name.value.trim(), settings };
      if (embedder.value) body.embedder = embedder.value;
      const kb = await api("POST", "/v1/kbs", body);
      toast(t("kb_created"));
      location.hash = `#/kbs/${encodeURIComponent(kb.name)}`;
    }, err);
  });
  view.replaceChildren(...[h("h1", t("kbs_title")), list, can("write") ? form : null].filter(Boolean));
  try {
    const kbs = await api("GET", "/v1/kbs");
    const stat = (kb, k) => (kb.stats && kb.stats[k] !== undefined ? kb.stats[k] : "—");
    list.replaceChildren(kbs.length ? table(
      [t("name"), t("documents"), t("ready"), t("error"), t("chunks"), t("vectors"), t("created")],
      kbs.map((kb) => h("tr",
        h("td", h("a", { href: `#/kbs/${encodeURIComponent(kb.name)}` }, kb.name)),
        h("td.n", stat(kb, "documents")), h("td.n", stat(kb, "ready")), h("td.n", stat(kb, "error")),
        h("td.n", stat(kb, "chunks")), h("td.n", stat(kb, "embedded")),
        h("td", fmtTime(kb.created_at)))),
      t("kbs_title")) : h("p.muted", t("none_yet")));
  } catch (e) {
    showError(e, list.appendChild(errorBox()));
  }
}

export async function kbPage(view, kbName) {
  const base = `/v1/kbs/${encodeURIComponent(kbName)}`;
  const progress = h("ul.uploads", { "aria-live": "polite" });
  const err = errorBox();
  const docs = documentsCard(kbName);
  let formats = null, refreshTimer = null;

  const picker = h("input.visually-hidden", { type: "file", multiple: true, id: "file-input" });
  const folder = h("input.visually-hidden", { type: "file", multiple: true, webkitdirectory: true, id: "folder-input" });
  picker.addEventListener("change", () => { send([...picker.files]); picker.value = ""; });
  folder.addEventListener("change", () => { send([...folder.files]); folder.value = ""; });
  const pickBtn = h("button", { type: "button", onclick: () => picker.click() }, t("choose_files"));
  const folderBtn = h("button.ghost", { type: "button", onclick: () => folder.click() }, t("choose_folder"));
  const accepted = h("p.muted.formats", { id: "upload-formats" });
  const zone = h("div.drop", h("p", t("drop_here")), h("div.row", pickBtn, folderBtn), accepted, picker, folder);
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    send(entries.length ? await walk(entries) : [...e.dataTransfer.files]);
  });

  // Why a file cannot be uploaded (its type or size), or null.
  function refusal(file) {
    if (!formats) return null;
    const m = /\.([^./\\]+)$/.exec(file.name);
    if (!m) return t("up_no_ext");
    if (!formats.extensions.includes(m[1].toLowerCase())) return t("up_unsupported", m[1].toLowerCase());
    if (file.size > formats.max_file_bytes) return t("up_too_big", bytes(formats.max_file_bytes));
    return null;
  }

  // The table refreshes as files finish, at most every 800 ms.
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => docs.reload(), 800);
  }

  async function send(files) {
    const rows = files.map((file) => ({ file, row: uploadRow(file) }));
    rows.forEach((q) => progress.prepend(q.row.el));
    const queue = [];
    for (const q of rows) {
      const why = refusal(q.file);
      if (why) q.row.fail(why); else queue.push(q);
    }
    const workers = Array.from({ length: Math.min(3, queue.length) }, async () => {
      while (queue.length) await one(queue.shift());
    });
    await Promise.all(workers);
    clearTimeout(refreshTimer);
    await docs.reload();
  }

  async function one({ file, row }) {
    try {
      row.set(t("uploading"), 0);
      const form = new FormData();
      form.append("files", file, file.name);
      const job = await upload(`${base}/documents`, form, (p) => row.set(t("uploading"), p * 0.3));
      await track(job, row);
    } catch (e2) {
      row.fail(errorText(e2), e2);
    }
    refreshSoon();
  }

  // Follow a job's server-sent events until it ends; the row shows its progress and outcome.
  async function track(job, row) {
    row.set(t("queued"), 0.3);
    let last = job;
    await stream("GET", `/v1/jobs/${job.id}/events`, undefined, (event, data) => {
      last = data;
      if (event === "progress") row.set(t("processing"), 0.3 + 0.7 * (data.progress || 0));
    });
    const f = (last.files || [])[0];
    if (last.status === "failed" || last.status === "dead" || (f && f.status === "failed") || (f && f.error)) {
      row.fail((f && f.error) || last.error || t("failed"));
    } else if (f && f.status === "unchanged") {
      row.skip(t("up_skipped"));
    } else {
      row.set(`${t("done")}${f ? ` · ${f.chunks} ${t("chunks").toLowerCase()}` : ""}`, 1, true);
    }
  }

  function uploadRow(file) {
    const name = file.webkitRelativePath || file.name;
    const bar = h("progress", { max: 100, value: 0, "aria-label": name });
    const state = h("span.state", t("queued"));
    const el = h("li.upload", { "data-file": file.name }, h("span.fname", name), bar, state);
    return {
      el,
      set(text, p, ok) {
        bar.value = Math.round(p * 100);
        state.textContent = text;
        if (ok) el.classList.add("ok");
      },
      skip(text) { bar.remove(); el.classList.add("skipped"); state.textContent = text; },
      fail(msg, err) {
        bar.remove();
        el.classList.add("bad");
        state.replaceChildren(`${t("failed")}: ${msg}`, err && err.message
          ? h("details.error-detail", h("summary", t("details")), h("pre", [err.type, err.message].filter(Boolean).join(" · "))) : "");
      },
    };
  }

  const url = h("input", { type: "url", id: "doc-url", required: true, placeholder: "https://…" });
  const urlTags = h("input", { type: "text", id: "url-tags" });
  const urlBtn = h("button", { type: "submit" }, t("fetch"));
  const urlErr = errorBox();
  const urlForm = h("form",
    h("div.grid", field(t("url"), url), field(t("tags_opt"), urlTags)), urlErr, h("div.row", urlBtn));
  urlForm.addEventListener("submit", (e) => {
    e.preventDefault();
    act(urlBtn, async () => {
      const tags = urlTags.value.split(",").map((x) => x.trim()).filter(Boolean);
      const job = await api("POST", `${base}/documents/url`, { url: url.value.trim(), metadata: tags.length ? { tags } : {} });
      const row = uploadRow({ name: url.value.trim() });
      progress.prepend(row.el);
      url.value = "";
      try { await track(job, row); } catch (e2) { row.fail(errorText(e2), e2); }
      await docs.reload();
    }, urlErr);
  });

  const note = h("div.kb-note");
  const settingsSlot = h("div");
  view.replaceChildren(
    h("p.crumbs", h("a", { href: "#/kbs" }, t("kbs_title")), " / ", kbName),
    h("div.row.between", h("h1", kbName), !can("write") ? "" : h("button.danger", { type: "button", onclick: (e) => {
      if (!confirm(t("confirm_delete", kbName))) return;
      act(e.currentTarget, async () => { await api("DELETE", base); toast(t("deleted")); location.hash = "#/kbs"; }, err);
    } }, t("delete_kb"))),
    note, settingsSlot,
    !can("write") ? "" : h("section.card", { "aria-labelledby": "up-h" }, h("h2", { id: "up-h" }, t("upload_title")), zone,
      h("details.url-form", h("summary", t("add_url")), urlForm), progress),
    err, h("section.card", docs.el));

  async function loadKb(status = "") {
    const [kb, embedders] = await Promise.all([api("GET", base), api("GET", "/v1/embedders")]);
    note.replaceChildren(retrievalNote(kb, embedders) || "");
    const open = settingsSlot.querySelector("details")?.open;
    const panel = settingsPanel(kb, embedders, async (st) => { await loadKb(st); await docs.reload(); }, status);
    panel.open = !!open;
    settingsSlot.replaceChildren(panel);
  }
  const loadFormats = api("GET", "/v1/formats").then((f) => {
    formats = f;
    picker.accept = f.extensions.map((x) => `.${x}`).join(",");
    accepted.textContent = `${t("up_formats", f.extensions.join(" · "))} — ${t("up_max", bytes(f.max_file_bytes))}`;
  });
  try {
    await Promise.all([loadKb(), loadFormats, docs.reload()]);
  } catch (e) { showError(e, err); }
}

// Files of dropped folders (recursively), each with its relative path.
async function walk(entries) {
  const files = [];
  const visit = async (entry) => {
    if (entry.isFile) {
      files.push(await new Promise((res, rej) => entry.file(res, rej)));
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const e of batch) await visit(e);
      }
    }
  };
  for (const e of entries) await visit(e);
  return files;
}
