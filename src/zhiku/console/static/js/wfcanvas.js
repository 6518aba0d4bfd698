// The workflow canvas: nodes and edges in SVG with pan and zoom. Drag a node to move it, drag
// from a node's handle (right side) onto another node to connect them, click an edge to select
// it. Keyboard: Tab reaches each node; Enter selects it, arrows move it, Delete removes it; on
// the canvas itself arrows pan, + and − zoom, 0 fits.
import { t } from "./i18n.js";
import { h } from "./ui.js";
import { handlesOf, levels } from "./wfnodes.js";

const NS = "http://www.w3.org/2000/svg";
export const NODE_W = 184;
const ROW = 18, TOP = 22, COL = 250, GAP = 36;

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function nodeHeight(node) {
  return TOP + 14 + handlesOf(node).length * ROW;
}

export class FlowCanvas {
  constructor({ onSelect, onConnect, onDelete, onMove }) {
    this.def = { nodes: [], edges: [] };
    this.pos = new Map();
    this.problems = new Map();
    this.status = new Map();
    this.selected = null; // node id
    this.edge = null; // selected edge index
    this.scale = 1; this.tx = 20; this.ty = 20;
    Object.assign(this, { onSelect, onConnect, onDelete, onMove });
    this.layer = s("g");
    this.edgeLayer = s("g", { class: "edges" });
    this.nodeLayer = s("g", { class: "nodes" });
    this.ghost = s("path", { class: "ghost", d: "" });
    this.layer.append(this.edgeLayer, this.nodeLayer, this.ghost);
    this.svg = s("svg", { class: "flow", tabindex: "0", role: "application", "aria-label": t("wf_canvas"),
      "aria-roledescription": t("wf_canvas") }, this.layer);
    this.live = h("p.sr", { "aria-live": "polite" });
    this.el = h("div.flow-stage", this.svg, this.live,
      h("div.flow-tools", h("button.ghost", { type: "button", "aria-label": t("zoom_in"), onclick: () => this.zoom(1.2) }, "+"),
        h("button.ghost", { type: "button", "aria-label": t("zoom_out"), onclick: () => this.zoom(1 / 1.2) }, "−"),
        h("button.ghost", { type: "button", onclick: () => this.fit() }, t("fit")),
        h("button.ghost", { type: "button", onclick: () => { this.pos.clear(); this.layout(); this.render(); this.fit(); this.onMove(this.pos); } }, t("relayout"))));
    this.bind();
  }

  setDefinition(def, positions) {
    this.def = def;
    if (positions) this.pos = new Map(Object.entries(positions));
    for (const id of [...this.pos.keys()]) if (!def.nodes.some((n) => n.id === id)) this.pos.delete(id);
    this.layout();
    this.render();
  }

  // Place nodes without a position: column by topological level, stacked in each column.
  layout() {
    const level = levels(this.def);
    const used = new Map();
    for (const n of this.def.nodes) {
      if (this.pos.has(n.id)) continue;
      const col = level.get(n.id) || 0;
      let y = used.get(col) ?? 0;
      for (const [id, p] of this.pos) {
        const other = this.def.nodes.find((m) => m.id === id);
        if (other && Math.abs(p.x - col * COL) < NODE_W && p.y + nodeHeight(other) + GAP > y && p.y < y + nodeHeight(n) + GAP) y = p.y + nodeHeight(other) + GAP;
      }
      this.pos.set(n.id, { x: col * COL, y });
      used.set(col, y + nodeHeight(n) + GAP);
    }
  }

  setProblems(problems) {
    this.problems = new Map();
    for (const p of problems) {
      if (!p.node) continue;
      const id = p.node.split(".")[0];
      if (!this.problems.has(id)) this.problems.set(id, []);
      this.problems.get(id).push(p);
    }
    this.render();
  }

  setStatus(id, status) {
    if (status === null) this.status.clear(); else this.status.set(id, status);
    this.render();
  }

  handlePoint(id, handle) {
    const n = this.def.nodes.find((m) => m.id === id), p = this.pos.get(id);
    const i = Math.max(0, handlesOf(n).indexOf(handle));
    return { x: p.x + NODE_W, y: p.y + TOP + 8 + i * ROW };
  }

  render() {
    const { def } = this;
    this.edgeLayer.replaceChildren(...(def.edges || []).map((e, i) => {
      if (!this.pos.has(e.source) || !this.pos.has(e.target)) return null;
      const a = this.handlePoint(e.source, e.handle), b = this.pos.get(e.target);
      const bx = b.x, by = b.y + TOP;
      const dx = Math.max(40, Math.abs(bx - a.x) / 2);
      const d = `M${a.x},${a.y} C${a.x + dx},${a.y} ${bx - dx},${by} ${bx},${by}`;
      const cls = `edge${this.edge === i ? " selected" : ""}${e.handle === "error" ? " err" : ""}`;
      const g = s("g", { class: cls, "data-edge": String(i), "data-from": e.source, "data-to": e.target, "data-handle": e.handle },
        s("path", { class: "hit", d }), s("path", { class: "line", d }),
        e.handle !== "out" ? s("text", { x: (a.x + bx) / 2, y: (a.y + by) / 2 - 4, "text-anchor": "middle" }, e.handle) : null);
      g.addEventListener("pointerdown", (ev) => { ev.stopPropagation(); this.selectEdge(i); });
      return g;
    }).filter(Boolean));
    this.nodeLayer.replaceChildren(...def.nodes.map((n) => this.nodeEl(n)));
  }

  nodeEl(n) {
    const p = this.pos.get(n.id), hgt = nodeHeight(n), handles = handlesOf(n);
    const problems = this.problems.get(n.id) || [];
    const st = this.status.get(n.id);
    const cls = ["node", `t-${n.type}`, this.selected === n.id ? "selected" : "", problems.length ? "invalid" : "", st ? `st-${st}` : ""].join(" ").trim();
    const label = `${n.title || n.id} · ${t(`nt_${n.type}`)}${problems.length ? ` · ${t("wf_problems_n", problems.length)}` : ""}${st ? ` · ${t(`st_${st}`)}` : ""}`;
    const g = s("g", { class: cls, transform: `translate(${p.x},${p.y})`, tabindex: "0", role: "button",
      "aria-label": label, "aria-pressed": this.selected === n.id ? "true" : "false", "data-node": n.id, "data-type": n.type },
    s("rect", { class: "box", width: NODE_W, height: hgt, rx: 8 }),
    s("rect", { class: "band", width: 6, height: hgt, rx: 3 }),
    s("text", { class: "title", x: 14, y: 18 }, (n.title || n.id).slice(0, 22)),
    s("text", { class: "ntype", x: 14, y: 34 }, t(`nt_${n.type}`)),
    n.type !== "start" ? s("circle", { class: "port", cx: 0, cy: TOP, r: 5 }) : null,
    problems.length ? s("text", { class: "bang", x: NODE_W - 16, y: 18 }, "!") : null,
    problems.length ? s("title", {}, problems.map((x) => `${x.field ? x.field + ": " : ""}${x.message}`).join("\n")) : null,
    handles.map((hd, i) => s("g", { class: `handle${hd === "error" ? " err" : ""}`, "data-handle": hd },
      s("text", { x: NODE_W - 12, y: TOP + 12 + i * ROW, "text-anchor": "end" }, hd === "out" ? "" : hd),
      s("circle", { cx: NODE_W, cy: TOP + 8 + i * ROW, r: 6 }))));
    g.addEventListener("keydown", (e) => this.nodeKey(e, n.id));
    g.addEventListener("focus", () => { this.live.textContent = label; });
    return g;
  }

  nodeKey(e, id) {
    const step = e.shiftKey ? 60 : 20;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); this.select(id); }
    else if (e.key === "Delete" || e.key === "Backspace") { e.preventDefault(); this.onDelete({ node: id }); }
    else if (moves[e.key]) {
      e.preventDefault();
      const p = this.pos.get(id);
      this.pos.set(id, { x: p.x + moves[e.key][0], y: p.y + moves[e.key][1] });
      this.render();
      this.focusNode(id);
      this.onMove(this.pos);
    } else return;
    e.stopPropagation();
  }

  focusNode(id) {
    const el = this.nodeLayer.querySelector(`[data-node="${CSS.escape(id)}"]`);
    if (el) el.focus();
  }

  select(id) {
    this.selected = id;
    this.edge = null;
    this.render();
    if (id) this.focusNode(id);
    this.onSelect({ node: id });
  }

  selectEdge(i) {
    this.edge = i;
    this.selected = null;
    this.render();
    const e = this.def.edges[i];
    this.live.textContent = t("edge_selected", `${e.source} → ${e.target}`);
    this.onSelect({ edge: i });
  }

  apply() {
    this.layer.setAttribute("transform", `translate(${this.tx},${this.ty}) scale(${this.scale})`);
  }

  zoom(f, cx, cy) {
    const r = this.svg.getBoundingClientRect();
    const x = cx ?? r.width / 2, y = cy ?? r.height / 2;
    const next = Math.min(3, Math.max(0.25, this.scale * f));
    this.tx = x - ((x - this.tx) * next) / this.scale;
    this.ty = y - ((y - this.ty) * next) / this.scale;
    this.scale = next;
    this.apply();
  }

  // Pan so that node `id` is in view (a node just added may be placed off-screen).
  reveal(id) {
    const n = this.def.nodes.find((m) => m.id === id), p = this.pos.get(id), r = this.svg.getBoundingClientRect();
    if (!n || !p || !r.width) return;
    const w = (NODE_W + 12) * this.scale, hh = nodeHeight(n) * this.scale;
    const left = () => p.x * this.scale + this.tx, top = () => p.y * this.scale + this.ty;
    if (left() + w > r.width - 10) this.tx -= left() + w - r.width + 30;
    if (left() < 10) this.tx += 10 - left();
    if (top() + hh > r.height - 10) this.ty -= top() + hh - r.height + 30;
    if (top() < 10) this.ty += 10 - top();
    this.apply();
  }

  fit() {
    const r = this.svg.getBoundingClientRect();
    if (!this.def.nodes.length || !r.width) { this.apply(); return; }
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const n of this.def.nodes) {
      const p = this.pos.get(n.id);
      x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y);
      x1 = Math.max(x1, p.x + NODE_W + 10); y1 = Math.max(y1, p.y + nodeHeight(n));
    }
    this.scale = Math.min(1.2, Math.max(0.25, Math.min((r.width - 40) / (x1 - x0), (r.height - 40) / (y1 - y0))));
    this.tx = (r.width - (x1 - x0) * this.scale) / 2 - x0 * this.scale;
    this.ty = (r.height - (y1 - y0) * this.scale) / 2 - y0 * this.scale;
    this.apply();
  }

  local(ev) {
    const r = this.svg.getBoundingClientRect();
    return { x: (ev.clientX - r.left - this.tx) / this.scale, y: (ev.clientY - r.top - this.ty) / this.scale };
  }

  bind() {
    let drag = null;
    this.svg.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0) return;
      const handle = ev.target.closest(".handle");
      const node = ev.target.closest("[data-node]");
      if (handle && node) {
        drag = { kind: "connect", from: node.dataset.node, handle: handle.dataset.handle };
      } else if (node) {
        const p = this.pos.get(node.dataset.node), at = this.local(ev);
        drag = { kind: "move", id: node.dataset.node, dx: at.x - p.x, dy: at.y - p.y, moved: false };
      } else {
        drag = { kind: "pan", x: ev.clientX, y: ev.clientY, tx: this.tx, ty: this.ty };
        if (this.selected !== null || this.edge !== null) { this.selected = null; this.edge = null; this.render(); this.onSelect({}); }
      }
      this.svg.setPointerCapture(ev.pointerId);
      ev.preventDefault();
    });
    this.svg.addEventListener("pointermove", (ev) => {
      if (!drag) return;
      if (drag.kind === "pan") {
        this.tx = drag.tx + ev.clientX - drag.x;
        this.ty = drag.ty + ev.clientY - drag.y;
        this.apply();
      } else if (drag.kind === "move") {
        const at = this.local(ev);
        const x = Math.round(at.x - drag.dx), y = Math.round(at.y - drag.dy), p = this.pos.get(drag.id);
        if (Math.abs(x - p.x) + Math.abs(y - p.y) > 2) drag.moved = true;
        if (drag.moved) { this.pos.set(drag.id, { x, y }); this.render(); }
      } else {
        const a = this.handlePoint(drag.from, drag.handle), b = this.local(ev);
        this.ghost.setAttribute("d", `M${a.x},${a.y} L${b.x},${b.y}`);
      }
    });
    const end = (ev) => {
      if (!drag) return;
      const d = drag;
      drag = null;
      if (d.kind === "move") {
        if (d.moved) this.onMove(this.pos); else this.select(d.id);
      } else if (d.kind === "connect") {
        this.ghost.setAttribute("d", "");
        const hit = document.elementFromPoint(ev.clientX, ev.clientY);
        const target = hit && hit.closest && hit.closest("[data-node]");
        if (target && target.dataset.node !== d.from) this.onConnect(d.from, d.handle, target.dataset.node);
      }
    };
    this.svg.addEventListener("pointerup", end);
    this.svg.addEventListener("pointercancel", () => { drag = null; this.ghost.setAttribute("d", ""); });
    this.svg.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const r = this.svg.getBoundingClientRect();
      this.zoom(ev.deltaY < 0 ? 1.1 : 1 / 1.1, ev.clientX - r.left, ev.clientY - r.top);
    }, { passive: false });
    this.svg.addEventListener("keydown", (e) => {
      if (e.target !== this.svg) {
        if ((e.key === "Delete" || e.key === "Backspace") && this.edge !== null) { e.preventDefault(); this.onDelete({ edge: this.edge }); }
        return;
      }
      const pan = { ArrowLeft: [40, 0], ArrowRight: [-40, 0], ArrowUp: [0, 40], ArrowDown: [0, -40] }[e.key];
      if (pan) { this.tx += pan[0]; this.ty += pan[1]; this.apply(); }
      else if (e.key === "+" || e.key === "=") this.zoom(1.2);
      else if (e.key === "-") this.zoom(1 / 1.2);
      else if (e.key === "0") this.fit();
      else if ((e.key === "Delete" || e.key === "Backspace") && this.edge !== null) this.onDelete({ edge: this.edge });
      else return;
      e.preventDefault();
    });
  }
}
