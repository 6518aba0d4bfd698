// Knowledge bases: list with sizes, create; one base: upload with live per-file progress and
// the documents table (status, errors, sort, filter, re-index, delete).
import { api, can, stream, upload } from "./api.js";
import { label, t } from "./i18n.js";
import { act, bytes, errorBox, errorText, field, fmtTime, h, showError, table, toast } from "./ui.js";

export async function kbListPage(view) {
  const list = h("div");
  const name = h("input", { type: "text", name: "kb_name", required: true, maxLength: 128, pattern: "[^\\/]+", title: t("kb_name_invalid") });
  name.addEventListener("input", () => name.setCustomValidity(name.value.includes("/") ? t("kb_name_invalid") : ""));
  const tokens = h("input", { type: "number", name: "chunk_tokens", min: 16, max: 4096, placeholder: "512" });
  const overlap = h("input", { type: "number", name: "chunk_overlap", min: 0, max: 1024, placeholder: "64" });
  const embedder = h("input", { type: "text", name: "embedder" });
  const graph = h("input", { type: "checkbox", name: "graph" });
  const err = errorBox();
  const btn = h("button.primary", { type: "submit" }, t("create"));
  const form = h("form.card",
    h("h2", t("new_kb")),
    h("div.grid", field(t("name"), name), field(t("embedder_opt"), embedder),
      field(t("chunk_tokens"), tokens), field(t("chunk_overlap"), overlap)),
    h("label.check", graph, " ", t("graph")), err, h("div.row", btn));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(btn, async () => {
      const settings = {};
      if (tokens.value) settings.chunk_tokens = Number(tokens.value);
      if (overlap.value) settings.chunk_overlap = Number(overlap.value);
      if (graph.checked) settings.graph = true;
      const body = { name: name.value.trim(), settings };
      if (embedder.value.trim()) body.embedder = embedder.value.trim();
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
  const docs = h("div");
  const err = errorBox();
  let sortKey = "created_at", sortDir = -1, statusFilter = "", all = [];

  const picker = h("input.visually-hidden", { type: "file", multiple: true, id: "file-input" });
  const folder = h("input.visually-hidden", { type: "file", multiple: true, webkitdirectory: true, id: "folder-input" });
  picker.addEventListener("change", () => { send([...picker.files]); picker.value = ""; });
  folder.addEventListener("change", () => { send([...folder.files]); folder.value = ""; });
  const pickBtn = h("button", { type: "button", onclick: () => picker.click() }, t("choose_files"));
  const folderBtn = h("button.ghost", { type: "button", onclick: () => folder.click() }, t("choose_folder"));
  const zone = h("div.drop", h("p", t("drop_here")), h("div.row", pickBtn, folderBtn), picker, folder);
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", async (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    send(entries.length ? await walk(entries) : [...e.dataTransfer.files]);
  });

  async function send(files) {
    const queue = files.map((file) => ({ file, row: uploadRow(file) }));
    queue.forEach((q) => progress.prepend(q.row.el));
    const workers = Array.from({ length: Math.min(3, queue.length) }, async () => {
      while (queue.length) await one(queue.shift());
    });
    await Promise.all(workers);
    await loadDocs();
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
    if (last.status === "failed" || last.status === "dead" || (f && f.status === "error") || (f && f.error)) {
      row.fail((f && f.error) || last.error || t("failed"));
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
      fail(msg, err) {
        el.classList.add("bad");
        state.replaceChildren(`${t("failed")}: ${msg}`, err && err.message
          ? h("details.error-detail", h("summary", t("details")), h("pre", [err.type, err.message].filter(Boolean).join(" · "))) : "");
      },
    };
  }

  async function loadDocs() {
    try {
      all = await api("GET", `${base}/documents`);
      drawDocs();
    } catch (e2) { showError(e2, err); }
  }

  function drawDocs() {
    let rows = all.filter((d) => !statusFilter || d.status === statusFilter);
    rows = rows.slice().sort((a, b) => (a[sortKey] > b[sortKey] ? 1 : a[sortKey] < b[sortKey] ? -1 : 0) * sortDir);
    const sortBtn = (key, label) => h("button.sort", {
      type: "button",
      "aria-sort": sortKey === key ? (sortDir > 0 ? "ascending" : "descending") : null,
      onclick: () => { sortDir = sortKey === key ? -sortDir : 1; sortKey = key; drawDocs(); },
    }, label, sortKey === key ? (sortDir > 0 ? " ▲" : " ▼") : "");
    const filter = h("select", { "aria-label": t("filter_status") },
      ["", "parsed", "ready", "error"].map((s) => h("option", { value: s, selected: s === statusFilter }, s ? label("st", s) : t("all"))));
    filter.addEventListener("change", () => { statusFilter = filter.value; drawDocs(); });
    const tbl = rows.length ? table(
      [sortBtn("source", t("source")), sortBtn("format", t("format")), sortBtn("size_bytes", t("size")),
        sortBtn("chunk_count", t("chunks")), sortBtn("status", t("status")), t("tags"), t("error"), t("actions")],
      rows.map((d) => h("tr", { "data-doc": d.source },
        h("td", h("a", { href: `#/kbs/${encodeURIComponent(kbName)}/docs/${d.id}` }, d.source),
          d.title && d.title !== d.source ? h("span", h("br"), h("small.muted", d.title)) : null),
        h("td", d.format), h("td.n", bytes(d.size_bytes)), h("td.n", d.chunk_count),
        h("td", h(`span.badge.${d.status}`, label("st", d.status))),
        h("td", d.tags.map((x) => h("span.tag", x))), h("td.err", d.error || ""),
        h("td.actions", !can("write") ? null : [
          h("button.ghost", { type: "button", onclick: (e) => act(e.currentTarget, async () => {
            await api("POST", `${base}/documents/${d.id}/reindex`);
            toast(t("reindex_started"));
            setTimeout(loadDocs, 1500);
          }, err) }, t("reindex")),
          h("button.danger", { type: "button", onclick: (e) => {
            if (!confirm(t("confirm_delete", d.source))) return;
            act(e.currentTarget, async () => {
              await api("DELETE", `${base}/documents/${d.id}`);
              toast(t("deleted"));
              await loadDocs();
            }, err);
          } }, t("delete"))]))),
      t("documents")) : h("p.muted", t("none_yet"));
    docs.replaceChildren(h("div.row.between", h("h2", t("documents")),
      h("div.row", filter, h("button.ghost", { type: "button", onclick: loadDocs }, t("refresh")))), tbl);
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
      await loadDocs();
    }, urlErr);
  });

  view.replaceChildren(
    h("p.crumbs", h("a", { href: "#/kbs" }, t("kbs_title")), " / ", kbName),
    h("div.row.between", h("h1", kbName), !can("write") ? "" : h("button.danger", { type: "button", onclick: (e) => {
      if (!confirm(t("confirm_delete", kbName))) return;
      act(e.currentTarget, async () => { await api("DELETE", base); toast(t("deleted")); location.hash = "#/kbs"; }, err);
    } }, t("delete_kb"))),
    !can("write") ? "" : h("section.card", { "aria-labelledby": "up-h" }, h("h2", { id: "up-h" }, t("upload_title")), zone,
      h("details.url-form", h("summary", t("add_url")), urlForm), progress),
    err, h("section.card", docs));
  await loadDocs();
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
