// Conversation logs (对话日志): every conversation of every assistant and channel, filtered and
// paged; one conversation's turns with citations and feedback; a one-click correction that
// becomes an FAQ entry and/or an eval question; refused questions grouped (待补充问题); an eval
// set from selected answers.
import { api } from "./api.js";
import { addStrings, t } from "./i18n.js";
import { act, dialog, errorBox, field, fmtTime, h, pagerButtons, showError, table, toast } from "./ui.js";

addStrings({
  en: {
    logs_title: "Conversation logs", logs_tab: "Conversations", unanswered_tab: "Unanswered questions",
    lg_assistant: "Assistant", lg_channel: "Channel", lg_since: "From", lg_until: "To", lg_text: "Question contains",
    lg_refused: "Refused", lg_down: "Rated down", lg_nocite: "No citation", lg_flagged: "Flagged",
    lg_apply: "Filter", lg_all: "All", lg_when: "Last activity", lg_first: "First question", lg_turns: "Turns",
    lg_marks: "Flags", lg_open: "Open", lg_page: "{x}",
    lg_none: "No conversation matches.", lg_turns_title: "Conversation #{x}", lg_question: "Question", lg_answer: "Answer",
    lg_sources: "Sources", lg_feedback: "Feedback", lg_corrected: "Corrected answer", lg_correct: "Correct",
    lg_correct_title: "Correct this answer", lg_fixed: "The right answer", lg_to_kb: "Add as FAQ to knowledge base",
    lg_to_set: "Add to eval set (created if missing)", lg_expected: "Expected source (optional)", lg_none_opt: "— none —",
    lg_save_fix: "Save correction", lg_fixed_kb: "Added to knowledge base {x}: searchable now",
    lg_fixed_set: "Added to eval set {x}", lg_select: "Use for an eval set",
    lg_make_set: "Create eval set from {x} selected answers", lg_set_name: "Eval set name", lg_set_made: "Eval set {x} created",
    lg_count: "Times asked", lg_last: "Last asked", lg_unanswered_none: "No refused questions.",
    ch_chat: "Chat (API / console)", ch_openai: "OpenAI-compatible API", ch_local: "CLI / Python",
    lg_total: "{x} conversations",
  },
  zh: {
    logs_title: "对话日志", logs_tab: "对话", unanswered_tab: "待补充问题",
    lg_assistant: "助手", lg_channel: "渠道", lg_since: "开始日期", lg_until: "结束日期", lg_text: "问题包含",
    lg_refused: "已拒答", lg_down: "被点踩", lg_nocite: "无引用", lg_flagged: "已标记",
    lg_apply: "筛选", lg_all: "全部", lg_when: "最近活动", lg_first: "首个问题", lg_turns: "轮数",
    lg_marks: "标记", lg_open: "查看", lg_page: "{x}",
    lg_none: "没有符合条件的对话。", lg_turns_title: "对话 #{x}", lg_question: "问题", lg_answer: "回答",
    lg_sources: "来源", lg_feedback: "反馈", lg_corrected: "修正后的回答", lg_correct: "纠正",
    lg_correct_title: "纠正此回答", lg_fixed: "正确答案", lg_to_kb: "作为问答加入知识库",
    lg_to_set: "加入评测集（不存在则新建）", lg_expected: "预期来源（可选）", lg_none_opt: "— 不加入 —",
    lg_save_fix: "保存纠正", lg_fixed_kb: "已加入知识库 {x}，现在即可检索到",
    lg_fixed_set: "已加入评测集 {x}", lg_select: "用于评测集",
    lg_make_set: "用选中的 {x} 条回答建评测集", lg_set_name: "评测集名称", lg_set_made: "已创建评测集 {x}",
    lg_count: "提问次数", lg_last: "最近提问", lg_unanswered_none: "没有被拒答的问题。",
    ch_chat: "对话（API / 控制台）", ch_openai: "OpenAI 兼容接口", ch_local: "命令行 / Python",
    lg_total: "共 {x} 个对话",
  },
});

const PAGE = 20;
const CHANNELS = ["chat", "openai", "local"];

function channelName(c) {
  const key = `ch_${c}`;
  const s = t(key);
  return s === key ? c : s;
}

export async function logsPage(view, conversationId) {
  const err = errorBox();
  const tabs = h("div.row.tabs", { role: "tablist" });
  const body = h("div");
  view.replaceChildren(h("h1", t("logs_title")), tabs, err, body);
  const show = (which) => {
    tabs.replaceChildren(
      h("button", { type: "button", role: "tab", id: "tab-logs", "aria-selected": String(which === "logs"),
        className: which === "logs" ? "primary" : "ghost", onclick: () => show("logs") }, t("logs_tab")),
      h("button", { type: "button", role: "tab", id: "tab-unanswered", "aria-selected": String(which !== "logs"),
        className: which !== "logs" ? "primary" : "ghost", onclick: () => show("unanswered") }, t("unanswered_tab")));
    if (which === "logs") conversations(body, err, conversationId);
    else unanswered(body, err);
  };
  show("logs");
}

async function conversations(body, err, openId) {
  let bots = [], sets = [], kbs = [];
  try {
    [bots, kbs, sets] = await Promise.all([api("GET", "/v1/assistants"), api("GET", "/v1/kbs"),
      api("GET", "/v1/evals/sets").catch(() => [])]);
  } catch (e) { showError(e, err); }
  const ctx = { kbs: kbs.map((k) => k.name), sets: sets.map((s) => s.name), selected: new Set(), err };
  const f = {
    assistant: h("select", { name: "assistant" }, h("option", { value: "" }, t("lg_all")),
      bots.map((b) => h("option", { value: b.slug }, b.name || b.slug))),
    channel: h("select", { name: "channel" }, h("option", { value: "" }, t("lg_all")),
      CHANNELS.map((c) => h("option", { value: c }, channelName(c)))),
    since: h("input", { type: "date", name: "since" }),
    until: h("input", { type: "date", name: "until" }),
    q: h("input", { type: "search", name: "q", maxLength: 500 }),
    refused: h("input", { type: "checkbox", name: "refused" }),
    thumbs_down: h("input", { type: "checkbox", name: "thumbs_down" }),
    no_citation: h("input", { type: "checkbox", name: "no_citation" }),
    flagged: h("input", { type: "checkbox", name: "flagged" }),
  };
  const list = h("div.log-list");
  const pager = h("div.row.pager");
  const detail = h("div.log-detail");
  const makeSet = h("div.row.make-set");
  let offset = 0;
  const query = () => {
    const p = new URLSearchParams({ offset: String(offset), limit: String(PAGE) });
    for (const k of ["assistant", "channel", "since", "until", "q"]) if (f[k].value) p.set(k, f[k].value);
    for (const k of ["refused", "thumbs_down", "no_citation", "flagged"]) if (f[k].checked) p.set(k, "true");
    return p.toString();
  };
  const load = async () => {
    try {
      const page = await api("GET", `/v1/logs/conversations?${query()}`);
      list.replaceChildren(page.conversations.length ? table(
        [t("lg_when"), t("lg_assistant"), t("lg_channel"), t("lg_first"), t("lg_turns"), t("lg_marks"), ""],
        page.conversations.map((c) => h("tr.log-row", { "data-conversation": c.id },
          h("td", fmtTime(c.updated_at)), h("td", c.assistant || "—"), h("td", channelName(c.channel)),
          h("td.clip", c.first_question), h("td.n", c.turns),
          h("td", marks(c)),
          h("td", h("button.ghost", { type: "button", onclick: () => openConversation(detail, c.id, ctx, refreshSet) }, t("lg_open"))))),
        t("logs_title")) : h("p.muted", t("lg_none")));
      const step = pagerButtons((by) => { offset = Math.max(0, offset + by * PAGE); load(); });
      step.update(offset > 0, offset + PAGE < page.total);
      pager.replaceChildren(step.prev, h("span.muted", { id: "log-total" }, t("lg_total", page.total)), step.next);
    } catch (e) { showError(e, err); }
  };
  const refreshSet = () => {
    makeSet.replaceChildren();
    if (!ctx.selected.size) return;
    const name = h("input", { type: "text", name: "set_name", required: true, maxLength: 128, value: "from-logs" });
    const go = h("button.primary", { type: "button" }, t("lg_make_set", ctx.selected.size));
    go.addEventListener("click", () => act(go, async () => {
      const made = await api("POST", "/v1/logs/eval-sets", { name: name.value.trim(), message_ids: [...ctx.selected] });
      toast(t("lg_set_made", made.name));
      ctx.selected.clear();
      ctx.sets.push(made.name);
      refreshSet();
      detail.querySelectorAll("input[name=pick]").forEach((b) => { b.checked = false; });
    }, err));
    makeSet.append(field(t("lg_set_name"), name), go);
  };
  const form = h("form.card.log-filters",
    h("div.grid", field(t("lg_assistant"), f.assistant), field(t("lg_channel"), f.channel),
      field(t("lg_since"), f.since), field(t("lg_until"), f.until), field(t("lg_text"), f.q)),
    h("div.row", ["refused", "thumbs_down", "no_citation", "flagged"].map((k) =>
      h("label.check", f[k], " ", t({ refused: "lg_refused", thumbs_down: "lg_down", no_citation: "lg_nocite", flagged: "lg_flagged" }[k]))),
    h("button.primary", { type: "submit" }, t("lg_apply"))));
  form.addEventListener("submit", (e) => { e.preventDefault(); offset = 0; load(); });
  body.replaceChildren(form, h("section.card", list, pager), makeSet, detail);
  await load();
  if (openId) await openConversation(detail, Number(openId), ctx, refreshSet);
}

function marks(c) {
  return [
    c.refused ? h("span.badge.error", { title: t("lg_refused") }, `${t("lg_refused")} ${c.refused}`) : null,
    c.thumbs_down ? h("span.badge.parsed", { title: t("lg_down") }, `👎 ${c.thumbs_down}`) : null,
    c.no_citation ? h("span.badge", { title: t("lg_nocite") }, `${t("lg_nocite")} ${c.no_citation}`) : null,
  ];
}

async function openConversation(detail, id, ctx, onSelect) {
  try {
    const conv = await api("GET", `/v1/logs/conversations/${id}`);
    detail.replaceChildren(h("section.card.turns", { "aria-labelledby": "turns-h", "data-conversation": id },
      h("h2", { id: "turns-h" }, t("lg_turns_title", id), " ", h("small.muted", `${conv.conversation.assistant || "—"} · ${channelName(conv.conversation.channel)}`)),
      h("ol.turn-list", conv.turns.map((turn) => turnView(turn, ctx, onSelect)))));
    detail.scrollIntoView({ block: "start" });
  } catch (e) { showError(e, ctx.err); }
}

function turnView(turn, ctx, onSelect) {
  const pick = h("input", { type: "checkbox", name: "pick", value: String(turn.message_id), checked: ctx.selected.has(turn.message_id) });
  pick.addEventListener("change", () => {
    if (pick.checked) ctx.selected.add(turn.message_id); else ctx.selected.delete(turn.message_id);
    onSelect();
  });
  const fix = h("button", { type: "button" }, t("lg_correct"));
  fix.addEventListener("click", () => correctDialog(turn, ctx));
  return h("li.turn", { "data-message": turn.message_id },
    h("p", h("strong", `${t("lg_question")}: `), turn.question),
    h("p", h("strong", `${t("lg_answer")}: `), turn.refused ? h("span.badge.error", t("lg_refused")) : null, " ", turn.answer),
    turn.citations.length ? h("details.sources", h("summary", `${t("lg_sources")} (${turn.citations.length})`),
      h("ol", turn.citations.map((c) => h("li", `[${c.n}] ${c.title || c.source}`, c.quote ? h("small.muted", ` — ${c.quote}`) : null)))) : null,
    turn.rating !== null || turn.comment ? h("p.muted", `${t("lg_feedback")}: ${turn.rating > 0 ? "👍" : turn.rating < 0 ? "👎" : "·"} ${turn.comment || ""}`) : null,
    turn.corrected_answer ? h("p.corrected", h("strong", `${t("lg_corrected")}: `), turn.corrected_answer) : null,
    h("div.row", fix, h("label.check", pick, " ", t("lg_select")), h("small.muted", fmtTime(turn.created_at))));
}

// The correction form: the fixed answer, a knowledge base and/or an eval set.
export function correctDialog(turn, ctx) {
  const answer = h("textarea", { name: "answer", rows: 4, required: true, maxLength: 20000,
    value: turn.corrected_answer || (turn.refused ? "" : turn.answer.replace(/\s*\[\d+(?:,\s*\d+)*\]/g, "")) });
  const kb = h("select", { name: "kb" }, h("option", { value: "" }, t("lg_none_opt")),
    ctx.kbs.map((k, i) => h("option", { value: k, selected: i === 0 }, k)));
  const listId = `sets-${turn.message_id}`;
  const set = h("input", { type: "text", name: "eval_set", maxLength: 128, list: listId });
  const expected = h("input", { type: "text", name: "expected_source", maxLength: 2000,
    value: turn.citations.length ? turn.citations[0].source : "" });
  const err = errorBox();
  const save = h("button.primary", { type: "submit" }, t("lg_save_fix"));
  const form = h("form.correct-form",
    h("p", h("strong", `${t("lg_question")}: `), turn.question),
    field(t("lg_fixed"), answer), field(t("lg_to_kb"), kb), field(t("lg_to_set"), set),
    h("datalist", { id: listId }, ctx.sets.map((s) => h("option", { value: s }))),
    field(t("lg_expected"), expected), err, h("div.row", save));
  const dlg = dialog(t("lg_correct_title"), form);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(save, async () => {
      const payload = { answer: answer.value.trim() };
      if (kb.value) payload.kb = kb.value;
      if (set.value.trim()) { payload.eval_set = set.value.trim(); if (expected.value.trim()) payload.expected_source = expected.value.trim(); }
      const made = await api("POST", `/v1/logs/messages/${turn.message_id}/correct`, payload);
      toast([made.kb ? t("lg_fixed_kb", made.kb) : null, made.eval_set ? t("lg_fixed_set", made.eval_set) : null].filter(Boolean).join(" · "));
      if (made.eval_set && !ctx.sets.includes(made.eval_set)) ctx.sets.push(made.eval_set);
      dlg.close();
    }, err);
  });
  return dlg;
}

async function unanswered(body, err) {
  let kbs = [], sets = [];
  try {
    [kbs, sets] = await Promise.all([api("GET", "/v1/kbs"), api("GET", "/v1/evals/sets").catch(() => [])]);
  } catch (e) { showError(e, err); }
  const ctx = { kbs: kbs.map((k) => k.name), sets: sets.map((s) => s.name), selected: new Set(), err };
  const out = h("section.card.unanswered");
  body.replaceChildren(out);
  try {
    const groups = await api("GET", "/v1/logs/unanswered");
    out.replaceChildren(groups.length ? table([t("lg_question"), t("lg_count"), t("lg_last"), t("lg_assistant"), ""],
      groups.map((g) => h("tr.unanswered-row", { "data-message": g.message_id },
        h("td", g.question, g.variants.length ? h("small.muted.variants", { style: "display:block" }, g.variants.join(" · ")) : null),
        h("td.n", g.count), h("td", fmtTime(g.last_asked)), h("td", g.assistants.join(", ") || "—"),
        h("td", h("button", { type: "button", onclick: () => correctDialog(
          { message_id: g.message_id, question: g.question, answer: "", refused: true, citations: [], corrected_answer: null }, ctx) },
        t("lg_correct"))))), t("unanswered_tab")) : h("p.muted", t("lg_unanswered_none")));
  } catch (e) { showError(e, err); }
}
