// The public chat page of a share link: no account, no key. It opens a visitor session
// (with the link's password when it has one, and a signed identity passed by an embedding
// page), then streams answers with their cited snippets. Nothing else of the workspace is
// reachable from here.
import { addStrings, lang, setLang, t } from "./i18n.js";
import { readEvents } from "./sse.js";
import { h } from "./ui.js";
import { richText } from "./richtext.js";

addStrings({
  en: {
    sp_title: "Ask", sp_send: "Send", sp_message: "Your question", sp_thinking: "Answering…",
    sp_password: "This chat is protected by a password.", sp_enter: "Open",
    sp_sources: "Sources", sp_as: "Signed in as {x}", sp_new: "New conversation",
    sp_gone: "This link does not exist or is no longer available.",
    sp_busy: "Too many questions right now; please wait a moment.", sp_failed: "Something went wrong",
    sp_helpful: "Helpful", sp_not_helpful: "Not helpful", sp_thanks: "Thanks for the feedback",
  },
  zh: {
    sp_title: "提问", sp_send: "发送", sp_message: "请输入您的问题", sp_thinking: "正在回答…",
    sp_password: "此对话受密码保护。", sp_enter: "进入",
    sp_sources: "来源", sp_as: "当前用户：{x}", sp_new: "新对话",
    sp_gone: "此链接不存在或已失效。",
    sp_busy: "提问过于频繁，请稍后再试。", sp_failed: "出错了",
    sp_helpful: "有帮助", sp_not_helpful: "没有帮助", sp_thanks: "感谢您的反馈",
  },
});

const token = decodeURIComponent(location.pathname.split("/")[2] || "");
const base = `/s/${encodeURIComponent(token)}`;
const params = new URLSearchParams(location.hash.slice(1));
if (params.get("lang") === "zh" || params.get("lang") === "en") setLang(params.get("lang"));
const main = document.getElementById("main");
// a session is kept per tab for this link and the user an embedding page names
const saved = `zhiku-share:${token.slice(-12)}:${params.get("user") || ""}`;
let visitor = null;
let conversationId = null;

class Failure extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `${status}`);
    this.status = status;
    this.error = (body && body.error) || {};
  }
}

async function post(path, body, auth) {
  const headers = { "Content-Type": "application/json" };
  if (auth) headers.Authorization = `Bearer ${auth}`;
  const resp = await fetch(base + path, { method: "POST", headers, body: JSON.stringify(body) });
  if (!resp.ok) {
    let data = null;
    try { data = await resp.json(); } catch { /* not JSON */ }
    throw new Failure(resp.status, data);
  }
  return resp;
}

async function openSession(password) {
  const body = { embedded: params.has("embed") };
  if (password) body.password = password;
  if (params.get("user")) Object.assign(body, { user: params.get("user"), exp: Number(params.get("exp")), sig: params.get("sig") || "" });
  if (params.get("user") && params.get("name")) body.name = params.get("name");
  const resp = await post("/session", body);
  visitor = await resp.json();
  conversationId = null;
  sessionStorage.setItem(saved, JSON.stringify({ visitor, conversationId }));
  return visitor;
}

function remember() { sessionStorage.setItem(saved, JSON.stringify({ visitor, conversationId })); }

function message(failure) {
  if (failure.status === 404) return t("sp_gone");
  if (failure.status === 429) return t("sp_busy");
  return `${t("sp_failed")}: ${failure.message}`;
}

function showGone(text) {
  main.replaceChildren(h("p.error", { role: "alert" }, text));
}

function passwordForm(error) {
  const input = h("input", { type: "password", name: "password", required: true, autocomplete: "current-password", "aria-label": t("password") });
  const err = h("p.error", { role: "alert", hidden: !error }, error || "");
  const form = h("form.password", h("p", t("sp_password")), input, err, h("button.primary", { type: "submit" }, t("sp_enter")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try { await openSession(input.value); chatView(); } catch (f) {
      err.textContent = f.status === 401 ? f.message : message(f);
      err.hidden = false;
    }
  });
  main.replaceChildren(form);
  input.focus();
}

function answerView(answer, citations, messageId) {
  const byN = new Map(citations.map((c) => [c.n, c]));
  const body = h("div.bubble");
  let sources = null;
  const show = (n) => {  // open the sources and bring the cited snippet into view
    sources.open = true;
    const item = sources.querySelector(`[data-cite="${n}"]`);
    if (item) { item.scrollIntoView({ block: "nearest" }); item.classList.add("cited"); }
  };
  body.append(...richText(answer, (n) => {
    const c = byN.get(n);
    return c ? h("button.cite", { type: "button", title: c.title || c.source,
      "aria-label": `${t("sp_sources")} ${c.n}`, onclick: () => show(c.n) }, `[${c.n}]`) : null;
  }));
  sources = citations.length ? h("details.sources", { open: true },
    h("summary", `${t("sp_sources")} (${citations.length})`),
    h("ol", citations.map((c) => h("li", { "data-cite": c.n },
      h("strong", `[${c.n}] ${c.title || c.source}`), c.location ? ` — ${c.location}` : "",
      h("p.snippet", c.text))))) : null;
  return h("div.msg.assistant", body, sources, messageId ? thumbs(messageId) : null);
}

// Thumb icons as inline SVG (no emoji font needed); a rating goes to the app's owners.
function thumb(down) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 24 24", width: "16", height: "16", "aria-hidden": "true" })) svg.setAttribute(k, v);
  if (down) svg.style.transform = "rotate(180deg)";
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z");
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}

function thumbs(messageId) {
  const note = h("small.muted", { role: "status" });
  const buttons = ["up", "down"].map((rating) => h("button.thumb", {
    type: "button", "aria-pressed": "false", "data-rating": rating,
    "aria-label": t(rating === "up" ? "sp_helpful" : "sp_not_helpful"),
    title: t(rating === "up" ? "sp_helpful" : "sp_not_helpful"),
    onclick: async () => {
      try {
        await post("/feedback", { message_id: messageId, rating }, visitor.token);
        for (const b of buttons) b.setAttribute("aria-pressed", String(b.dataset.rating === rating));
        note.textContent = t("sp_thanks");
      } catch (f) { note.textContent = message(f); }
    } }, thumb(rating === "down")));
  return h("div.feedback", h("div.row", ...buttons, note));
}

async function ask(text, log, retried = false) {
  const pending = h("div.msg.assistant", { "aria-busy": "true" }, h("div.bubble", h("span.muted", t("sp_thinking"))));
  log.append(pending);
  pending.scrollIntoView({ block: "end" });
  let answer = "", citations = [];
  try {
    const resp = await post("/chat", { message: text, conversation_id: conversationId, stream: true }, visitor.token);
    await readEvents(resp, (event, parsed) => {
      if (event === "token") { answer += parsed.text; pending.firstChild.textContent = answer; }
      else if (event === "citations") citations = parsed;
      else if (event === "error") throw new Failure(500, { error: parsed });
      else if (event === "done") {
        conversationId = parsed.conversation_id;
        remember();
        pending.replaceWith(answerView(parsed.answer || answer, citations, parsed.message_id));
      }
    });
  } catch (f) {
    pending.remove();
    if (f.status === 401 && !retried) {  // the visitor token expired: a new session
      try { await openSession(); } catch (g) { if (g.status === 401) { passwordForm(); return; } throw g; }
      return ask(text, log, true);
    }
    log.append(h("p.error", { role: "alert" }, f instanceof Failure ? message(f) : String(f)));
  }
}

function chatView() {
  document.title = visitor.title;
  const log = h("div.log", { role: "log", "aria-live": "polite", "aria-label": visitor.title });
  const input = h("textarea", { name: "message", rows: 2, required: true, maxLength: 20000, "aria-label": t("sp_message"), placeholder: t("sp_message") });
  const send = h("button.primary", { type: "submit" }, t("sp_send"));
  const form = h("form.composer", input, send);
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    log.append(h("div.msg.user", h("div.bubble", text)));
    send.disabled = true;
    try { await ask(text, log); } finally { send.disabled = false; input.focus(); }
  });
  const fresh = h("button.ghost", { type: "button", onclick: () => { conversationId = null; remember(); log.replaceChildren(); input.focus(); } }, t("sp_new"));
  main.replaceChildren(
    h("header", h("h1", visitor.title), visitor.user ? h("span.who.muted", t("sp_as", visitor.name || visitor.user)) : null, fresh),
    h("div.chat", log, form));
  input.focus();
}

async function start() {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  document.title = t("sp_title");
  try {
    const kept = JSON.parse(sessionStorage.getItem(saved) || "null");
    if (kept && kept.visitor && kept.visitor.expires_at * 1000 > Date.now() + 60000) {
      ({ visitor, conversationId } = kept);
      chatView();
      return;
    }
  } catch { /* nothing kept */ }
  try {
    await openSession();
    chatView();
  } catch (f) {
    if (f.status === 401 && f.error.needs === "password") passwordForm();
    else showGone(f instanceof Failure ? message(f) : String(f));
  }
}

start();
