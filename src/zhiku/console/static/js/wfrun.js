// The run/debug panel of the workflow editor: the start node's inputs, a streamed run of the
// draft (or of a published version) with each node's status, outputs, timing and errors as the
// events arrive (their inputs once the run is recorded), the answer as it streams, citations,
// and the past runs with replay.
import { api, stream } from "./api.js";
import { t } from "./i18n.js";
import { act, errorBox, fmtTime, h, num, table, toast } from "./ui.js";
import { citationList, jsonBlock } from "./appkit.js";

const ANSWERING = new Set(["answer", "answer_grounded"]);

function inputField(spec, old) {
  const id = `run-in-${spec.name}`;
  let el;
  if (spec.type === "boolean") el = h("input", { type: "checkbox", id, checked: old === true });
  else if (spec.type === "number" || spec.type === "integer") el = h("input", { type: "number", id, step: spec.type === "integer" ? 1 : "any", value: old ?? "" });
  else if (spec.type === "string") el = h("textarea", { id, rows: 2, value: old ?? "" });
  else el = h("textarea", { id, rows: 2, spellcheck: false, value: old === undefined ? "" : JSON.stringify(old), placeholder: "JSON" });
  el.dataset.name = spec.name;
  el.dataset.type = spec.type || "string";
  return h("div.field", h("label", { htmlFor: id }, `${spec.name}${spec.required === false ? "" : " *"}`), el,
    spec.description ? h("small.muted", spec.description) : null);
}

function readInput(el) {
  const type = el.dataset.type;
  if (type === "boolean") return el.checked;
  if (el.value === "") return undefined;
  if (type === "number" || type === "integer") return Number(el.value);
  if (type === "string") return el.value;
  try { return JSON.parse(el.value); } catch { return el.value; }
}

export function runPanel({ path, getDefinition, canvas, ensureSaved }) {
  const inputs = h("div.run-inputs");
  const err = errorBox();
  const runBtn = h("button.primary", { type: "submit" }, t("run_draft"));
  const stopBtn = h("button.ghost", { type: "button", disabled: true }, t("stop"));
  const status = h("p.run-status", { "aria-live": "polite" });
  const answer = h("div.answer-box", { "aria-live": "polite", hidden: true });
  const cites = h("div.run-cites");
  const outputs = h("div.run-outputs");
  const nodes = h("ol.run-nodes", { "aria-label": t("node_events") });
  const runs = h("div.run-list");
  let controller = null, answerFrom = null;

  function refreshInputs() {
    const old = {};
    for (const el of inputs.querySelectorAll("[data-name]")) old[el.dataset.name] = readInput(el);
    const start = getDefinition().nodes.find((n) => n.type === "start");
    const specs = (start && start.inputs) || [];
    inputs.replaceChildren(...(specs.length ? specs.filter((s) => s.name).map((s) => inputField(s, old[s.name] ?? s.default ?? undefined))
      : [h("p.muted", t("no_inputs"))]));
  }

  function reset() {
    answerFrom = null;
    nodes.replaceChildren();
    answer.textContent = "";
    answer.hidden = true;
    cites.replaceChildren();
    outputs.replaceChildren();
    canvas.setStatus(null, null);
  }

  function entry(nodeId, type) {
    let li = nodes.querySelector(`li[data-node="${CSS.escape(nodeId)}"]`);
    if (!li) {
      li = h("li.run-node", { "data-node": nodeId, "data-type": type || "" },
        h("div.row", h("strong", nodeId), h("span.muted", type ? t(`nt_${type}`) : ""), h("span.badge.state", t("st_running")), h("span.timing.muted", "")),
        h("pre.live", { hidden: true }), h("div.io"));
      nodes.append(li);
    }
    return li;
  }

  function setState(li, state) {
    li.dataset.status = state;
    const b = li.querySelector(".state");
    b.textContent = t(`st_${state}`);
    b.className = `badge state ${state === "succeeded" ? "ready" : state === "failed" ? "error" : ""}`;
  }

  function showIO(li, rec) {
    const io = li.querySelector(".io");
    io.replaceChildren(...[
      rec.inputs && Object.keys(rec.inputs).length ? h("details", h("summary", t("node_inputs")), jsonBlock(rec.inputs)) : null,
      rec.outputs && Object.keys(rec.outputs).length ? h("details", { open: true }, h("summary", t("node_outputs")), jsonBlock(rec.outputs)) : null,
      rec.error ? h("p.error", rec.error) : null].filter(Boolean));
    const tokens = (rec.input_tokens || 0) + (rec.output_tokens || 0);
    li.querySelector(".timing").textContent = `${num(rec.latency_ms, 1)} ms${tokens ? ` · ${t("n_tokens", tokens)}` : ""}${rec.attempts > 1 ? ` · ${t("attempts_n", rec.attempts)}` : ""}`;
  }

  function onEvent(event, d) {
    const id = d.node_id;
    if (event === "run_started") status.textContent = t("run_running", d.run_id);
    else if (event === "node_started") { entry(id, d.node_type); canvas.setStatus(id, "running"); }
    else if (event === "node_finished") {
      const li = entry(id, d.node_type);
      setState(li, "succeeded");
      showIO(li, d);
      canvas.setStatus(id, "succeeded");
    } else if (event === "node_failed") {
      const li = entry(id, d.node_type);
      setState(li, "failed");
      li.querySelector(".io").append(h("p.error", d.error));
      canvas.setStatus(id, "failed");
    } else if (event === "node_skipped") {
      setState(entry(id, d.node_type), "skipped");
      canvas.setStatus(id, "skipped");
    } else if (event === "node_retry") {
      entry(id).querySelector(".io").append(h("p.warning", t("retrying", d.attempt) + `: ${d.error}`));
    } else if (event === "token") {
      const li = entry(id);
      if (ANSWERING.has(li.dataset.type)) {
        // the answer box shows the latest answering node's text (an answer node may repeat
        // what a grounded answer before it streamed)
        if (answerFrom !== id) { answerFrom = id; answer.textContent = ""; }
        answer.hidden = false;
        answer.textContent += d.text;
      }
      const live = li.querySelector(".live");
      live.hidden = false;
      live.textContent += d.text;
    } else if (event === "citations") {
      cites.replaceChildren(h("h3", t("citations")), citationList(d.citations || []));
    } else if (event === "run_finished") finished(d);
  }

  function finished(d) {
    const ok = d.status === "succeeded";
    status.replaceChildren(h(`span.badge.${ok ? "ready" : "error"}`, t(`st_${d.status}`) || d.status),
      ` ${num(d.latency_ms, 1)} ms · ${t("n_tokens", (d.input_tokens || 0) + (d.output_tokens || 0))} · ${t("cost")} ${num(d.cost, 4)}`,
      d.run_id ? h("span.muted", ` · #${d.run_id}`) : "");
    if (d.error) outputs.append(h("p.error", d.error));
    if (d.outputs && Object.keys(d.outputs).length) outputs.append(h("h3", t("run_outputs")), jsonBlock(d.outputs, 2000));
    if (!answer.textContent && d.outputs && typeof d.outputs.answer === "string") { answer.hidden = false; answer.textContent = d.outputs.answer; }
  }

  // a recorded run: every node's inputs, outputs, timing and error
  async function showRun(id, replace) {
    const r = await api("GET", `/v1/workflow-runs/${id}`);
    if (replace) {
      reset();
      for (const rec of r.nodes) {
        if (rec.type === "answer" && rec.outputs && rec.outputs.answer) { answer.hidden = false; answer.textContent = rec.outputs.answer; }
        if (rec.outputs && Array.isArray(rec.outputs.citations) && rec.outputs.citations.length) cites.replaceChildren(h("h3", t("citations")), citationList(rec.outputs.citations));
      }
    }
    for (const rec of r.nodes) {
      const li = entry(rec.node_id, rec.type);
      setState(li, rec.status);
      showIO(li, rec);
      canvas.setStatus(rec.node_id, rec.status);
    }
    if (replace) finished({ ...r, run_id: r.id });
  }

  async function start(body) {
    reset();
    controller = new AbortController();
    stopBtn.disabled = false;
    status.textContent = t("run_starting");
    let runId = null;
    try {
      await stream("POST", `${path}/run`, { ...body, stream: true }, (event, d) => {
        if (d && d.run_id) runId = d.run_id;
        onEvent(event, d);
      }, controller.signal);
    } catch (e) {
      if (e.name === "AbortError") {
        status.textContent = t("run_stopped");
        setTimeout(() => drawRuns().catch(() => {}), 800); // the server records it as cancelled
        return;
      }
      throw e;
    } finally {
      stopBtn.disabled = true;
      controller = null;
    }
    if (runId) { await showRun(runId, false); await drawRuns(); }
  }

  function values() {
    const out = {};
    for (const el of inputs.querySelectorAll("[data-name]")) {
      const v = readInput(el);
      if (v !== undefined) out[el.dataset.name] = v;
    }
    return out;
  }

  const form = h("form.run-form", inputs, h("div.row", runBtn, stopBtn));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    // the run uses the stored draft: unsaved edits are saved (and checked) first
    act(runBtn, async () => { if (await ensureSaved()) await start({ inputs: values(), draft: true }); }, err);
  });
  stopBtn.addEventListener("click", () => controller && controller.abort());

  async function drawRuns() {
    const rows = await api("GET", `${path}/runs?limit=20`);
    runs.replaceChildren(h("h3", t("past_runs")), rows.length ? table(["#", t("version"), t("status"), t("when"), t("latency"), t("actions")],
      rows.map((r) => h("tr", { "data-run": r.id }, h("td", String(r.id)), h("td", r.version ? `v${r.version}` : t("draft")),
        h("td", h(`span.badge.${r.status === "succeeded" ? "ready" : r.status === "running" ? "parsed" : "error"}`, t(`st_${r.status}`))),
        h("td", fmtTime(r.started_at)), h("td.n", `${num(r.latency_ms, 1)} ms`),
        h("td.actions",
          h("button.ghost.small", { type: "button", onclick: (e) => act(e.currentTarget, () => showRun(r.id, true), err) }, t("view")),
          h("button.ghost.small", { type: "button", onclick: (e) => act(e.currentTarget, async () => {
            const made = await api("POST", `/v1/workflow-runs/${r.id}/replay`);
            toast(t("replayed", made.id));
            await showRun(made.id, true);
            await drawRuns();
          }, err) }, t("replay"))))), t("past_runs")) : h("p.muted", t("no_runs")));
  }

  const el = h("section.card.run-panel", { "aria-labelledby": "run-h" },
    h("h2", { id: "run-h" }, t("run_debug")), h("div.split", h("div", form, err, status, answer, cites, outputs), h("div", nodes)), runs);
  refreshInputs();
  return {
    el, drawRuns, refreshInputs,
    runVersion: (version) => act(runBtn, () => start({ inputs: values(), version }), err),
  };
}
