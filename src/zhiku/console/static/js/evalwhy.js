// Why an evaluated question failed, and metric names people can read: Chinese or English
// names with a tooltip that says what each metric measures.
import { addStrings, lang, t } from "./i18n.js";
import { h } from "./ui.js";

addStrings({
  en: {
    why_error: "Error", why_retrieval_miss: "Retrieval miss", why_false_refusal: "False refusal",
    why_answered_unanswerable: "Answered the unanswerable", why_wrong_refusal: "Wrong refusal",
    why_answer_mismatch: "Answer mismatch", why_unfaithful: "Unfaithful",
    whytip_error: "The question could not be run.",
    whytip_retrieval_miss: "No expected source was among the top-k retrieved passages.",
    whytip_false_refusal: "The question is answerable, but the assistant refused.",
    whytip_answered_unanswerable: "The data cannot answer this question, yet an answer was given.",
    whytip_wrong_refusal: "The decision to refuse (or not) was wrong.",
    whytip_answer_mismatch: "The right source was retrieved, but the answer matches no reference answer.",
    whytip_unfaithful: "The judge found the answer unsupported by its passages.",
    why_title: "Why questions failed", passed_rule: "An answer passes when its F1 is at least 0.5, it contains a reference answer, or it holds at least 80% of a reference's words.",
  },
  zh: {
    why_error: "运行出错", why_retrieval_miss: "检索未命中", why_false_refusal: "误拒答",
    why_answered_unanswerable: "不该回答却回答", why_wrong_refusal: "拒答判断错误",
    why_answer_mismatch: "答案不匹配", why_unfaithful: "答案无依据",
    whytip_error: "该问题未能运行。",
    whytip_retrieval_miss: "前 k 条检索结果中没有预期来源。",
    whytip_false_refusal: "问题可以回答，但助手拒答了。",
    whytip_answered_unanswerable: "知识库无法回答此问题，却给出了回答。",
    whytip_wrong_refusal: "是否拒答的判断错误。",
    whytip_answer_mismatch: "检索到了正确来源，但回答与参考答案都不匹配。",
    whytip_unfaithful: "评审模型认为回答没有得到引用段落的支持。",
    why_title: "未通过原因", passed_rule: "判定规则：F1 ≥ 0.5、回答包含参考答案，或回答包含参考答案 80% 以上的字词，即为通过。",
  },
});

// [name (en), name (zh), what it measures (en), (zh)]
const METRICS = {
  hit: ["Hit rate", "命中率", "Share of questions with an expected source in the top k.", "前 k 条结果中包含预期来源的问题比例。"],
  recall: ["Recall", "召回率", "Share of the expected sources found in the top k.", "前 k 条结果找到的预期来源占比。"],
  ndcg: ["nDCG", "nDCG 排序质量", "How high the expected sources rank (1 = at the top).", "预期来源排得多靠前（1 表示排在最前）。"],
  mrr: ["MRR", "平均倒数排名", "1 / rank of the first expected source.", "第一个预期来源排名的倒数。"],
  em: ["Exact match", "完全匹配", "The answer equals a reference answer.", "回答与参考答案完全相同。"],
  f1: ["Token F1", "词重合 F1", "Word overlap between answer and reference (low for long extractive answers).", "回答与参考答案的字词重合度（抽取式长回答会偏低）。"],
  contains_answer: ["Contains answer", "包含答案", "The answer contains a reference answer.", "回答中包含参考答案。"],
  reference_recall: ["Reference recall", "参考答案覆盖率", "Share of a reference answer's words found in the answer.", "参考答案的字词在回答中出现的比例。"],
  citation_precision: ["Citation precision", "引用准确率", "Share of cited sources that are expected.", "引用来源中属于预期来源的比例。"],
  citation_recall: ["Citation recall", "引用召回率", "Share of expected sources that are cited.", "预期来源被引用的比例。"],
  cites_expected: ["Cites expected", "引用了预期来源", "An answer cites at least one expected source.", "回答至少引用了一个预期来源。"],
  refusal: ["Refusal correct", "拒答正确率", "Refused exactly when the question is unanswerable.", "仅在无法回答时拒答。"],
  false_refusal: ["False refusals", "误拒答率", "Answerable questions that were refused (lower is better).", "可回答却被拒答的比例（越低越好）。"],
  correct_refusal: ["Correct refusals", "正确拒答率", "Unanswerable questions that were refused.", "无法回答且被拒答的比例。"],
  faithfulness: ["Faithfulness", "忠实度", "The judge's score: the answer is supported by its passages.", "评审模型评分：回答是否有引用段落支持。"],
  relevance: ["Relevance", "相关性", "The judge's score: the answer addresses the question.", "评审模型评分：回答是否切题。"],
};

function zh() { return lang() === "zh"; }

// A metric's readable name ("命中率@5") and its explanation.
export function metricInfo(name) {
  const [base, k] = name.split("@");
  const m = METRICS[base];
  if (!m) return { label: name, tip: name };
  const label = (zh() ? m[1] : m[0]) + (k ? `@${k}` : "");
  return { label, tip: `${name}: ${zh() ? m[3] : m[2]}` };
}

// A metric name as an element with its explanation as a tooltip.
export function metricLabel(name) {
  const { label, tip } = metricInfo(name);
  return h("abbr.metric-name", { title: tip, "data-metric": name }, label);
}

// Badges for a result's failure reasons, each with its explanation.
export function reasonBadges(reasons) {
  return (reasons || []).map((r) => h("span.badge.why", { title: t(`whytip_${r}`), "data-reason": r }, t(`why_${r}`)));
}

// The reason counts of a run as a small list (nothing when every question passed).
export function reasonSummary(counts) {
  const entries = Object.entries(counts || {});
  return h("section.card.why-summary", { "aria-labelledby": "why-h" }, h("h2", { id: "why-h" }, t("why_title")),
    entries.length ? h("ul.why-list", entries.map(([r, n]) => h("li", reasonBadges([r]), ` ${n}`))) : h("p.muted", "—"),
    h("small.muted", t("passed_rule")));
}
