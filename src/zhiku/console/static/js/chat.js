// Chat: streaming answers, citation markers that open the cited passage (and its document),
// thumbs up/down and corrections on every answer, conversation history.
import { api, stream } from "./api.js";
import { t } from "./i18n.js";
import { act, dialog, errorBox, fmtLocation, fmtTime, h, showError, toast } from "./ui.js";
import { extractiveNote } from "./firstrun.js";
import { richText } from "./richtext.js";

// A chat panel on one assistant; `opts.conversationId` continues a stored conversation,
// `opts.draft` answers with the draft configuration (the assistant page's preview).
export function chatBox(assistant, opts = {}) {
  let conversationId = opts.conversationId || null;
  const log = h("div.log", { role: "log", "aria-live": "polite", "aria-label": t("chat_title") });
  const input = h("textarea", { name: "message", rows: 2, required: true, maxLength: 20000, "aria-label": t("message"), placeholder: t("message") });
  const btn = h("button.primary", { type: "submit" }, t("send"));
  const err = errorBox();
  const form = h("form.composer", input, btn);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    const asked = h("div.msg.user", h("div.bubble", text));
    log.append(asked);
    const body = h("div.bubble", h("span.muted", t("thinking")));
    const msg = h("div.msg.assistant", { "aria-busy": "true" }, body);
    log.append(msg);
    msg.scrollIntoView({ block: "end" });
    act(btn, async () => {
      let answer = "", citations = [];
      try {
        await stream("POST", `/v1/assistants/${encodeURIComponent(assistant.slug)}/chat`,
          { message: text, conversation_id: conversationId, stream: true, draft: !!opts.draft }, (event, data) => {
            if (event === "token") {
              answer += data.text;
              body.textContent = answer;
            } else if (event === "citations") {
              citations = data;
            } else if (event === "done") {
              conversationId = data.conversation_id;
              if (opts.onConversation) opts.onConversation(conversationId);
              const done = answerView(assistant, data.answer || answer, citations, data.message_id, data);
              msg.replaceWith(done);
              log.scrollTop = log.scrollHeight;
              done.scrollIntoView({ block: "nearest" });
            }
          });
      } catch (e2) {
        // the question goes back into the composer, to send again
        msg.remove();
        asked.remove();
        if (!input.value) input.value = text;
        showError(e2, err, { prefix: t("send_failed"), retry: () => form.requestSubmit() });
        input.focus();
      }
    }, err);
  });
  const panel = h("div.chat", extractiveNote(assistant.published || assistant.config), log, err, form);
  if (conversationId) {
    api("GET", `/v1/conversations/${conversationId}/messages`).then((msgs) => {
      for (const m of msgs) {
        log.append(m.role === "user" ? h("div.msg.user", h("div.bubble", m.content))
          : answerView(assistant, m.content, m.citations || [], m.id, m.metadata || {}, m.feedback));
      }
      log.scrollTop = log.scrollHeight;
    }).catch((e2) => showError(e2, err));
  }
  return panel;
}

function answerView(assistant, answer, citations, messageId, flags, rated = null) {
  const byN = new Map(citations.map((c) => [c.n, c]));
  const body = h("div.bubble", ...richText(answer, (n) => (byN.has(n) ? citeButton(assistant, byN.get(n)) : null)));
  const sources = citations.length ? h("details.sources", { open: true },
    h("summary", `${t("citations")} (${citations.length})`),
    h("ol", citations.map((c) => h("li", h("button.link", { type: "button", onclick: () => openCitation(assistant, c) },
      `[${c.n}] ${c.title || c.source}`, c.location ? ` — ${fmtLocation(c.location)}` : ""))))) : null;
  return h("div.msg.assistant", { "data-message": messageId || "" },
    body, flags && flags.refused ? h("span.refused", { "data-refused": "true" }, t("refused_note")) : null, groundingNote(flags), sources,
    messageId ? feedback(messageId, rated) : null);
}

// Whether the answer is grounded: a warning when it is not, a note when the assistant's policy
// replaced the model's answer (extractive answer or refusal).
function groundingNote(flags) {
  if (!flags || !flags.ungrounded_reason) return null;
  const why = t(`why_${flags.ungrounded_reason}`);
  if (flags.grounded === false) return h("p.warning", { role: "note", "data-grounded": "false" }, t("ungrounded_warn", why));
  return h("small.muted", { "data-grounded": "true" }, t("ungrounded_replaced", why));
}

function citeButton(assistant, c) {
  return h("button.cite", { type: "button", "aria-label": t("cite_open", c.n), title: c.title || c.source,
    onclick: () => openCitation(assistant, c) }, `[${c.n}]`);
}

function markQuote(text, quote) {
  const frag = document.createDocumentFragment();
  const at = quote ? text.indexOf(quote) : -1;
  if (at < 0) { frag.append(text); return frag; }
  frag.append(text.slice(0, at), h("mark", quote), text.slice(at + quote.length));
  return frag;
}

export function openCitation(assistant, c) {
  const doc = h("div.document");
  const err = errorBox();
  const more = h("button", { type: "button" }, t("show_document"));
  more.addEventListener("click", () => act(more, async () => {
    let chunks = null, lastErr = null;
    for (const kb of assistant.config.knowledge_bases) {
      try {
        chunks = await api("GET", `/v1/kbs/${encodeURIComponent(kb)}/documents/${c.document_id}/chunks`);
        break;
      } catch (e) { lastErr = e; }
    }
    if (!chunks) throw lastErr;
    doc.replaceChildren(...chunks.map((ch) => h(ch.id === c.chunk_id ? "p.chunk.cited" : "p.chunk",
      ch.heading_path && ch.heading_path.length ? h("small.muted", ch.heading_path.join(" › "), h("br")) : null,
      ch.id === c.chunk_id ? markQuote(ch.text, c.quote) : ch.text)));
    more.remove();
    const cited = doc.querySelector(".cited");
    if (cited) cited.scrollIntoView({ block: "center" });
  }, err));
  dialog(`${t("passage")} [${c.n}]`, h("div.citation",
    h("p", h("strong", c.title || c.source), " ", h("small.muted", [c.source, fmtLocation(c.location)].filter(Boolean).join(" · "))),
    /^https?:\/\//i.test(c.url || "") ? h("p", h("a", { href: c.url, target: "_blank", rel: "noopener noreferrer" }, c.url)) : null,
    h("blockquote.passage", markQuote(c.text, c.quote)), err, h("div.row", more), doc));
}

// Thumb icons as inline SVG: no emoji font needed.
function thumb(down) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "18");
  svg.setAttribute("height", "18");
  svg.setAttribute("aria-hidden", "true");
  if (down) svg.style.transform = "rotate(180deg)";
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z");
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}

// `rated`: the rating already given (a reopened conversation shows it pressed).
function feedback(messageId, rated = null) {
  const err = errorBox();
  const up = h("button.thumb", { type: "button", "aria-pressed": "false", "aria-label": t("helpful"), title: t("helpful") }, thumb(false));
  const down = h("button.thumb", { type: "button", "aria-pressed": "false", "aria-label": t("not_helpful"), title: t("not_helpful") }, thumb(true));
  const fix = h("button.ghost", { type: "button", "aria-expanded": "false" }, t("correction"));
  const corrected = h("textarea", { rows: 2, "aria-label": t("correction"), placeholder: t("correction_ph") });
  const comment = h("input", { type: "text", "aria-label": t("comment"), placeholder: t("comment") });
  const sendBtn = h("button", { type: "submit" }, t("send_feedback"));
  const form = h("form.correction", { hidden: true }, corrected, comment, sendBtn);
  let rating = rated;
  up.setAttribute("aria-pressed", String(rating === "up"));
  down.setAttribute("aria-pressed", String(rating === "down"));
  const post = (button, body) => act(button, async () => {
    await api("POST", `/v1/messages/${messageId}/feedback`, body);
    rating = body.rating;
    up.setAttribute("aria-pressed", String(rating === "up"));
    down.setAttribute("aria-pressed", String(rating === "down"));
    toast(t("thanks"));
  }, err);
  up.addEventListener("click", () => post(up, { rating: "up" }));
  down.addEventListener("click", () => post(down, { rating: "down" }));
  fix.addEventListener("click", () => {
    form.hidden = !form.hidden;
    fix.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) corrected.focus();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { rating: rating || "down", comment: comment.value };
    if (corrected.value.trim()) body.corrected_answer = corrected.value.trim();
    post(sendBtn, body).then(() => { form.hidden = true; fix.setAttribute("aria-expanded", "false"); });
  });
  return h("div.feedback", h("div.row", up, down, fix), form, err);
}

export async function chatPage(view, slug) {
  const err = errorBox();
  view.replaceChildren(h("h1", t("chat_title")), err);
  let assistants;
  try { assistants = await api("GET", "/v1/assistants"); } catch (e) { showError(e, err); return; }
  if (!assistants.length) {
    view.append(h("p", t("no_assistants"), " ", h("a", { href: "#/assistants" }, t("new_assistant"))));
    return;
  }
  const current = assistants.find((a) => a.slug === slug) || assistants[0];
  const pick = h("select", { id: "chat-assistant" }, assistants.map((a) =>
    h("option", { value: a.slug, selected: a.slug === current.slug }, a.name || a.slug)));
  pick.addEventListener("change", () => { location.hash = `#/chat/${encodeURIComponent(pick.value)}`; });
  const history = h("ul.history");
  const area = h("div.chat-area");
  const open = (conversationId) => {
    area.replaceChildren(chatBox(current, { conversationId, onConversation: () => loadHistory() }));
    const box = area.querySelector("textarea");
    if (box) box.focus();
  };
  async function loadHistory() {
    try {
      const convs = await api("GET", `/v1/conversations?assistant=${encodeURIComponent(current.slug)}`);
      history.replaceChildren(...convs.slice(0, 50).map((c) => h("li", h("button.link", { type: "button", onclick: () => open(c.id) },
        c.title || `#${c.id}`, h("br"), h("small.muted", fmtTime(c.updated_at))))));
    } catch (e) { showError(e, err); }
  }
  view.append(h("div.chat-layout",
    h("aside.card", h("label", { htmlFor: "chat-assistant" }, t("assistant")), pick,
      h("button", { type: "button", onclick: () => open(null) }, t("new_chat")),
      h("h2", t("history")), history),
    area));
  open(null);
  await loadHistory();
}
