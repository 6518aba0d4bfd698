// One document: its original (text formats shown inline, any format downloadable) and its
// chunks with heading path and page; edit a chunk's text, disable or enable it.
import { api, auth } from "./api.js";
import { t } from "./i18n.js";
import { act, bytes, errorBox, h, showError, toast } from "./ui.js";

const TEXT_FORMATS = new Set(["md", "markdown", "txt", "text", "csv", "tsv", "json", "html", "htm"]);

export async function documentPage(view, kb, docId) {
  const base = `/v1/kbs/${encodeURIComponent(kb)}/documents/${docId}`;
  const err = errorBox();
  let doc, chunks;
  try {
    [doc, chunks] = await Promise.all([api("GET", base), api("GET", `${base}/chunks`)]);
  } catch (e) { view.replaceChildren(err); showError(e, err); return; }
  const original = h("div");
  const download = h("button", { type: "button" }, t("download"));
  download.addEventListener("click", () => act(download, async () => {
    const blob = await fetchOriginal(base);
    const a = h("a", { href: URL.createObjectURL(blob), download: doc.source.split("/").pop() });
    document.body.append(a);
    a.click();
    a.remove();
  }, err));
  if (TEXT_FORMATS.has(doc.format)) {
    const show = h("button.ghost", { type: "button" }, t("show_original"));
    show.addEventListener("click", () => act(show, async () => {
      const blob = await fetchOriginal(base);
      original.replaceChildren(h("pre.original", await blob.text()));
      show.remove();
    }, err));
    original.append(show);
  }
  const list = h("ol.chunks", chunks.map((c) => chunkItem(kb, c, err)));
  view.replaceChildren(
    h("p.crumbs", h("a", { href: "#/kbs" }, t("kbs_title")), " / ",
      h("a", { href: `#/kbs/${encodeURIComponent(kb)}` }, kb), " / ", doc.source),
    h("h1", doc.title || doc.source),
    h("section.card",
      h("p", h("span", `${t("source")}: ${doc.source}`), " · ", `${t("format")}: ${doc.format}`, " · ", bytes(doc.size_bytes),
        " · ", h(`span.badge.${doc.status}`, doc.status)),
      doc.error ? h("p.error", doc.error) : null,
      h("div.row", download), original),
    err,
    h("section.card", h("h2", `${t("chunks")} (${chunks.length})`), list));
}

async function fetchOriginal(base) {
  const resp = await fetch(`${base}/original`, { headers: { Authorization: `Bearer ${auth.token}` } });
  if (!resp.ok) {
    let msg = `${resp.status}`;
    try { msg = (await resp.json()).error.message; } catch { /* not JSON */ }
    throw new Error(msg);
  }
  return resp.blob();
}

function chunkItem(kb, c, err) {
  const text = h("p.chunk-text", c.text);
  const meta = h("small.muted", [`#${c.ord + 1}`, c.heading_path.join(" › "), c.page ? `${t("page")} ${c.page}` : null,
    `${c.token_count} tokens`, c.searchable ? null : t("parent_chunk")].filter(Boolean).join(" · "));
  const li = h("li", { "data-chunk": c.id, className: c.enabled ? "" : "off" }, meta, text);
  const edit = h("button.ghost", { type: "button" }, t("edit"));
  const toggle = h("button.ghost", { type: "button", "aria-pressed": String(!c.enabled) }, c.enabled ? t("disable") : t("enable"));
  const patch = async (body) => {
    const out = await api("PATCH", `/v1/kbs/${encodeURIComponent(kb)}/chunks/${c.id}`, body);
    li.replaceWith(chunkItem(kb, out, err));
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
  li.append(h("div.row", edit, toggle));
  return li;
}
