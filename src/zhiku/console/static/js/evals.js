// Evaluation: runs (live status, key metric), comparing two runs, starting a run against a
// knowledge base or an assistant, and eval sets (list, create from JSON Lines).
import { api, can } from "./api.js";
import { label, t } from "./i18n.js";
import { act, errorBox, field, fmtTime, h, metricName, showError, table, toast } from "./ui.js";
import { metricValue, poll, statusBadge, targetLabel } from "./evalparts.js";
import { tableUploadForm } from "./evalupload.js";

export async function evalsPage(view) {
  const err = errorBox();
  const runsBox = h("section.card", { "aria-labelledby": "runs-h" }, h("h2", { id: "runs-h" }, t("runs")));
  const startBox = h("section.card", { "aria-labelledby": "start-h" }, h("h2", { id: "start-h" }, t("start_run")));
  const setsBox = h("section.card", { "aria-labelledby": "sets-h" }, h("h2", { id: "sets-h" }, t("eval_sets")));
  view.replaceChildren(...[h("h1", t("evals_title")), err, runsBox, can("write") ? startBox : null, setsBox].filter(Boolean));
  let sets = [], kbs = [], assistants = [];
  try {
    [sets, kbs, assistants] = await Promise.all([api("GET", "/v1/evals/sets"), api("GET", "/v1/kbs"), api("GET", "/v1/assistants")]);
  } catch (e) { showError(e, err); return; }
  const runs = h("div");
  const refresh = async () => {
    const list = await api("GET", "/v1/evals/runs");
    runs.replaceChildren(...[runTable(list), compareForm(list)].filter(Boolean));
    return list.some((r) => r.status === "running");
  };
  runsBox.append(runs);
  startBox.append(startForm(sets, kbs, assistants, err, async () => { if (await refresh()) poll(runs, refresh); }));
  setsBox.append(setList(sets), can("write") ? newSetForm(err, () => evalsPage(view)) : "",
    can("write") ? tableUploadForm(() => evalsPage(view)) : "");
  try {
    if (await refresh()) poll(runs, refresh);
  } catch (e) { showError(e, err); }
}

function runTable(list) {
  if (!list.length) return h("p.muted", t("no_runs"));
  return table([t("run"), t("eval_set"), t("target"), t("status"), t("key_metric"), t("questions"), t("latency_p50"), t("created")],
    list.map((r) => {
      const m = (r.summary.metrics || {})[r.key_metric];
      const p50 = r.summary.latency_ms ? r.summary.latency_ms.p50 : null;
      return h("tr", { "data-run": r.id },
        h("td", h("a", { href: `#/evals/runs/${r.id}` }, `#${r.id}`)), h("td", r.set), h("td", targetLabel(r.target)),
        h("td", statusBadge(r.status), r.error ? h("small.muted", ` ${r.error}`) : null),
        h("td.n", r.key_metric ? `${metricName(r.key_metric)} ${metricValue(m)}` : "—"),
        h("td.n", r.summary.questions ?? "—"), h("td.n", p50 === null || p50 === undefined ? "—" : Math.round(p50)),
        h("td", fmtTime(r.created_at)));
    }), t("runs"));
}

function compareForm(list) {
  const done = list.filter((r) => r.status === "done");
  if (done.length < 2) return null;
  const opts = (sel) => done.map((r) => h("option", { value: r.id, selected: r.id === sel }, `#${r.id} · ${r.set} · ${targetLabel(r.target)}`));
  const a = h("select", { id: "cmp-a" }, opts(done[1].id));
  const b = h("select", { id: "cmp-b" }, opts(done[0].id));
  const form = h("form.row.compare", h("h3.sr", t("compare_runs")), field(t("run_a"), a), field(t("run_b"), b),
    h("div.field.end", h("button", { type: "submit" }, t("compare"))));
  form.addEventListener("submit", (e) => { e.preventDefault(); location.hash = `#/evals/compare/${a.value}/${b.value}`; });
  return form;
}

function startForm(sets, kbs, assistants, err, started) {
  if (!sets.length) return h("p.muted", t("none_yet"));
  const set = h("select", { id: "run-set" }, sets.map((s) => h("option", { value: s.name }, `${s.name} (${s.size})`)));
  const target = h("select", { id: "run-target" },
    h("option", { value: "" }, `— ${t("pick_target")} —`),
    kbs.length ? h("optgroup", { label: t("kbs_title") }, kbs.map((k) => h("option", { value: `kb:${k.name}` }, k.name))) : null,
    assistants.length ? h("optgroup", { label: t("assistants_title") }, assistants.map((a) => h("option", { value: `app:${a.slug}` }, a.name || a.slug))) : null);
  const mode = h("select", { id: "run-mode" }, ["hybrid", "keyword", "vector"].map((m) => h("option", { value: m }, label("mode", m))));
  const topK = h("input", { type: "number", id: "run-topk", min: 1, max: 100, value: 10 });
  const answers = h("input", { type: "checkbox", checked: true });
  const btn = h("button.primary", { type: "submit" }, t("start_run"));
  const formErr = errorBox();
  target.addEventListener("change", () => { mode.disabled = target.value.startsWith("app:"); });
  const form = h("form",
    h("div.grid", field(t("eval_set"), set), field(t("target"), target), field(t("mode"), mode), field(t("top_k"), topK)),
    h("label.check", answers, " ", t("with_answer")), formErr, h("div.row", btn));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(btn, async () => {
      if (!target.value) throw new Error(t("pick_target"));
      const [kind, name] = target.value.split(/:(.*)/s);
      const body = { eval_set: set.value, top_k: Number(topK.value) || 10, with_answer: answers.checked };
      if (kind === "kb") { body.kb = name; body.mode = mode.value; } else body.assistant = name;
      const run = await api("POST", "/v1/evals/runs", body);
      toast(`${t("run_started")}: #${run.id}`);
      await started();
    }, formErr);
  });
  return form;
}

function setList(sets) {
  return sets.length ? table([t("name"), t("questions"), t("description"), t("created")],
    sets.map((s) => h("tr", { "data-set": s.name }, h("td", s.name), h("td.n", s.size), h("td", s.description || ""),
      h("td", fmtTime(s.created_at)))), t("eval_sets")) : h("p.muted", t("none_yet"));
}

function newSetForm(err, created) {
  const name = h("input", { type: "text", id: "set-name", required: true, maxLength: 128 });
  const desc = h("input", { type: "text", id: "set-desc", maxLength: 2000 });
  const lines = h("textarea", { id: "set-jsonl", rows: 6, required: true, spellcheck: false, placeholder: t("set_jsonl_hint") });
  const file = h("input", { type: "file", accept: ".jsonl,.ndjson,.json,application/json", id: "set-file" });
  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (!f) return;
    lines.value = await f.text();
    if (!name.value) name.value = f.name.replace(/\.[^.]+$/, "");
  });
  const btn = h("button.primary", { type: "submit" }, t("create"));
  const formErr = errorBox();
  const form = h("form.new-set", h("h3", t("new_set")),
    h("div.grid", field(t("name"), name), field(t("description"), desc)),
    field(t("set_jsonl"), lines, t("set_jsonl_hint")), field(t("load_file"), file), formErr, h("div.row", btn));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    act(btn, async () => {
      const questions = [];
      lines.value.split("\n").forEach((line, i) => {
        if (!line.trim()) return;
        try { questions.push(JSON.parse(line)); } catch { throw new Error(`${t("set_jsonl")}: ${t("line_n", i + 1)}`); }
      });
      await api("POST", "/v1/evals/sets", { name: name.value.trim(), description: desc.value, questions });
      toast(t("set_created"));
      await created();
    }, formErr);
  });
  return form;
}
