// One document: its original next to its chunks — PDF pages rendered by the server, text
// formats as text, any format downloadable —; metadata and tags; edit, disable or enable a chunk.
import { api, can, headers } from "./api.js";
import { label, t } from "./i18n.js";
import { act, bytes, errorBox, field, h, pagerButtons, showError, toast } from "./ui.js";

const TEXT_FORMATS = new Set(["md", "markdown", "txt", "text", "csv", "tsv", "json", "html", "htm"]);
const INLINE_MAX = 256 * 1024; // larger text originals wait for a click

export async function documentPage(view, kb, docId) {
  const base = `/v1/kbs/${encodeURIComponent(kb)}/documents/${docId}`;
  const err = errorBox();
  let doc, chunks;
  try {
    [doc, chunks] = await Promise.all([api("GET", base), api("GET", `${base}/chunks`)]);
  } catch (e) { view.replaceChildren(err); showError(e, err); return; }
  const download = h("button", { type: "button" }, t("download"));
  download.addEventListener("click", () => act(download, async () => {
    const blob = await fetchBlob(`${base}/original`);
    const a = h("a", { href: URL.createObjectURL(blob), download: doc.source.split("/").pop() });
    document.body.append(a);
    a.click();
    a.remove();
  }, err));
  const original = h("section.card.original-card", { "aria-labelledby": "orig-h" }, h("h2", { id: "orig-h" }, t("original")));
  let pager = null;
  if (doc.format === "pdf") {
    pager = pdfPager(base, err);
    original.append(pager.el);
  } else if (TEXT_FORMATS.has(doc.format)) {
    const show = h("button.ghost", { type: "button" }, t("show_original"));
    const reveal = () => act(show, async () => {
      const blob = await fetchBlob(`${base}/original`);
      show.replaceWith(h("pre.original", { tabIndex: 0 }, await blob.text()));
    }, err);
    show.addEventListener("click", reveal);
    original.append(show);
    if (doc.size_bytes <= INLINE_MAX) reveal();
  } else {
    original.append(h("p.muted", `${t("format")}: ${doc.format}`));
  }
  const list = h("ol.chunks", chunks.map((c) => chunkItem(kb, c, err, pager)));
  view.replaceChildren(
    h("p.crumbs", h("a", { href: "#/kbs" }, t("kbs_title")), " / ",
      h("a", { href: `#/kbs/${encodeURIComponent(kb)}` }, kb), " / ", doc.source),
    h("h1", doc.title || doc.source),
    h("section.card",
      h("p", h("span", `${t("source")}: ${doc.source}`), " · ", `${t("format")}: ${doc.format}`, " · ", bytes(doc.size_bytes),
        " · ", h(`span.badge.${doc.status}`, label("st", doc.status))),
      doc.error ? h("p.error", doc.error) : null,
      h("div.row", download)),
    err,
    can("write") ? metadataForm(base, doc, err) : "",
    h("div.doc-layout", original,
      h("section.card.chunks-card", { "aria-labelledby": "chunks-h" }, h("h2", { id: "chunks-h" }, `${t("chunks")} (${chunks.length})`), list)));
}

async function fetchBlob(url) {
  const resp = await fetch(url, { headers: headers() });
  if (!resp.ok) {
    let msg = `${resp.status}`;
    try { msg = (await resp.json()).error.message; } catch { /* not JSON */ }
    throw new Error(msg);
  }
  return resp.blob();
}

// PDF pages as images the server renders; go(n) shows page n.
function pdfPager(base, err) {
  const img = h("img.pdf-page", { alt: "" });
  const caption = h("span.page-of", { "aria-live": "polite" }, t("rendering"));
  const num = h("input", { type: "number", min: 1, value: 1, id: "pdf-page", style: "width:5em" });
  let count = 0, page = 1, url = null;
  const step = pagerButtons((by) => go(page + by));
  const el = h("div.pdf", h("div.row", step.prev, field(t("go_page"), num), step.next, caption), h("div.page-frame", img));
  async function go(n) {
    if (!count) return;
    page = Math.max(1, Math.min(count, n));
    num.value = page;
    step.update(page > 1, page < count);
    caption.textContent = t("rendering");
    try {
      const width = Math.min(1600, Math.round((el.clientWidth || 600) * (window.devicePixelRatio || 1)));
      const blob = await fetchBlob(`${base}/pages/${page}?width=${Math.max(100, width)}`);
      if (url) URL.revokeObjectURL(url);
      url = URL.createObjectURL(blob);
      img.src = url;
      img.alt = t("page_n", page);
      img.dataset.page = String(page);
      caption.textContent = `${t("page_n", page)} / ${count}`;
    } catch (e) { caption.textContent = ""; showError(e, err); }
  }
  num.addEventListener("change", () => go(Number(num.value) || 1));
  api("GET", `${base}/pages`).then((p) => {
    count = p.count;
    num.max = count;
    go(1);
  }).catch((e) => { caption.textContent = ""; showError(e, err); });
  return { el, go: (n) => { go(n); el.scrollIntoView({ block: "nearest" }); } };
}

// Tags (comma-separated) and the rest of the metadata as a JSON object.
function metadataForm(base, doc, err) {
  const { tags: _tags, ...rest } = doc.metadata || {};
  const tags = h("input", { type: "text", id: "doc-tags", value: doc.tags.join(", ") });
  const meta = h("textarea", { id: "doc-meta", rows: 3, spellcheck: false, value: JSON.stringify(rest, null, 1) });
  const save = h("button.primary", { type: "submit" }, t("save"));
  const formErr = errorBox();
  const form = h("form", h("div.grid", field(t("tags"), tags, t("comma_list")), field(t("metadata_json"), meta)),
    formErr, h("div.row", save));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(save, async () => {
      let metadata;
      try { metadata = meta.value.trim() ? JSON.parse(meta.value) : {}; } catch { throw new Error(t("bad_json")); }
      if (!metadata || typeof metadata !== "object" || Array.isArray(metadata)) throw new Error(t("bad_json"));
      const list = tags.value.split(",").map((s) => s.trim()).filter(Boolean);
      const out = await api("PATCH", base, { metadata, tags: list });
      tags.value = out.tags.join(", ");
      toast(t("saved"));
    }, formErr);
  });
  return h("details.card.meta-card", h("summary", h("strong", t("metadata")),
    doc.tags.length ? h("span.muted", ` · ${doc.tags.join(", ")}`) : null), form);
}

function chunkItem(kb, c, err, pager) {
  const text = h("p.chunk-text", c.text);
  const meta = h("small.muted", [`#${c.ord + 1}`, c.heading_path.join(" › "), c.page ? t("page_n", c.page) : null,
    t("n_tokens", c.token_count), c.searchable ? null : t("parent_chunk")].filter(Boolean).join(" · "));
  const li = h("li", { "data-chunk": c.id, className: c.enabled ? "" : "off" }, meta, text);
  const edit = h("button.ghost", { type: "button" }, t("edit"));
  const toggle = h("button.ghost", { type: "button", "aria-pressed": String(!c.enabled) }, c.enabled ? t("disable") : t("enable"));
  const patch = async (body) => {
    const out = await api("PATCH", `/v1/kbs/${encodeURIComponent(kb)}/chunks/${c.id}`, body);
    li.replaceWith(chunkItem(kb, out, err, pager));
    toast(t("saved"));
  };
  toggle.addEventListener("click", () => act(toggle, () => patch({ enabled: !c.enabled }), err));
  edit.addEventListener("click", () => {
    const area = h("textarea", { rows: 6, value: c.text, "aria-label": t("chunk_text") });
    const save = h("button.primary", { type: "submit" }, t("save"));
    const cancel = h("button.ghost", { type: "button", onclick: () => form.replaceWith(text) }, t("cancel"));
    const form = h("form", area, h("div.row", save, cancel));
    form.addEventListener("submit", (e) => { e.preventDefault(); act(save, () => patch({ text: area.value }), err); });
    text.replaceWith(form);
    area.focus();
  });
  const show = pager && c.page ? h("button.ghost", { type: "button", onclick: () => pager.go(c.page) }, t("show_page", c.page)) : null;
  li.append(h("div.row", can("write") ? [edit, toggle] : null, show));
  return li;
}
