// Workflow node types as the editor knows them: the settings form of each type (generated from
// these field lists), a new node's defaults, its outputs (for the variable picker) and the
// handles edges leave it by. Mirrors src/zhiku/workflows/schema.py.
const TYPES = ["string", "number", "integer", "boolean", "object", "list", "any"];

// [field, kind, options]; kinds: text, tpl (template), expr (expression), int, num, bool,
// select, kbs, model, tool, rows (a list of objects: cols), map (string → string), json.
const COMMON_TAIL = [["timeout_s", "num", { min: 0, optional: true }]];
export const NODE_FIELDS = {
  start: [["inputs", "rows", { cols: [["name", "text"], ["type", "select", { options: TYPES }], ["required", "bool"], ["description", "text"]] }]],
  knowledge: [["knowledge_bases", "kbs"], ["query", "tpl"],
    ["mode", "select", { options: ["hybrid", "keyword", "vector", "local", "global", "mix"] }],
    ["top_k", "int", { min: 1, max: 200 }], ["min_relevance", "num", { min: 0, max: 1, step: 0.05 }]],
  llm: [["model", "model"], ["system", "tpl", { optional: true }], ["prompt", "tpl"],
    ["temperature", "num", { min: 0, max: 2, step: 0.1 }], ["max_tokens", "int", { min: 1, max: 32768 }],
    ["json_output", "bool"], ["json_schema", "json", { optional: true }], ["stream", "bool"]],
  answer_grounded: [["knowledge_bases", "kbs"], ["question", "tpl"], ["model", "model", { optional: true }],
    ["top_k", "int", { min: 1, max: 200 }], ["min_relevance", "num", { min: 0, max: 1, step: 0.05 }],
    ["system_prompt", "tpl", { optional: true }], ["refusal_message", "text", { optional: true }]],
  condition: [["cases", "rows", { cols: [["id", "text"], ["when", "expr"]] }]],
  classifier: [["model", "model"], ["input", "tpl"], ["classes", "rows", { cols: [["id", "text"], ["when", "text"]] }],
    ["instructions", "tpl", { optional: true }]],
  extractor: [["model", "model"], ["input", "tpl"],
    ["fields", "rows", { cols: [["name", "text"], ["type", "select", { options: TYPES }], ["description", "text"], ["required", "bool"]] }],
    ["instructions", "tpl", { optional: true }]],
  template: [["template", "tpl"]],
  assign: [["assignments", "rows", { cols: [["variable", "text"], ["value", "expr"]] }]],
  iteration: [["items", "expr"], ["max_items", "int", { min: 1, max: 10000 }], ["parallel", "bool"],
    ["max_parallel", "int", { min: 1, max: 32 }], ["body", "json"]],
  http: [["method", "select", { options: ["GET", "POST", "PUT", "PATCH", "DELETE"] }], ["url", "tpl"],
    ["headers", "map", { value: "tpl" }], ["body", "tpl", { optional: true }],
    ["request_timeout_s", "num", { min: 0.1, max: 300 }], ["max_bytes", "int", { min: 1 }]],
  tool: [["tool", "tool"], ["args", "map", { value: "expr" }]],
  end: [["outputs", "map", { value: "expr" }]],
  answer: [["text", "tpl"], ["citations", "expr", { optional: true }]],
};
for (const type of Object.keys(NODE_FIELDS)) NODE_FIELDS[type] = [["title", "text", { optional: true }], ...NODE_FIELDS[type], ...COMMON_TAIL];

export const NODE_TYPES = Object.keys(NODE_FIELDS);

// What a new node of each type starts with (enough to be valid once wired).
export function newNode(type, id) {
  const base = { id, type };
  const extra = {
    start: { inputs: [{ name: "question", type: "string" }] },
    knowledge: { knowledge_bases: [], query: "{{ start.question }}" },
    llm: { model: "", prompt: "{{ start.question }}" },
    answer_grounded: { knowledge_bases: [], question: "{{ start.question }}" },
    condition: { cases: [{ id: "yes", when: "true" }] },
    classifier: { model: "", input: "{{ start.question }}", classes: [{ id: "a", when: "" }, { id: "b", when: "" }] },
    extractor: { model: "", input: "{{ start.question }}", fields: [{ name: "value", type: "string" }] },
    template: { template: "" },
    assign: { assignments: [{ variable: "x", value: "1" }] },
    iteration: { items: "[]", body: { nodes: [{ id: "each", type: "template", template: "{{ item }}" }] } },
    http: { method: "GET", url: "https://" },
    tool: { tool: "calculator", args: { expression: "'1 + 1'" } },
    end: { outputs: {} },
    answer: { text: "" },
  }[type];
  return { ...base, ...structuredClone(extra) };
}

// The outputs a node makes, for the variable picker (schema.py output_types).
export function outputsOf(node) {
  switch (node.type) {
    case "start": return (node.inputs || []).map((i) => i.name).filter(Boolean);
    case "knowledge": return ["hits", "text", "count"];
    case "llm": return node.json_output || node.json_schema ? ["text", "reasoning", "json"] : ["text", "reasoning"];
    case "answer_grounded": return ["answer", "citations", "refused", "grounded"];
    case "condition": return ["branch"];
    case "classifier": return ["category"];
    case "extractor": return (node.fields || []).map((f) => f.name).filter(Boolean);
    case "template": return ["text"];
    case "assign": return ["values"];
    case "iteration": return ["results", "count"];
    case "http": return ["status", "body", "json", "headers"];
    case "tool": return ["result"];
    case "end": return Object.keys(node.outputs || {});
    case "answer": return ["answer", "citations"];
    default: return [];
  }
}

// The handles edges may leave a node by (schema.py handles).
export function handlesOf(node) {
  if (node.type === "condition") return [...(node.cases || []).map((c) => c.id), "else", "error"];
  if (node.type === "classifier") return [...(node.classes || []).map((c) => c.id), "error"];
  return ["out", "error"];
}

// Nodes before `id` along the edges (the ones whose outputs it may read).
export function upstream(def, id) {
  const into = new Map();
  for (const e of def.edges || []) {
    if (!into.has(e.target)) into.set(e.target, []);
    into.get(e.target).push(e.source);
  }
  const seen = new Set(), todo = [id];
  while (todo.length) {
    for (const s of into.get(todo.pop()) || []) if (!seen.has(s)) { seen.add(s); todo.push(s); }
  }
  seen.delete(id);
  return def.nodes.filter((n) => seen.has(n.id));
}

// Column of each node: its longest path from a root (a node nothing leads into).
export function levels(def) {
  const level = new Map(def.nodes.map((n) => [n.id, 0]));
  const ids = new Set(level.keys());
  const edges = (def.edges || []).filter((e) => ids.has(e.source) && ids.has(e.target) && e.source !== e.target);
  for (let round = 0; round < def.nodes.length; round++) {
    let changed = false;
    for (const e of edges) {
      if (level.get(e.target) < level.get(e.source) + 1) { level.set(e.target, level.get(e.source) + 1); changed = true; }
    }
    if (!changed) break; // a cycle stops after n rounds; validation names it
  }
  return level;
}

export function uniqueId(def, type) {
  const taken = new Set(def.nodes.map((n) => n.id));
  const base = type === "answer_grounded" ? "grounded" : type;
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}_${i}`)) return `${base}_${i}`;
}
