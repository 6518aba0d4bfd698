// The settings form of one workflow node, generated from its type's field list (wfnodes.js):
// every change is written into the node at once; templates and expressions get a picker of the
// variables the node may read (outputs of the nodes before it, and workflow variables).
import { t } from "./i18n.js";
import { h } from "./ui.js";
import { NODE_FIELDS, outputsOf, upstream } from "./wfnodes.js";

let seq = 0;
const fid = () => `wf-f${++seq}`;

// The picker for a template (inserts {{ node.output }}) or an expression (node.output).
function picker(def, node, target, kind) {
  const sel = h("select.var-pick", { "aria-label": t("insert_var") }, h("option", { value: "" }, t("insert_var")));
  for (const up of upstream(def, node.id)) {
    const outs = outputsOf(up);
    if (outs.length) sel.append(h("optgroup", { label: up.title || up.id }, outs.map((o) => h("option", { value: `${up.id}.${o}` }, `${up.id}.${o}`))));
  }
  const vars = Object.keys(def.variables || {});
  if (vars.length) sel.append(h("optgroup", { label: "vars" }, vars.map((v) => h("option", { value: `vars.${v}` }, `vars.${v}`))));
  if (sel.options.length === 1) { sel.disabled = true; sel.options[0].textContent = t("no_vars"); }
  sel.addEventListener("change", () => {
    if (!sel.value) return;
    const text = kind === "tpl" ? `{{ ${sel.value} }}` : sel.value;
    const at = target.selectionStart ?? target.value.length, end = target.selectionEnd ?? at;
    target.value = target.value.slice(0, at) + text + target.value.slice(end);
    target.dispatchEvent(new Event("input", { bubbles: true }));
    target.focus();
    target.setSelectionRange(at + text.length, at + text.length);
    sel.value = "";
  });
  return sel;
}

function scalarInput(kind, value, opts, onValue, ctx) {
  const o = opts || {};
  let el;
  if (kind === "bool") {
    el = h("input", { type: "checkbox", checked: !!value });
    el.addEventListener("change", () => onValue(el.checked));
    return el;
  }
  if (kind === "select") {
    el = h("select", o.options.map((v) => h("option", { value: v, selected: value === v }, v)));
    el.addEventListener("change", () => onValue(el.value));
    return el;
  }
  if (kind === "int" || kind === "num") {
    el = h("input", { type: "number", value: value ?? "", min: o.min, max: o.max, step: o.step || (kind === "int" ? 1 : "any") });
    el.addEventListener("input", () => onValue(el.value === "" ? undefined : Number(el.value)));
    return el;
  }
  if (kind === "tpl") el = h("textarea", { rows: 3, value: value ?? "", spellcheck: false });
  else el = h("input", { type: "text", value: value ?? "", spellcheck: false, list: kind === "tool" ? "wf-tools" : null,
    placeholder: kind === "model" ? "provider/model" : kind === "expr" ? t("expr_hint") : null });
  el.addEventListener("input", () => onValue(el.value === "" && o.optional ? undefined : el.value));
  if (ctx && (kind === "tpl" || kind === "expr")) ctx.pickers.push([el, kind]);
  return el;
}

// A list of objects as a small table: one row per item, add and remove.
function rowsEditor(label, items, cols, onChange, ctx) {
  const body = h("tbody");
  const draw = () => {
    body.replaceChildren(...items.map((item, i) => h("tr", cols.map(([c, kind, o]) => {
      const input = scalarInput(kind, item[c], o, (v) => { if (v === undefined) delete item[c]; else item[c] = v; onChange(); }, ctx);
      input.setAttribute("aria-label", `${label} ${i + 1}: ${c}`);
      return h("td", input);
    }), h("td", h("button.ghost.small", { type: "button", "aria-label": `${t("remove")} ${i + 1}`,
      onclick: () => { items.splice(i, 1); draw(); onChange(); } }, "×")))));
    ctx.flush();
  };
  draw();
  const add = h("button.ghost.small", { type: "button", onclick: () => {
    const item = {};
    for (const [c, kind] of cols) if (kind === "text" || kind === "expr") item[c] = "";
    items.push(item); draw(); onChange();
  } }, `+ ${t("add_row")}`);
  return h("div.rows", h("div.scroll", h("table.mini", h("thead", h("tr", cols.map(([c]) => h("th", c)), h("th", ""))), body)), add);
}

// A string → string mapping as key/value rows.
function mapEditor(label, obj, valueKind, onChange, ctx) {
  const pairs = Object.entries(obj || {}).map(([k, v]) => ({ k, v }));
  const body = h("tbody");
  const emit = () => onChange(Object.fromEntries(pairs.filter((p) => p.k).map((p) => [p.k, p.v])));
  const draw = () => {
    body.replaceChildren(...pairs.map((p, i) => {
      const key = h("input", { type: "text", value: p.k, "aria-label": `${label} ${i + 1}: ${t("key")}` });
      key.addEventListener("input", () => { p.k = key.value; emit(); });
      const val = scalarInput(valueKind === "tpl" ? "text" : valueKind, p.v, null, (v) => { p.v = v ?? ""; emit(); }, null);
      val.setAttribute("aria-label", `${label} ${i + 1}: ${t("value")}`);
      ctx.pickers.push([val, valueKind === "tpl" ? "tpl" : "expr"]);
      return h("tr", h("td", key), h("td", val), h("td", h("button.ghost.small", { type: "button", "aria-label": `${t("remove")} ${i + 1}`,
        onclick: () => { pairs.splice(i, 1); draw(); emit(); } }, "×")));
    }));
    ctx.flush();
  };
  draw();
  return h("div.rows", h("div.scroll", h("table.mini", h("thead", h("tr", h("th", t("key")), h("th", t("value")), h("th", ""))), body)),
    h("button.ghost.small", { type: "button", onclick: () => { pairs.push({ k: "", v: "" }); draw(); } }, `+ ${t("add_row")}`));
}

// The form for `node` of definition `def`; `env` = {kbs, problems, onChange, onRename}.
export function nodeForm(def, node, env) {
  // templates and expressions get the variable picker beside them, once they are in the form
  const ctx = { pickers: [], flush() {
    for (const [el, kind] of this.pickers.splice(0)) if (el.parentNode) el.after(picker(def, node, el, kind));
  } };
  const mine = env.problems.filter((p) => p.node && (p.node === node.id || p.node.startsWith(`${node.id}.`)));
  const used = new Set();
  const fieldProblems = (name) => mine.filter((p) => {
    const f = p.field || "";
    const hit = f === name || f.startsWith(`${name}.`);
    if (hit) used.add(p);
    return hit;
  });
  const rowsOut = [];
  const idIn = h("input", { type: "text", id: fid(), value: node.id, pattern: "[a-z_][a-z0-9_]{0,63}", required: true, spellcheck: false });
  idIn.addEventListener("change", () => {
    const v = idIn.value.trim();
    if (/^[a-z_][a-z0-9_]{0,63}$/.test(v) && v !== node.id && !def.nodes.some((n) => n.id === v)) env.onRename(node, v);
    else idIn.value = node.id;
  });
  rowsOut.push(h("div.field", h("label", { htmlFor: idIn.id }, t("node_id")), idIn, h("small.muted", t("node_id_hint")), problemText(fieldProblems("id"))));
  for (const [name, kind, opts] of NODE_FIELDS[node.type]) {
    const set = (v) => { if (v === undefined) delete node[name]; else node[name] = v; env.onChange(); };
    let input;
    if (kind === "rows") {
      if (!Array.isArray(node[name])) node[name] = [];
      input = rowsEditor(name, node[name], opts.cols, () => env.onChange(), ctx);
    } else if (kind === "map") {
      input = mapEditor(name, node[name], opts.value, (v) => set(v), ctx);
    } else if (kind === "kbs") {
      const chosen = new Set(node[name] || []);
      const boxes = env.kbs.map((k) => {
        const b = h("input", { type: "checkbox", value: k, checked: chosen.has(k) });
        b.addEventListener("change", () => set(boxes.filter((x) => x.checked).map((x) => x.value)));
        return b;
      });
      input = h("fieldset.kbs", h("legend.sr", name), env.kbs.length ? boxes.map((b) => h("label.check", b, " ", b.value))
        : h("p.muted", h("a", { href: "#/kbs" }, t("new_kb"))));
    } else if (kind === "json") {
      const text = h("textarea", { rows: 5, spellcheck: false, value: node[name] === undefined ? "" : JSON.stringify(node[name], null, 2) });
      const bad = h("small.field-error", { hidden: true });
      text.addEventListener("input", () => {
        if (!text.value.trim()) { bad.hidden = true; set(undefined); return; }
        try { const v = JSON.parse(text.value); bad.hidden = true; set(v); } catch { bad.hidden = false; bad.textContent = t("bad_json_text"); }
      });
      input = h("div", text, bad);
      text.id = fid();
      input.dataset.for = text.id;
    } else {
      input = scalarInput(kind, node[name], opts, set, ctx);
    }
    const label = t(`f_${name}`) === `f_${name}` ? name : t(`f_${name}`);
    const focusable = input.matches("input,select,textarea") ? input : input.querySelector("input,select,textarea");
    if (focusable && !focusable.id) focusable.id = fid();
    const probs = fieldProblems(name);
    const wrap = h(`div.field${probs.length ? ".has-error" : ""}`, { "data-field": name },
      h("label", { htmlFor: focusable ? focusable.id : null }, label), input, problemText(probs));
    if (probs.length && focusable) focusable.setAttribute("aria-invalid", "true");
    rowsOut.push(wrap);
  }
  const rest = mine.filter((p) => !used.has(p));
  const form = h("div.node-form", { "data-node": node.id },
    rest.length ? h("ul.problems", rest.map((p) => h("li", `${p.field ? p.field + ": " : ""}${p.message}`))) : null,
    rowsOut);
  ctx.flush();
  return form;
}

function problemText(problems) {
  if (!problems.length) return null;
  return h("small.field-error", { role: "alert" }, problems.map((p) => `${p.field}: ${p.message}`).join("; "));
}
