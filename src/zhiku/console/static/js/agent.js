// The agent editor: instructions, model, knowledge bases, tools (built-ins and the tools of
// registered sources), limits; save, publish, versions with rollback; and a try-it chat on the
// draft that streams the answer and shows every step's tool calls and results.
import { api, stream } from "./api.js";
import { t } from "./i18n.js";
import { act, errorBox, field, fmtTime, h, num, showError, table, toast } from "./ui.js";
import { shareSection } from "./share.js";
import { BUILTIN_TOOLS, citationList, guardUnsaved, jsonBlock, statusBadge, useStyles } from "./appkit.js";

const DEFAULTS = { instructions: "", model: "", knowledge_bases: [], tools: [], http_hosts: [], step_limit: 8,
  token_budget: 50000, parallel_tool_calls: true, tool_timeout_s: 30, temperature: 0.2, max_tokens: 1024, top_k: 5,
  max_result_chars: 20000 };
// [field, min, max, step]
const LIMITS = [["step_limit", 1, 50, 1], ["token_budget", 100, null, 100], ["tool_timeout_s", 0.1, 600, "any"],
  ["temperature", 0, 2, 0.1], ["max_tokens", 1, 32768, 1], ["top_k", 1, 50, 1], ["max_result_chars", 100, 1000000, 100]];

export async function agentPage(view, slug) {
  useStyles();
  const err = errorBox();
  view.replaceChildren(h("p.crumbs", h("a", { href: "#/apps" }, t("nav_apps"))), h("h1", slug ? t("kind_agent") : t("new_agent")), err);
  let agent = null, kbs = [];
  try {
    [agent, kbs] = await Promise.all([slug ? api("GET", `/v1/agents/${encodeURIComponent(slug)}`) : null, api("GET", "/v1/kbs")]);
  } catch (e) { showError(e, err); return; }
  const cfg = { ...DEFAULTS, ...(agent ? agent.draft : {}) };
  if (agent) view.querySelector("h1").textContent = agent.name;
  const path = agent ? `/v1/agents/${encodeURIComponent(agent.slug)}` : null;
  let dirty = false;

  const name = h("input", { type: "text", name: "name", required: true, maxLength: 200, value: agent ? agent.name : "" });
  const slugIn = h("input", { type: "text", name: "slug", maxLength: 64, pattern: "[a-z0-9][a-z0-9._\\-]*", value: agent ? agent.slug : "",
    disabled: !!agent, placeholder: t("slug_auto") });
  const instructions = h("textarea", { name: "instructions", rows: 5, maxLength: 20000, value: cfg.instructions });
  const model = h("input", { type: "text", name: "model", required: true, minLength: 3, value: cfg.model, placeholder: "provider/model" });
  const kbBoxes = kbs.map((k) => h("input", { type: "checkbox", name: "kb", value: k.name, checked: cfg.knowledge_bases.includes(k.name) }));
  const kbSet = h("fieldset.kbs", h("legend", t("pick_kbs")), kbBoxes.length ? kbBoxes.map((b) => h("label.check", b, " ", b.value))
    : h("p.muted", h("a", { href: "#/kbs" }, t("new_kb"))), h("small.muted.block", t("kb_tool_hint")));
  const toolSet = h("fieldset.tools-pick", h("legend", t("tools")));
  const hosts = h("input", { type: "text", name: "http_hosts", value: cfg.http_hosts.join(", "), placeholder: "api.example.com, intranet:8080" });
  const limits = LIMITS.map(([f, min, max, step]) => h("input", { type: "number", name: f, min, max, step, value: cfg[f] }));
  const parallel = h("input", { type: "checkbox", name: "parallel_tool_calls", checked: cfg.parallel_tool_calls });
  const formErr = errorBox();
  const save = h("button.primary", { type: "submit" }, agent ? t("save_draft") : t("create"));
  const publish = agent ? h("button", { type: "button" }, t("publish")) : null;
  const remove = agent ? h("button.danger", { type: "button" }, t("delete")) : null;
  const state = h("span.dirty", { "aria-live": "polite" });

  // tools: built-ins, then each registered source's (an admin's view; others see built-ins)
  const chosen = new Set(cfg.tools);
  const toolBox = (name, description) => h("label.check.tool", { title: description || "" },
    h("input", { type: "checkbox", name: "tool", value: name, checked: chosen.has(name) }), " ", h("code", name));
  toolSet.append(h("div.tool-group", h("h3", t("builtin_tools")), BUILTIN_TOOLS.map((n) => toolBox(n, t(`tool_${n}`)))));
  const loading = h("p.muted", t("loading_tools"));
  toolSet.append(loading);
  const known = new Set(BUILTIN_TOOLS);
  (async () => {
    let sources = [];
    try { sources = await api("GET", "/v1/tool-sources"); } catch { /* not an admin: built-ins only */ }
    // every source is asked at once (an MCP server may be slow to start or not answer)
    await Promise.all(sources.map(async (s) => {
      const wait = h("p.muted", t("loading_tools"));
      const group = h("div.tool-group", { "data-source": s.name }, h("h3", `${s.name} `, h("span.kind", s.kind === "mcp" ? "MCP" : "OpenAPI")), wait);
      toolSet.insertBefore(group, loading);
      try {
        const tools = await api("GET", `/v1/tool-sources/${encodeURIComponent(s.name)}/tools`);
        for (const x of tools) known.add(x.name);
        wait.replaceWith(...(tools.length ? tools.map((x) => toolBox(x.name, x.description)) : [h("p.muted", t("no_tools"))]));
      } catch (e) { wait.replaceWith(h("p.error", `${e.message}`)); }
    }));
    const other = [...chosen].filter((n) => !known.has(n));
    if (other.length) toolSet.insertBefore(h("div.tool-group", h("h3", t("other_tools")), other.map((n) => toolBox(n))), loading);
    loading.replaceChildren(h("a", { href: "#/tool-sources" }, t("manage_sources")));
  })();

  const form = h("form.card.agent-form", { "aria-labelledby": "agent-h" },
    h("div.row.between", h("h2", { id: "agent-h" }, t("agent_settings")), h("span", agent ? statusBadge(agent.published_version) : null, " ", state)),
    h("div.grid", field(t("name"), name), field(t("slug"), slugIn, agent ? null : t("slug_rule"))),
    field(t("instructions"), instructions, t("instructions_hint")),
    field(t("agent_model"), model, t("agent_model_hint")),
    kbSet, toolSet,
    field(t("http_hosts"), hosts, t("http_hosts_hint")),
    h("details.limits", { open: !agent }, h("summary", t("limits")),
      h("div.grid", LIMITS.map(([f], i) => field(t(`lim_${f}`), limits[i]))),
      h("label.check", parallel, " ", t("parallel_tool_calls"))),
    formErr, h("div.row", save, publish, remove));
  form.addEventListener("input", () => { dirty = true; state.textContent = agent ? t("unsaved") : ""; });
  if (agent) guardUnsaved(view, () => dirty);

  const config = () => {
    const c = { instructions: instructions.value, model: model.value.trim(),
      knowledge_bases: kbBoxes.filter((b) => b.checked).map((b) => b.value),
      tools: [...toolSet.querySelectorAll("input[name=tool]:checked")].map((b) => b.value).filter((v, i, a) => a.indexOf(v) === i),
      http_hosts: hosts.value.split(",").map((x) => x.trim()).filter(Boolean), parallel_tool_calls: parallel.checked };
    LIMITS.forEach(([f], i) => { if (limits[i].value !== "") c[f] = Number(limits[i].value); });
    return c;
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(save, async () => {
      if (agent) {
        agent = await api("PATCH", path, { name: name.value.trim(), config: config() });
        dirty = false;
        state.textContent = "";
        view.querySelector("h1").textContent = agent.name;
        toast(t("saved"));
      } else {
        const made = await api("POST", "/v1/agents", { name: name.value.trim(), slug: slugIn.value.trim() || undefined, config: config() });
        toast(t("saved"));
        location.hash = `#/agents/${encodeURIComponent(made.slug)}`;
      }
    }, formErr);
  });
  if (publish) {
    publish.addEventListener("click", () => act(publish, async () => {
      if (dirty) { toast(t("save_first"), "error"); return; }
      const r = await api("POST", `${path}/publish`, { note: "" });
      toast(t("published", r.version));
      await agentPage(view, agent.slug);
    }, formErr));
    remove.addEventListener("click", () => act(remove, async () => {
      if (!confirm(t("confirm_delete", agent.name))) return;
      await api("DELETE", path);
      toast(t("deleted"));
      location.hash = "#/apps";
    }, formErr));
  }

  const tryIt = agent ? h("section.card.try-it", { "aria-labelledby": "try-h" }, h("h2", { id: "try-h" }, t("try_agent")),
    h("p.muted", t("try_agent_hint")), agentChat(agent, () => dirty)) : null;
  view.append(h("div.split.agent-split", form, tryIt));
  if (agent) {
    const versions = h("section.card", { "aria-labelledby": "ag-ver-h" }, h("h2", { id: "ag-ver-h" }, t("versions")));
    view.append(versions, shareSection(agent));
    try {
      const rows = await api("GET", `${path}/versions`);
      versions.append(rows.length ? table([t("version"), t("agent_model"), t("tools"), t("created"), t("actions")], rows.map((v) =>
        h("tr", { "data-version": v.version }, h("td", `v${v.version}${v.live ? ` · ${t("live")}` : ""}`), h("td", v.config.model),
          h("td", v.config.tools.join(", ") || "—"), h("td", fmtTime(v.created_at)),
          h("td.actions", v.live ? null : h("button.ghost.small", { type: "button", onclick: (e) => act(e.currentTarget, async () => {
            await api("POST", `${path}/rollback`, { version: v.version });
            toast(t("rolled_back", v.version));
            await agentPage(view, agent.slug);
          }, err) }, t("rollback"))))), t("versions")) : h("p.muted", t("no_versions")));
    } catch (e) { showError(e, err); }
  }
}

// A chat with the agent's draft: the answer streams; each step's tool calls and results show.
function agentChat(agent, isDirty) {
  const log = h("div.log.agent-log", { role: "log", "aria-live": "polite", "aria-label": t("try_agent") });
  const input = h("textarea", { name: "message", rows: 2, required: true, maxLength: 100000, "aria-label": t("message"), placeholder: t("message") });
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
    if (isDirty()) { showError(t("save_first"), err); return; }
    log.append(h("div.msg.user", h("div.bubble", text)));
    const steps = h("ol.agent-steps", { "aria-label": t("agent_steps") });
    const bubble = h("div.bubble", h("span.muted", t("thinking")));
    const foot = h("p.muted.small");
    const msg = h("div.msg.assistant", { "aria-busy": "true" }, steps, bubble, foot);
    log.append(msg);
    const stepEl = new Map();
    const step = (n) => {
      if (!stepEl.has(n)) {
        const li = h("li.agent-step", { "data-step": n }, h("span.muted", t("step_n", n)), h("ul.calls"));
        steps.append(li);
        stepEl.set(n, li);
      }
      return stepEl.get(n);
    };
    let draft = "";
    act(btn, async () => {
      try {
        await stream("POST", `/v1/agents/${encodeURIComponent(agent.slug)}/run`, { message: text, draft: true, stream: true }, (event, d) => {
          if (event === "step") { step(d.step); draft = ""; }
          else if (event === "token") { draft += d.text; bubble.textContent = draft; }
          else if (event === "tool_call") {
            step(d.step).querySelector(".calls").append(h("li.call", { "data-call": d.id },
              h("div", h("code", d.name), " ", h("span.muted", t("tool_called"))), jsonBlock(d.arguments ?? {}, 300),
              d.error ? h("p.error", d.error) : null, h("div.result")));
          } else if (event === "tool_result") {
            const li = step(d.step).querySelector(`li[data-call="${CSS.escape(d.id)}"]`) || step(d.step);
            li.querySelector(".result").replaceChildren(h(`span.badge.${d.ok ? "ready" : "error"}`, d.ok ? t("tool_ok") : t("tool_failed")),
              h("span.muted", ` ${num(d.latency_ms, 0)} ms`), jsonBlock(d.result, 400));
          } else if (event === "answer") bubble.textContent = d.text;
          else if (event === "citations") msg.append(h("div.sources", h("strong", t("citations")), citationList(d.citations)));
          else if (event === "stop") {
            if (!bubble.textContent || bubble.textContent === t("thinking")) bubble.textContent = d.error || t(`stop_${d.reason}`);
            foot.textContent = `${t(`stop_${d.reason}`)} · ${t("steps_n", d.steps)} · ${t("n_tokens", (d.input_tokens || 0) + (d.output_tokens || 0))} · ${t("cost")} ${num(d.cost, 4)}`;
            if (d.error) msg.append(h("p.warning", d.error));
            msg.dataset.stop = d.reason;
          }
        });
        input.value = "";
      } finally {
        msg.removeAttribute("aria-busy");
        msg.scrollIntoView({ block: "end" });
      }
    }, err);
  });
  return h("div.chat", log, err, form);
}
