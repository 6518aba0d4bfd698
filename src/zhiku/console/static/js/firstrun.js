// First run: a three-step checklist on the landing page (add a model → create a knowledge base
// and upload → create and try an assistant), each step ticked from the workspace's real state;
// and the plain notice that an assistant without a model answers extractively.
import { api } from "./api.js";
import { addStrings, t } from "./i18n.js";
import { h } from "./ui.js";

addStrings({
  en: {
    fr_title: "Get started in three steps", fr_done: "done", fr_todo: "to do",
    fr_model: "Add a model", fr_model_hint: "Connect an LLM (DeepSeek, Qwen, a local model…). Without one, answers are extractive: sentences quoted from your documents.",
    fr_model_cli: "On the server: zhiku models add NAME --preset deepseek --api-key …",
    fr_model_go: "Add a model",
    fr_kb: "Create a knowledge base and upload documents", fr_kb_hint: "PDF, Word, Excel, Markdown, web pages…",
    fr_kb_go: "Create a knowledge base",
    fr_app: "Create an assistant and try it", fr_app_hint: "Pick knowledge bases, then ask a question in the chat.",
    fr_app_go: "Create an assistant", fr_chat_go: "Try it in the chat",
    fr_extractive: "No model is set for this assistant: answers are extractive — sentences quoted from the knowledge base, with citations; the system prompt has no effect.",
  },
  zh: {
    fr_title: "三步开始使用", fr_done: "已完成", fr_todo: "待完成",
    fr_model: "添加模型", fr_model_hint: "接入大模型（DeepSeek、通义千问、本地模型等）。未添加模型时，回答为抽取式：直接摘录文档原句。",
    fr_model_cli: "在服务器上运行：zhiku models add 名称 --preset deepseek --api-key …",
    fr_model_go: "添加模型",
    fr_kb: "创建知识库并上传文档", fr_kb_hint: "支持 PDF、Word、Excel、Markdown、网页等。",
    fr_kb_go: "创建知识库",
    fr_app: "创建助手并试用", fr_app_hint: "选择知识库，然后在对话页提问。",
    fr_app_go: "创建助手", fr_chat_go: "去对话试试",
    fr_extractive: "此助手未设置模型：回答为抽取式——直接摘录知识库原句并附引用，系统提示词不起作用。",
  },
});

async function optional(path) {
  try { return await api("GET", path); } catch { return null; } // an endpoint this server lacks
}

// The workspace's state for the checklist: which steps are done.
export async function firstRunState() {
  const [providers, kbs, assistants, conversations] = await Promise.all([
    optional("/v1/providers"), optional("/v1/kbs"), optional("/v1/assistants"), optional("/v1/conversations")]);
  const list = (x) => (Array.isArray(x) ? x : x && Array.isArray(x.providers) ? x.providers : []);
  const bots = assistants || [];
  const chatModels = list(providers).filter((p) => (p.kind || "chat") === "chat");
  return {
    providersApi: providers !== null,
    model: chatModels.length > 0 || bots.some((a) => (a.published || a.config || {}).model),
    kb: (kbs || []).some((k) => k.stats && k.stats.documents > 0),
    app: bots.length > 0 && (conversations || []).length > 0,
    hasApp: bots.length > 0,
  };
}

function step(n, done, title, hint, ...actions) {
  return h("li.fr-step", { className: done ? "fr-step done" : "fr-step", "data-step": n, "data-done": String(done) },
    h("span.fr-tick", { "aria-label": done ? t("fr_done") : t("fr_todo") }, done ? "✓" : String(n)),
    h("div", h("strong", title), h("small.muted", { style: "display:block" }, hint), done ? null : h("div.row", actions)));
}

// The checklist card, or null when every step is done.
export async function checklist() {
  const s = await firstRunState();
  if (s.model && s.kb && s.app) return null;
  const modelAction = s.providersApi ? h("a.button", { href: "#/models" }, t("fr_model_go"))
    : h("code.fr-cli", t("fr_model_cli"));
  return h("section.card.first-run", { "aria-labelledby": "fr-h" }, h("h2", { id: "fr-h" }, t("fr_title")),
    h("ol.fr-steps",
      step(1, s.model, t("fr_model"), t("fr_model_hint"), modelAction),
      step(2, s.kb, t("fr_kb"), t("fr_kb_hint"), h("a.button", { href: "#/kbs" }, t("fr_kb_go"))),
      step(3, s.app, t("fr_app"), t("fr_app_hint"),
        s.hasApp ? h("a.button", { href: "#/chat" }, t("fr_chat_go")) : h("a.button", { href: "#/assistants" }, t("fr_app_go")))));
}

// Put the checklist at the top of a page (the landing page) when steps are left.
export async function firstRun(view) {
  const card = await checklist();
  if (card && view.isConnected) view.prepend(card);
}

// The notice an assistant configuration without a model gets (null when it has one).
export function extractiveNote(config) {
  if (!config || config.model) return null;
  return h("p.notice.extractive-note", { role: "note" }, t("fr_extractive"));
}
