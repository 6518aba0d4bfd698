// A knowledge-graph drawing on a <canvas>: a small force layout (Barnes–Hut repulsion, springs,
// gravity) that stays interactive at a few thousand nodes; pan, zoom, drag, select, expand;
// keyboard: arrows pan, +/− zoom, 0 fits, [ ] step through nodes, Enter expands, Esc deselects.
import { label, t } from "./i18n.js";
import { h } from "./ui.js";
import { PALETTE } from "./charts.js";

const THETA2 = 0.81; // Barnes–Hut opening angle 0.9, squared
const CHARGE = -70, LINK = 0.08, GRAVITY = 0.012, DECAY = 0.6, ALPHA_MIN = 0.004;

class Quad {
  constructor(x, y, s) { this.x = x; this.y = y; this.s = s; this.m = 0; this.cx = 0; this.cy = 0; this.body = null; this.kids = null; }
}

function insert(q, b, depth) {
  q.cx = (q.cx * q.m + b.x) / (q.m + 1);
  q.cy = (q.cy * q.m + b.y) / (q.m + 1);
  q.m += 1;
  if (!q.kids) {
    if (!q.body) { q.body = b; return; }
    if (depth > 28) return; // (nearly) coincident points: counted in the mass only
    const old = q.body;
    q.body = null;
    q.kids = [null, null, null, null];
    place(q, old, depth);
  }
  place(q, b, depth);
}

function place(q, b, depth) {
  const half = q.s / 2, i = (b.x >= q.x + half ? 1 : 0) + (b.y >= q.y + half ? 2 : 0);
  if (!q.kids[i]) q.kids[i] = new Quad(q.x + (i & 1 ? half : 0), q.y + (i & 2 ? half : 0), half);
  insert(q.kids[i], b, depth + 1);
}

function tree(nodes) {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const n of nodes) { x0 = Math.min(x0, n.x); y0 = Math.min(y0, n.y); x1 = Math.max(x1, n.x); y1 = Math.max(y1, n.y); }
  const root = new Quad(x0 - 1, y0 - 1, Math.max(x1 - x0, y1 - y0) + 2);
  for (const n of nodes) insert(root, n, 0);
  return root;
}

function repel(q, b, k) {
  if (!q || q.m === 0 || q.body === b) return;
  const dx = q.cx - b.x, dy = q.cy - b.y;
  let d2 = dx * dx + dy * dy;
  if (q.kids && (q.s * q.s) / d2 >= THETA2) {
    for (const c of q.kids) repel(c, b, k);
    return;
  }
  if (d2 < 4) d2 = 4;
  const f = (k * q.m) / d2;
  b.vx += dx * f;
  b.vy += dy * f;
}

export class GraphView {
  constructor({ onSelect, onExpand, describedBy }) {
    this.nodes = [];
    this.byId = new Map();
    this.edges = [];
    this.edgeKeys = new Map();
    this.types = new Map();
    this.selected = null;
    this.scale = 1; this.tx = 0; this.ty = 0;
    this.alpha = 0;
    this.onSelect = onSelect;
    this.onExpand = onExpand;
    this.canvas = h("canvas.graph-canvas", { tabIndex: 0, role: "img", "aria-label": t("graph_canvas"),
      "aria-describedby": describedBy || null });
    this.status = h("p.sr", { "aria-live": "polite" });
    this.el = h("div.graph-stage", { "data-nodes": "0", "data-edges": "0" }, this.canvas, this.status);
    this.ctx = this.canvas.getContext("2d");
    this.frame = 0;
    this.bind();
    this.resizer = new ResizeObserver(() => this.resize());
    this.resizer.observe(this.el);
  }

  // -- data -------------------------------------------------------------------------------
  add(nodes, edges, near) {
    const anchor = near !== undefined ? this.byId.get(near) : null;
    const spread = 30 + 6 * Math.sqrt(nodes.length);
    for (const n of nodes) {
      if (this.byId.has(n.id)) continue;
      const a = Math.random() * 2 * Math.PI, d = spread * Math.sqrt(Math.random());
      const base = anchor || { x: 0, y: 0 };
      const node = { ...n, x: base.x + Math.cos(a) * d, y: base.y + Math.sin(a) * d, vx: 0, vy: 0, deg: 0,
        r: Math.min(18, 4 + 1.6 * Math.sqrt(n.mentions || 1)), fixed: false };
      if (!this.types.has(n.type)) this.types.set(n.type, PALETTE[this.types.size % PALETTE.length]);
      this.byId.set(n.id, node);
      this.nodes.push(node);
    }
    for (const e of edges) {
      const s = this.byId.get(e.source), d = this.byId.get(e.target);
      if (!s || !d) continue;
      const key = s.id < d.id ? `${s.id}-${d.id}` : `${d.id}-${s.id}`;
      const known = this.edgeKeys.get(key);
      if (known) { known.types.add(e.type); known.weight = Math.max(known.weight, e.weight); continue; }
      const edge = { s, t: d, weight: e.weight, types: new Set([e.type]) };
      this.edgeKeys.set(key, edge);
      this.edges.push(edge);
      s.deg += 1; d.deg += 1;
    }
    this.el.dataset.nodes = String(this.nodes.length);
    this.el.dataset.edges = String(this.edges.length);
    this.heat(this.nodes.length > 1500 ? 0.6 : 1);
  }

  clear() {
    this.nodes = []; this.edges = []; this.byId.clear(); this.edgeKeys.clear();
    this.selected = null;
    this.el.dataset.nodes = "0";
    this.el.dataset.edges = "0";
    this.scale = 1; this.center();
    this.draw();
  }

  neighbours(node) {
    return this.edges.filter((e) => e.s === node || e.t === node).map((e) => (e.s === node ? e.t : e.s));
  }

  select(id, { focus = false } = {}) {
    const node = id === null ? null : this.byId.get(id) || null;
    this.selected = node;
    if (node && focus) { this.following = false; this.tx = this.w / 2 - node.x * this.scale; this.ty = this.h / 2 - node.y * this.scale; }
    this.status.textContent = node ? `${node.name} (${label("et", node.type)})` : "";
    this.draw();
    if (this.onSelect) this.onSelect(node);
  }

  // -- simulation -------------------------------------------------------------------------
  heat(a) {
    this.alpha = Math.max(this.alpha, a);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.loop());
  }

  loop() {
    this.frame = 0;
    if (!this.el.isConnected && this.w) { this.destroy(); return; } // the page was left
    const steps = this.nodes.length > 2000 ? 1 : 2;
    for (let i = 0; i < steps && this.alpha > ALPHA_MIN; i++) this.tick();
    if (this.following) {
      this.fit(); // keep the growing layout in view until it settles
      if (this.alpha < 0.03) this.following = false;
    }
    this.draw();
    if (this.alpha > ALPHA_MIN || this.dragging) this.frame = requestAnimationFrame(() => this.loop());
  }

  tick() {
    const nodes = this.nodes, a = this.alpha;
    if (!nodes.length) { this.alpha = 0; return; }
    const root = tree(nodes);
    for (const n of nodes) repel(root, n, CHARGE * a);
    for (const e of this.edges) {
      const dx = e.t.x + e.t.vx - e.s.x - e.s.vx, dy = e.t.y + e.t.vy - e.s.y - e.s.vy;
      const d = Math.sqrt(dx * dx + dy * dy) || 1, rest = 36 + e.s.r + e.t.r;
      const f = ((d - rest) / d) * a * LINK * (2 / Math.min(e.s.deg, e.t.deg) + 0.5) * 0.5;
      e.t.vx -= dx * f; e.t.vy -= dy * f; e.s.vx += dx * f; e.s.vy += dy * f;
    }
    for (const n of nodes) {
      n.vx -= n.x * GRAVITY * a;
      n.vy -= n.y * GRAVITY * a;
      if (n.fixed) { n.vx = n.vy = 0; continue; }
      n.vx *= DECAY; n.vy *= DECAY;
      n.x += n.vx; n.y += n.vy;
    }
    this.alpha *= 0.985;
  }

  // -- view -------------------------------------------------------------------------------
  resize() {
    const r = this.el.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    const first = !this.w;
    this.w = Math.max(50, r.width); this.h = Math.max(50, r.height);
    this.canvas.width = Math.round(this.w * dpr);
    this.canvas.height = Math.round(this.h * dpr);
    this.dpr = dpr;
    if (first) this.center();
    this.draw();
  }

  center() { this.tx = (this.w || 0) / 2; this.ty = (this.h || 0) / 2; }

  // Fit the drawing to the view on every frame until the layout settles (or the user acts).
  follow() { this.following = true; this.heat(0.3); }

  fit() {
    if (!this.nodes.length) { this.center(); this.draw(); return; }
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const n of this.nodes) { x0 = Math.min(x0, n.x - n.r); y0 = Math.min(y0, n.y - n.r); x1 = Math.max(x1, n.x + n.r); y1 = Math.max(y1, n.y + n.r); }
    this.scale = Math.max(0.05, Math.min(3, 0.9 * Math.min(this.w / (x1 - x0 || 1), this.h / (y1 - y0 || 1))));
    this.tx = this.w / 2 - ((x0 + x1) / 2) * this.scale;
    this.ty = this.h / 2 - ((y0 + y1) / 2) * this.scale;
    this.draw();
  }

  zoom(f, cx = this.w / 2, cy = this.h / 2) {
    this.following = false;
    const s = Math.max(0.05, Math.min(6, this.scale * f));
    this.tx = cx - ((cx - this.tx) * s) / this.scale;
    this.ty = cy - ((cy - this.ty) * s) / this.scale;
    this.scale = s;
    this.draw();
  }

  pan(dx, dy) { this.following = false; this.tx += dx; this.ty += dy; this.draw(); }

  draw() {
    const ctx = this.ctx, s = this.scale, dpr = this.dpr || 1;
    if (!this.w) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.w, this.h);
    ctx.setTransform(dpr * s, 0, 0, dpr * s, dpr * this.tx, dpr * this.ty);
    const sel = this.selected, near = new Set(sel ? this.neighbours(sel) : []);
    ctx.lineWidth = 1 / s;
    ctx.strokeStyle = sel ? "rgba(120,130,145,.25)" : "rgba(120,130,145,.55)";
    ctx.beginPath();
    for (const e of this.edges) {
      if (sel && (e.s === sel || e.t === sel)) continue;
      ctx.moveTo(e.s.x, e.s.y); ctx.lineTo(e.t.x, e.t.y);
    }
    ctx.stroke();
    if (sel) {
      ctx.strokeStyle = "#f0a000"; ctx.lineWidth = 2.5 / s;
      ctx.beginPath();
      for (const e of this.edges) if (e.s === sel || e.t === sel) { ctx.moveTo(e.s.x, e.s.y); ctx.lineTo(e.t.x, e.t.y); }
      ctx.stroke();
    }
    for (const n of this.nodes) {
      ctx.beginPath();
      ctx.arc(n.x, n.y, n.r, 0, 2 * Math.PI);
      ctx.fillStyle = this.types.get(n.type);
      ctx.globalAlpha = sel && n !== sel && !near.has(n) ? 0.35 : 1;
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    if (sel) {
      ctx.lineWidth = 3 / s; ctx.strokeStyle = "#1d2430";
      ctx.beginPath(); ctx.arc(sel.x, sel.y, sel.r + 2 / s, 0, 2 * Math.PI); ctx.stroke();
    }
    ctx.font = `${12 / s}px system-ui, sans-serif`;
    ctx.fillStyle = "#1d2430";
    ctx.textAlign = "center";
    // labels: the selection and its neighbours always; then the most connected and most
    // mentioned entities first, each where it overlaps no label already drawn (so an
    // overview of hundreds reads as its main entities, and zooming in shows more)
    const placed = [];
    const free = (b) => placed.every((p) => b.x1 < p.x0 || b.x0 > p.x1 || b.y1 < p.y0 || b.y0 > p.y1);
    const forced = this.nodes.filter((n) => n === sel || near.has(n));
    const rest = this.nodes.filter((n) => n !== sel && !near.has(n)).sort((a, b) => (b.deg - a.deg) || (b.r - a.r)).slice(0, 400);
    let drawn = 0;
    for (const n of [...forced, ...rest]) {
      const w = ctx.measureText(n.name).width, y = n.y - n.r - 3 / s;
      const box = { x0: n.x - w / 2 - 2 / s, x1: n.x + w / 2 + 2 / s, y0: y - 12 / s, y1: y + 2 / s };
      const own = n === sel || near.has(n);
      if (!own && !free(box)) continue;
      ctx.fillText(n.name, n.x, y);
      placed.push(box);
      drawn += 1;
    }
    this.el.dataset.labels = String(drawn);
  }

  // -- input ------------------------------------------------------------------------------
  world(ev) {
    const r = this.canvas.getBoundingClientRect();
    return [(ev.clientX - r.left - this.tx) / this.scale, (ev.clientY - r.top - this.ty) / this.scale, ev.clientX - r.left, ev.clientY - r.top];
  }

  hit(x, y) {
    let best = null, bestD = Infinity;
    const pad = 4 / this.scale;
    for (const n of this.nodes) {
      const d = Math.hypot(n.x - x, n.y - y);
      if (d <= n.r + pad && d < bestD) { best = n; bestD = d; }
    }
    return best;
  }

  bind() {
    const c = this.canvas;
    let down = null;
    c.addEventListener("pointerdown", (ev) => {
      this.following = false;
      const [x, y] = this.world(ev);
      const node = this.hit(x, y);
      down = { node, sx: ev.clientX, sy: ev.clientY, tx: this.tx, ty: this.ty, moved: false };
      if (node) { node.fixed = true; this.dragging = true; this.heat(0.15); }
      c.setPointerCapture(ev.pointerId);
    });
    c.addEventListener("pointermove", (ev) => {
      if (!down) {
        const [x, y] = this.world(ev);
        const n = this.hit(x, y);
        c.style.cursor = n ? "pointer" : "grab";
        c.title = n ? n.name : "";
        return;
      }
      const dx = ev.clientX - down.sx, dy = ev.clientY - down.sy;
      if (Math.abs(dx) + Math.abs(dy) > 3) down.moved = true;
      if (down.node) {
        const [x, y] = this.world(ev);
        down.node.x = x; down.node.y = y;
        this.heat(0.1);
      } else {
        this.tx = down.tx + dx; this.ty = down.ty + dy;
        this.draw();
      }
    });
    const up = () => {
      if (!down) return;
      if (down.node) { down.node.fixed = false; this.dragging = false; }
      if (!down.moved) this.select(down.node ? down.node.id : null);
      down = null;
    };
    c.addEventListener("pointerup", up);
    c.addEventListener("pointercancel", up);
    c.addEventListener("dblclick", (ev) => {
      const [x, y] = this.world(ev);
      const n = this.hit(x, y);
      if (n && this.onExpand) this.onExpand(n);
    });
    c.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      this.following = false;
      const [, , cx, cy] = this.world(ev);
      this.zoom(ev.deltaY < 0 ? 1.15 : 1 / 1.15, cx, cy);
    }, { passive: false });
    c.addEventListener("keydown", (ev) => this.key(ev));
  }

  key(ev) {
    this.following = false;
    const step = 40;
    const order = () => this.nodes.slice().sort((a, b) => (b.mentions - a.mentions) || a.name.localeCompare(b.name));
    const actions = {
      ArrowLeft: () => this.pan(step, 0), ArrowRight: () => this.pan(-step, 0),
      ArrowUp: () => this.pan(0, step), ArrowDown: () => this.pan(0, -step),
      "+": () => this.zoom(1.2), "=": () => this.zoom(1.2), "-": () => this.zoom(1 / 1.2), 0: () => this.fit(),
      Escape: () => this.select(null),
      Enter: () => { if (this.selected && this.onExpand) this.onExpand(this.selected); },
      "]": () => this.stepSelect(order(), 1), "[": () => this.stepSelect(order(), -1),
    };
    const fn = actions[ev.key];
    if (fn) { ev.preventDefault(); fn(); }
  }

  stepSelect(list, dir) {
    if (!list.length) return;
    const i = this.selected ? list.indexOf(this.selected) : -1;
    this.select(list[(i + dir + list.length) % list.length].id, { focus: true });
  }

  legend() {
    return h("p.legend", [...this.types].map(([type, color]) => h("span", h("i", { style: `background:${color}` }), label("et", type))));
  }

  destroy() {
    this.resizer.disconnect();
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }
}
