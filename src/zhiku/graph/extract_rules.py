"""The fast extractor: entities and relations from the text alone, at ingestion speed.

Chinese: jieba part-of-speech tags (``nr`` person, ``ns`` place, ``nt`` organisation, ``nz``
other proper noun) and 《书名号》 titles. English: runs of capitalised words (with inner
connectors such as "of" and "de"), quoted titles, minus sentence-initial common words. Both:
short headings name the chunk's topic, and nouns repeated within a chunk become key terms.
Relations: entities in one sentence co-occur (weight 1); a few connective patterns between
neighbouring entities give typed, directed relations (weight 2); the heading topic relates to
every entity of its chunk (weight 0.5). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import pairwise

import rjieba

from zhiku.graph.resolve import normalize_name
from zhiku.graph.types import Extraction, Mention, Relation
from zhiku.text.lang import CJK_RE
from zhiku.text.tokenize import EN_STOPWORDS, ZH_STOPWORDS

ZH_TYPES = {"nr": "person", "nrt": "person", "nrfg": "person", "ns": "place",
            "nt": "organization", "nz": "entity"}
_CAP = r"(?:[A-Z][A-Za-z0-9]*(?:['’&.\-][A-Za-z0-9]+)*|[0-9]+[A-Z][A-Za-z0-9]*)"
_CONNECT = r"(?:of|the|de|la|le|von|van|der|du|del|da|for|on|al|bin|y)"
_SPAN_RE = re.compile(rf"\b{_CAP}(?: (?:{_CONNECT} )?{_CAP}| [0-9]{{1,4}}\b)*")
_LOWER_RE = re.compile(r"\b[a-z][a-z'\-]+\b")
_TERM_RE = re.compile(r"\b[a-z][a-z\-]{4,}\b")
_DETERMINERS = frozenset({"the", "a", "an"})
_CALENDAR = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
_COMMON_STARTERS = EN_STOPWORDS | _CALENDAR | frozenset(
    "after although as because before during following however in later many most one since "
    "some then there these this though today unlike upon when while yet born its despite "
    "according along among around based besides beyond consequently currently despite "
    "originally previously prior subsequently thus unlike until whereas within without".split()
)
_SENTENCE_END_RE = re.compile(r"(?<=[。！？；!?;])|(?<=[.])\s+(?=[A-Z0-9\"“(])|\n+")
_QUOTED_RE = re.compile(r"[\"“]([A-Z][^\"“”\n]{1,80}?)[\"”]")
_BOOK_RE = re.compile(r"《([^《》\n]{1,40})》")
_HEADING_NOISE_RE = re.compile(
    r"^\s*(?:[\d.]+|第[一二三四五六七八九十百\d]+[章节条部分篇])\s*|\s*[(（][^)）]*[)）]\s*$"
)
_ORG_WORDS = frozenset(
    "university college school company corporation inc ltd group bank party club band "
    "association institute council league team records airlines fc army agency ministry".split()
)
_PLACE_WORDS = frozenset(
    "river mountain mountains city county island islands lake state province valley street "
    "park bay sea ocean district village town kingdom republic".split()
)
# Connective patterns between two neighbouring entities of a sentence: (regex on the gap, type).
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), t)
    for p, t in (
        (r"^\s*,?\s*(?:is|was|are|were) (?:a|an|the) .{0,40}\b(?:of|in|at|for|by) (?:the )?$",
         "part_of"),
        (r"^\s*(?:is|was) (?:located|situated|based) in (?:the )?$", "located_in"),
        (r"^\s*,?\s*(?:located |situated )?in (?:the )?$", "located_in"),
        (r"^\s*(?:was |were )?(?:founded|created|established) by (?:the )?$", "founded_by"),
        (r"^\s*(?:was |were |is )?(?:directed|written|produced|composed|designed) by $",
         "created_by"),
        (r"^\s*(?:starring|featuring|with) $", "features"),
        (r"^\s*(?:is|was) (?:born|raised) in $|^\s*\(?born (?:in )?$", "born_in"),
        (r"^\s*(?:is|was|became) (?:the )?(?:son|daughter|wife|husband|brother|sister) of $",
         "family_of"),
        (r"^\s*(?:is|was) (?:a |an )?(?:member|part) of (?:the )?$", "member_of"),
        (r"^\s*位于$|^\s*坐落于$", "located_in"),
        (r"^\s*(?:是|为)$", "is_a"),
        (r"^\s*(?:属于|隶属于|隶属)$", "part_of"),
        (r"^\s*(?:创立|创办|创建|成立)(?:了)?$", "founded"),
        (r"^\s*(?:导演|执导|编剧|主演)(?:了|的)?$", "created"),
        (r"^\s*出生于$|^\s*生于$", "born_in"),
    )
)

_ANY_PATTERN = re.compile("|".join(f"(?P<p{i}>{p.pattern})" for i, (p, _) in enumerate(_PATTERNS)))


def extract(text: str, heading_path: Sequence[str] = ()) -> Extraction:
    """Entities and relations of one chunk."""
    mentions = _heading_mentions(heading_path)
    starts = _sentence_starts(text)
    body = _english_mentions(text, starts)
    if CJK_RE.search(text):
        body += _chinese_mentions(text)
    body += _key_terms(text, body)
    body = _dedupe_overlaps(body)
    _set_salience(text, body)
    mentions += body
    return Extraction(mentions, _relations(text, mentions, starts))


def entity_names(text: str) -> list[str]:
    """The distinct entity names in a short text (a question): mentions in order of position."""
    found = _english_mentions(text) + (_chinese_mentions(text) if CJK_RE.search(text) else [])
    found = _dedupe_overlaps(found)
    return list(dict.fromkeys(m.name for m in found))


# -- entities -------------------------------------------------------------------------------
def _heading_mentions(heading_path: Sequence[str]) -> list[Mention]:
    out: list[Mention] = []
    for heading in heading_path[-2:]:
        topic = _HEADING_NOISE_RE.sub("", heading).strip(" :：-—")
        if topic and len(topic) <= 60 and len(topic.split()) <= 8 and not topic.endswith("."):
            out.append(Mention(topic, "topic", None, None, "heading", 1.0))
        found = _english_mentions(heading, {0})
        if CJK_RE.search(heading):
            found += _chinese_mentions(heading)
        for m in found:
            if normalize_name(m.name) != normalize_name(topic):
                out.append(Mention(m.name, m.type, None, None, "heading", 0.9))
    return out


def _sentence_starts(text: str) -> set[int]:
    starts = {0}
    for m in _SENTENCE_END_RE.finditer(text):
        rest = len(text[m.end():]) - len(text[m.end():].lstrip())
        starts.add(m.end() + rest)
    return starts


def _english_mentions(text: str, starts: set[int] | None = None) -> list[Mention]:
    starts = _sentence_starts(text) if starts is None else starts
    lower_seen = set(_LOWER_RE.findall(text))
    out: list[Mention] = []
    for m in _SPAN_RE.finditer(text):
        mention = _english_span(text, m.start(), m.group(0), starts, lower_seen)
        if mention is not None:
            out.append(mention)
    for q in _QUOTED_RE.finditer(text):
        out.append(Mention(q.group(1).strip(), "work", q.start(1), q.end(1)))
    return out


def _english_span(
    text: str, start: int, name: str, starts: set[int], lower_seen: set[str]
) -> Mention | None:
    words = name.split(" ")
    while len(words) > 1 and (words[0].lower() in _DETERMINERS or words[0].lower() in _CALENDAR
                              or (start in starts and words[0].lower() in _COMMON_STARTERS)):
        start += len(words[0]) + 1
        words = words[1:]
    first = words[0]
    low = first.lower()
    if len(words) == 1:
        if len(first) < 2 or first.isdigit() or low in _CALENDAR or low in EN_STOPWORDS:
            return None
        if start in starts and (low in _COMMON_STARTERS or low in lower_seen):
            return None
    name = " ".join(words)
    if name.endswith(("'s", "’s")):
        name = name[:-2]
    return Mention(name, _english_type(name), start, start + len(name))


@lru_cache(maxsize=100_000)
def _english_type(name: str) -> str:
    words = {w.lower() for w in name.split()}
    if words & _ORG_WORDS:
        return "organization"
    if words & _PLACE_WORDS:
        return "place"
    if name.isupper() and len(name) <= 6:
        return "organization"
    return "entity"


def _chinese_mentions(text: str) -> list[Mention]:
    out: list[Mention] = []
    pos = 0
    for word, flag in rjieba.tag(text):
        start = pos if text.startswith(word, pos) else text.find(word, pos)
        if start < 0:
            continue
        pos = start + len(word)
        kind = ZH_TYPES.get(flag)
        if kind is not None and len(word) >= 2 and CJK_RE.match(word):
            out.append(Mention(word, kind, start, pos))
    for b in _BOOK_RE.finditer(text):
        out.append(Mention(b.group(1).strip(), "work", b.start(1), b.end(1)))
    return out


def _key_terms(text: str, found: Sequence[Mention], limit: int = 5) -> list[Mention]:
    """Nouns repeated within the chunk that no entity covers: the chunk's key terms."""
    taken = {normalize_name(m.name) for m in found}
    counts: Counter[str] = Counter()
    if CJK_RE.search(text):
        for word, flag in rjieba.tag(text):
            if flag in ("n", "vn") and len(word) >= 2 and word not in ZH_STOPWORDS:
                counts[word] += 1
    else:
        counts.update(t for t in _TERM_RE.findall(text) if t not in EN_STOPWORDS)
    out: list[Mention] = []
    for term, n in counts.most_common():
        if n < 2 or len(out) >= limit:
            break
        if normalize_name(term) in taken:
            continue
        at = text.find(term)
        out.append(Mention(term, "term", at, at + len(term), salience=0.3))
    return out


def _dedupe_overlaps(mentions: list[Mention]) -> list[Mention]:
    """Drop mentions inside a longer one at the same place; keep order of position."""
    ordered = sorted(mentions, key=lambda m: (m.start or 0, -((m.end or 0) - (m.start or 0))))
    out: list[Mention] = []
    reach = -1
    for m in ordered:
        if m.start is None or m.end is None:
            out.append(m)
            continue
        if m.end <= reach:
            continue
        out.append(m)
        reach = max(reach, m.end)
    return out


def _set_salience(text: str, mentions: Iterable[Mention]) -> None:
    first_end = _first_sentence_end(text)
    for m in mentions:
        if m.type == "term" or m.start is None:
            continue
        lead = len(text) - len(text.lstrip())
        m.salience = 0.9 if m.start <= lead + 1 else 0.7 if m.start < first_end else 0.5


def _first_sentence_end(text: str) -> int:
    for m in _SENTENCE_END_RE.finditer(text):
        if m.end() > 1:
            return m.end()
    return len(text)


# -- relations ------------------------------------------------------------------------------
def _relations(text: str, mentions: Sequence[Mention], starts: set[int]) -> list[Relation]:
    out: list[Relation] = []
    body = [m for m in mentions if m.field == "text" and m.start is not None and m.type != "term"]
    bounds = [*sorted(starts), len(text) + 1]
    by_sentence: dict[int, list[Mention]] = {}
    s = 0
    for m in body:
        assert m.start is not None
        while m.start >= bounds[s + 1]:
            s += 1
        by_sentence.setdefault(s, []).append(m)
    for group in by_sentence.values():
        out += _sentence_relations(text, group[:10])
    topics = [m.name for m in mentions if m.field == "heading"][:1]
    if topics:
        others = dict.fromkeys(m.name for m in mentions if m.name != topics[0])
        out += [Relation(topics[0], name, "in_context", 0.5) for name in list(others)[:15]]
    return out


def _sentence_relations(text: str, group: Sequence[Mention]) -> list[Relation]:
    out: list[Relation] = []
    for a, b in pairwise(group):
        assert a.end is not None and b.start is not None
        gap = text[a.end:b.start]
        if len(gap) > 60 or normalize_name(a.name) == normalize_name(b.name):
            continue
        hit = _ANY_PATTERN.search(gap)
        if hit is not None and hit.lastgroup is not None:
            kind = _PATTERNS[int(hit.lastgroup[1:])][1]
            out.append(Relation(a.name, b.name, kind, 2.0, gap.strip(), directed=True))
    names = list(dict.fromkeys(m.name for m in group))
    for i, a_name in enumerate(names):
        for b_name in names[i + 1:]:
            out.append(Relation(a_name, b_name, "co_occurs", 1.0))
    return out
