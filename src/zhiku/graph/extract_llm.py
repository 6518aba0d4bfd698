"""LLM extraction: batched prompts, a JSON schema, tolerant parsing, one retry, a cache, a budget.

Any model fits behind ``TextModel`` (a prompt in, a ``Reply`` out): ``from_chat_model`` wraps
a ``ChatModel``; ``from_callable`` wraps a plain function. Each chunk's result is cached
under hash(prompt version, model, heading, text), so a re-run — or a resumed run after the
budget stopped it — never pays for a chunk twice. Pure planning and parsing; the runner in
``zhiku.graph.ops`` does the I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from zhiku.graph.types import ChunkText, Extraction, Mention, Relation
from zhiku.models.llm.json import JsonRepairError, loads_lenient
from zhiku.models.llm.types import cost_per_million
from zhiku.text.tokens import count_tokens

if TYPE_CHECKING:
    from zhiku.models.llm.types import ChatModel

PROMPT_VERSION = "kg-v1"
OUTPUT_RATIO = 0.6  # estimated output tokens per input token of chunk text
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["chunks"],
    "properties": {"chunks": {"type": "array", "items": {
        "type": "object",
        "required": ["id", "entities", "relations"],
        "properties": {
            "id": {"type": "integer"},
            "entities": {"type": "array", "items": {
                "type": "object", "required": ["name", "type"],
                "properties": {"name": {"type": "string"}, "type": {"type": "string"},
                               "description": {"type": "string"}}}},
            "relations": {"type": "array", "items": {
                "type": "object", "required": ["source", "target", "type"],
                "properties": {"source": {"type": "string"}, "target": {"type": "string"},
                               "type": {"type": "string"}, "description": {"type": "string"},
                               "weight": {"type": "number", "minimum": 0, "maximum": 10}}}},
        }}}},
}
PROMPT = """Extract a knowledge graph from each numbered passage below.
Entities: people, organisations, places, works, products, events, concepts that matter.
Relations: how two of those entities are related, as stated in the passage, with a weight
from 1 (weak) to 10 (central). Use the passage's language for names and descriptions.
Reply with JSON only, matching this JSON schema:
{schema}

{passages}"""
RETRY = "\n\nYour previous reply could not be used ({error}). Reply again with JSON only."


@dataclass(slots=True)
class Reply:
    """A model's answer with the tokens it cost (estimated when the provider did not say)."""

    text: str
    input_tokens: int = 0
    output_tokens: int = 0


class TextModel(Protocol):
    """The narrow seam extraction needs: a name, and a prompt in, a reply out."""

    name: str

    def __call__(self, prompt: str) -> Reply:
        """Complete ``prompt``."""
        ...


@dataclass(slots=True)
class _CallableModel:
    name: str
    fn: Callable[[str], str]

    def __call__(self, prompt: str) -> Reply:
        text = self.fn(prompt)
        return Reply(text, count_tokens(prompt), count_tokens(text))


def from_callable(fn: Callable[[str], str], name: str = "callable") -> TextModel:
    """Wrap ``fn(prompt) -> text``; tokens are estimated."""
    return _CallableModel(name, fn)


@dataclass(slots=True)
class _ChatAdapter:
    model: ChatModel
    max_tokens: int
    name: str = ""

    def __call__(self, prompt: str) -> Reply:
        from zhiku.models.llm.types import GenerationOptions

        done = self.model.complete([{"role": "user", "content": prompt}],
                                   GenerationOptions(temperature=0.0, max_tokens=self.max_tokens))
        usage = done.usage
        return Reply(done.text, usage.input_tokens or count_tokens(prompt),
                     usage.output_tokens or count_tokens(done.text))


def from_chat_model(model: ChatModel, max_tokens: int = 2048) -> TextModel:
    """Wrap a chat model as a ``TextModel``."""
    return _ChatAdapter(model, max_tokens, model.name)


@dataclass(frozen=True, slots=True)
class Pricing:
    """Prices per million tokens (0 for a local model)."""

    input_per_million: float = 0.0
    output_per_million: float = 0.0

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """Cost of so many tokens."""
        return cost_per_million(
            input_tokens, output_tokens, self.input_per_million, self.output_per_million
        )


@dataclass(slots=True)
class Estimate:
    """What a run would cost before anything is spent."""

    chunks: int = 0
    cached: int = 0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0


@dataclass(slots=True)
class Batch:
    """Chunks sent in one call, numbered 0..n-1 in the prompt."""

    chunks: list[ChunkText] = field(default_factory=list)

    def prompt(self) -> str:
        """The extraction prompt for these chunks."""
        parts = []
        for i, c in enumerate(self.chunks):
            head = f" ({' > '.join(c.heading_path)})" if c.heading_path else ""
            parts.append(f"### Passage {i}{head}\n{c.text}")
        return PROMPT.format(schema=json.dumps(SCHEMA, separators=(",", ":")),
                             passages="\n\n".join(parts))


def cache_key(model: str, chunk: ChunkText) -> str:
    """The cache key of one chunk's extraction: prompt version, model, heading and text."""
    raw = json.dumps([PROMPT_VERSION, model, chunk.heading_path, chunk.text], ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def plan(chunks: Sequence[ChunkText], batch_size: int = 4, batch_tokens: int = 3000
         ) -> list[Batch]:
    """Group chunks into calls of at most ``batch_size`` chunks and ``batch_tokens`` of text."""
    batches: list[Batch] = []
    current = Batch()
    size = 0
    for c in chunks:
        tokens = count_tokens(c.text)
        if current.chunks and (len(current.chunks) >= batch_size or size + tokens > batch_tokens):
            batches.append(current)
            current, size = Batch(), 0
        current.chunks.append(c)
        size += tokens
    if current.chunks:
        batches.append(current)
    return batches


def estimate_batch(batch: Batch) -> tuple[int, int]:
    """Estimated ``(input, output)`` tokens of one call."""
    text_tokens = sum(count_tokens(c.text) for c in batch.chunks)
    return count_tokens(batch.prompt()), int(text_tokens * OUTPUT_RATIO) + 20 * len(batch.chunks)


def parse(reply: str, n: int) -> list[Extraction]:
    """The per-chunk extractions in a reply for ``n`` passages; ``JsonRepairError`` if unusable."""
    data = loads_lenient(reply)
    items = data.get("chunks") if isinstance(data, dict) else data
    if isinstance(data, dict) and items is None and n == 1 and "entities" in data:
        items = [{"id": 0, **data}]
    if not isinstance(items, list):
        raise JsonRepairError('expected {"chunks": [...]}')
    out = [Extraction() for _ in range(n)]
    seen = 0
    for pos, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        idx = item.get("id", pos)
        if not isinstance(idx, int) or not 0 <= idx < n:
            continue
        out[idx] = _extraction(item)
        seen += 1
    if seen == 0 and n:
        raise JsonRepairError("no passage results with a valid id")
    return out


def _text(value: Any, limit: int = 300) -> str:
    return str(value).strip()[:limit] if value is not None else ""


def _extraction(item: dict[str, Any]) -> Extraction:
    ex = Extraction()
    for e in item.get("entities") or []:
        if isinstance(e, dict) and _text(e.get("name")):
            ex.mentions.append(Mention(_text(e["name"], 120), _text(e.get("type")) or "entity",
                                       description=_text(e.get("description"))))
        elif isinstance(e, str) and e.strip():
            ex.mentions.append(Mention(e.strip()[:120]))
    for r in item.get("relations") or []:
        if not isinstance(r, dict) or not _text(r.get("source")) or not _text(r.get("target")):
            continue
        try:
            weight = min(max(float(r.get("weight", 1.0)), 0.0), 10.0)
        except (TypeError, ValueError):
            weight = 1.0
        ex.relations.append(Relation(_text(r["source"], 120), _text(r["target"], 120),
                                     _text(r.get("type"), 60) or "related_to", weight,
                                     _text(r.get("description")), directed=True))
    return ex


def locate(chunk: ChunkText, ex: Extraction) -> Extraction:
    """Give LLM mentions offsets where the name occurs in the chunk; add missing endpoints."""
    lower = chunk.text.lower()
    for m in ex.mentions:
        at = lower.find(m.name.lower())
        if at >= 0:
            m.start, m.end = at, at + len(m.name)
            m.salience = 0.9 if at <= 1 else 0.7
    names = {m.name for m in ex.mentions}
    for r in ex.relations:
        for name in (r.source, r.target):
            if name not in names:
                ex.mentions.append(Mention(name))
                names.add(name)
    return ex


def dumps(ex: Extraction) -> str:
    """JSON of one chunk's extraction, for the cache."""
    return json.dumps({
        "entities": [{"name": m.name, "type": m.type, "description": m.description}
                     for m in ex.mentions],
        "relations": [{"source": r.source, "target": r.target, "type": r.type,
                       "weight": r.weight, "description": r.description} for r in ex.relations],
    }, ensure_ascii=False)


def loads(raw: str) -> Extraction:
    """A cached extraction."""
    return _extraction(json.loads(raw))
