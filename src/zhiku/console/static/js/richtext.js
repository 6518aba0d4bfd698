// An answer's light Markdown (bold, italics, inline code, headings, bullets) as DOM nodes built
// from its text: never innerHTML, so text from documents and models stays text. Citation
// markers [n] become whatever ``marker(n)`` returns (null: left as text).
import { h } from "./ui.js";

const INLINE = [
  { re: /\*\*(?=\S)([\s\S]*?\S)\*\*/, tag: "strong" },
  { re: /__(?=\S)([\s\S]*?\S)__/, tag: "strong" },
  { re: /`([^`\n]+)`/, tag: "code", literal: true },
  { re: /(?<![\p{L}\p{N}*])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![\p{L}\p{N}*])/u, tag: "em" },
  { re: /(?<![\p{L}\p{N}_])_(?=[^\s_])([^_\n]*?[^\s_])_(?![\p{L}\p{N}_])/u, tag: "em" },
];

function withMarkers(text, marker) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(/\[(\d+)\]/g)) {
    const node = marker ? marker(Number(m[1])) : null;
    if (!node) continue;
    out.push(text.slice(last, m.index), node);
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out.filter((x) => x !== "");
}

function inline(text, marker) {
  let best = null;
  for (const rule of INLINE) {
    const m = rule.re.exec(text);
    if (m && (!best || m.index < best.m.index)) best = { m, rule };
  }
  if (!best) return withMarkers(text, marker);
  const { m, rule } = best;
  const inner = rule.literal ? [m[1]] : inline(m[1], marker);
  return [...withMarkers(text.slice(0, m.index), marker), h(rule.tag, ...inner),
    ...inline(text.slice(m.index + m[0].length), marker)];
}

// The nodes of ``text``: one line after another (the bubble keeps line breaks), a heading's
// line in bold without its #s, a list item's - or * as a bullet.
export function richText(text, marker = null) {
  const out = [];
  text.split("\n").forEach((line, i) => {
    if (i) out.push("\n");
    const heading = /^\s{0,3}#{1,6}\s+(.*)$/.exec(line);
    if (heading) { out.push(h("strong", ...inline(heading[1], marker))); return; }
    const bullet = /^(\s*)[-*+]\s+(.*)$/.exec(line);
    if (bullet) { out.push(`${bullet[1]}• `, ...inline(bullet[2], marker)); return; }
    out.push(...inline(line, marker));
  });
  return out;
}
