// A knowledge base's settings: the embedder (a list of those installed, saying which read
// Chinese), chunking, graph extraction and the reranker; re-embedding and re-indexing every
// document, with the job's progress.
import { api, stream } from "./api.js";
import { addStrings, t } from "./i18n.js";
import { act, errorBox, field, h, toast } from "./ui.js";

addStrings({
  en: {
    "emb_use-multilingual": "Multilingual: Chinese, English and 14 more languages", emb_minilm: "English only (bundled)",
    emb_hashing: "Word hashing: exact words, no meaning (for tests)",
    kbs_settings: "Knowledge base settings", kbs_embedder: "Embedding model",
    kbs_reads_zh: "reads Chinese", kbs_en_only: "no Chinese", kbs_not_installed: "not installed: {x}",
    kbs_auto: "Automatic (by the documents' language)", kbs_language: "Documents' language",
    lang_zh: "Chinese", lang_en: "English", lang_auto: "Mixed / not sure",
    kbs_parent_child: "Match small chunks, answer with their section",
    kbs_graph_on: "Extract a knowledge graph while ingesting", kbs_reranker: "Reranker (provider/model; empty = none)",
    kbs_defaults: "empty = server default", kbs_apply: "Settings apply to documents added or re-indexed from now on.",
    kbs_switch_confirm: "Switch to “{x}”? Every document is embedded again; until then Chinese and English are found by keywords.",
    kbs_reembedding: "Embedding the documents again", kbs_reindex_all: "Re-index all documents",
    kbs_reindex_confirm: "Parse, chunk and embed every document again with these settings?",
    kbs_reindexing: "Re-indexing", kbs_job_done: "Finished", kbs_no_originals: "{x} documents have no stored original and were kept as they are",
    kbs_note_keyword: "This knowledge base's embedder does not read Chinese: Chinese text is found by keywords only. Choose the multilingual embedder for search by meaning.",
    kbs_note_install: "The multilingual embedder is not installed on this server ({x}); Chinese is found by keywords only.",
  },
  zh: {
    "emb_use-multilingual": "多语言：中文、英文等 16 种语言", emb_minilm: "仅英文（内置）",
    emb_hashing: "词哈希：只匹配原词，不理解语义（测试用）",
    kbs_settings: "知识库设置", kbs_embedder: "向量模型",
    kbs_reads_zh: "支持中文", kbs_en_only: "不支持中文", kbs_not_installed: "未安装：{x}",
    kbs_auto: "自动（按文档语言选择）", kbs_language: "文档语言",
    lang_zh: "中文", lang_en: "英文", lang_auto: "中英混合 / 不确定",
    kbs_parent_child: "用小块匹配，用所在章节回答",
    kbs_graph_on: "入库时抽取知识图谱", kbs_reranker: "重排序模型（供应商/模型；留空 = 不用）",
    kbs_defaults: "留空 = 服务器默认值", kbs_apply: "设置对之后新增或重建索引的文档生效。",
    kbs_switch_confirm: "切换到“{x}”？所有文档将重新向量化；完成前按关键词检索。",
    kbs_reembedding: "正在重新向量化文档", kbs_reindex_all: "全部重建索引",
    kbs_reindex_confirm: "用当前设置重新解析、分块并向量化所有文档？",
    kbs_reindexing: "正在重建索引", kbs_job_done: "已完成", kbs_no_originals: "{x} 个文档没有保存原文件，保持不变",
    kbs_note_keyword: "此知识库的向量模型不支持中文：中文内容仅按关键词检索。如需按语义检索中文，请选择多语言向量模型。",
    kbs_note_install: "本服务器未安装多语言向量模型（{x}），中文仅按关键词检索。",
  },
});

// The option text of an embedder from GET /v1/embedders.
export function embedderText(e) {
  const bits = [e.chinese ? t("kbs_reads_zh") : t("kbs_en_only")];
  if (!e.installed) bits.push(t("kbs_not_installed", e.install || ""));
  const key = `emb_${e.name}`;
  const text = t(key) === key ? e.label : t(key);
  return `${text} — ${e.name} (${bits.join("; ")})`;
}

// The plain note a knowledge base carries when Chinese is found by keywords only.
export function retrievalNote(kb, embedders) {
  if (kb.chinese_retrieval !== "keyword") return null;
  const multi = embedders.find((e) => e.chinese);
  const text = multi && !multi.installed ? t("kbs_note_install", multi.install || "") : t("kbs_note_keyword");
  return h("p.note.warn", { role: "note", "data-note": "keyword" }, text);
}

// Follow a job to its end in a <progress>; resolves with the last job state.
async function follow(job, bar, state) {
  let last = job;
  bar.hidden = false;
  await stream("GET", `/v1/jobs/${job.id}/events`, undefined, (event, data) => {
    last = data;
    if (data && typeof data.progress === "number") bar.value = Math.round(data.progress * 100);
  });
  bar.value = 100;
  state.textContent = last.status === "done" ? t("kbs_job_done") : `${t("failed")}: ${last.error || last.status}`;
  return last;
}

// The settings panel (a <details>) of `kb`; `onChange(status)` after something was saved,
// with the last job's outcome (a new panel shows it as `status`).
export function settingsPanel(kb, embedders, onChange, status = "") {
  const base = `/v1/kbs/${encodeURIComponent(kb.name)}`;
  const s = kb.settings || {};
  const embedder = h("select", { name: "embedder", id: "kb-embedder" },
    embedders.map((e) => h("option", { value: e.name, selected: e.name === kb.embedder, disabled: !e.installed }, embedderText(e))));
  if (!embedders.some((e) => e.name === kb.embedder)) embedder.prepend(h("option", { value: kb.embedder, selected: true }, kb.embedder));
  const num = (name, min, max, value) => h("input", { type: "number", name, id: `kb-${name}`, min, max, value: value ?? "", placeholder: t("kbs_defaults") });
  const tokens = num("chunk_tokens", 16, 4096, s.chunk_tokens);
  const overlap = num("chunk_overlap", 0, 1024, s.chunk_overlap);
  const parent = h("input", { type: "checkbox", name: "parent_child", checked: !!s.parent_child });
  const graph = h("input", { type: "checkbox", name: "graph", id: "kb-graph", checked: !!s.graph });
  const reranker = h("input", { type: "text", name: "reranker", id: "kb-reranker", maxLength: 200, value: s.reranker || "" });
  const err = errorBox();
  const save = h("button.primary", { type: "submit" }, t("save"));
  const bar = h("progress", { max: 100, value: 0, hidden: true, "aria-label": t("kbs_reembedding") });
  const state = h("span.muted.job-state", { "aria-live": "polite" }, status);
  const reindexAll = h("button", { type: "button", id: "kb-reindex-all" }, t("kbs_reindex_all"));
  const form = h("form.kb-settings",
    h("div.grid", field(t("kbs_embedder"), embedder), field(t("chunk_tokens"), tokens), field(t("chunk_overlap"), overlap),
      field(t("kbs_reranker"), reranker)),
    h("label.check", parent, " ", t("kbs_parent_child")), h("label.check", graph, " ", t("kbs_graph_on")),
    h("p.muted", t("kbs_apply"), s.language ? ` ${t("kbs_language")}: ${t(`lang_${s.language}`)}` : ""),
    err, h("div.row", save, reindexAll, bar, state));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(save, async () => {
      const intOrNull = (el) => (el.value === "" ? null : Number(el.value));
      await api("PATCH", base, { settings: { chunk_tokens: intOrNull(tokens), chunk_overlap: intOrNull(overlap),
        parent_child: parent.checked || null, graph: graph.checked || null, reranker: reranker.value.trim() || null } });
      toast(t("saved"));
      if (embedder.value !== kb.embedder) {
        if (!confirm(t("kbs_switch_confirm", embedder.value))) { embedder.value = kb.embedder; return; }
        const out = await api("POST", `${base}/embedder`, { embedder: embedder.value });
        kb.embedder = out.embedder;
        if (out.job) { bar.setAttribute("aria-label", t("kbs_reembedding")); state.textContent = t("kbs_reembedding"); await follow(out.job, bar, state); }
      }
      if (onChange) await onChange(state.textContent);
    }, err);
  });
  reindexAll.addEventListener("click", () => {
    if (!confirm(t("kbs_reindex_confirm"))) return;
    act(reindexAll, async () => {
      const out = await api("POST", `${base}/reindex`);
      if (out.failed) toast(t("kbs_no_originals", out.failed), "error");
      if (out.job) { bar.setAttribute("aria-label", t("kbs_reindexing")); state.textContent = t("kbs_reindexing"); await follow(out.job, bar, state); }
      if (onChange) await onChange(state.textContent);
    }, err);
  });
  return h("details.card.kb-settings-panel", { id: "kb-settings" }, h("summary", h("h2", t("kbs_settings"))), form);
}
