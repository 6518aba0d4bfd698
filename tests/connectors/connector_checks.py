"""What every connector's tests check: a listing as id → version, the difference between two
listings (added, changed, removed, unchanged), and a source synced into a knowledge base that
follows adds, changes and deletes at the source."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from zhiku.connectors.base import Connector, ConnectorContext
from zhiku.connectors.store import SyncRun
from zhiku.core.settings import Settings
from zhiku.service import Zhiku


def context(**overrides: object) -> ConnectorContext:
    """A context for sources on 127.0.0.1 with a small size limit and a short time-out."""
    values: dict[str, object] = {"max_item_bytes": 1000, "allowed_hosts": ("127.0.0.1",),
                                 "timeout_s": 5.0}
    values.update(overrides)
    return ConnectorContext(**values)  # type: ignore[arg-type]


def listing(conn: Connector) -> dict[str, str]:
    """The source's items now, id → version."""
    return {item.id: item.version for item in conn.items()}


def contents(conn: Connector) -> dict[str, bytes]:
    """Every item's bytes, by id."""
    return {item.id: conn.fetch(item) for item in conn.items()}


def diff(before: dict[str, str], after: dict[str, str]) -> dict[str, set[str]]:
    """What changed between two listings."""
    return {
        "added": after.keys() - before.keys(),
        "removed": before.keys() - after.keys(),
        "changed": {k for k in before.keys() & after.keys() if before[k] != after[k]},
        "unchanged": {k for k in before.keys() & after.keys() if before[k] == after[k]},
    }


class Place(Protocol):
    """A source a test can change: write an item's text, delete an item, then ``settle``
    (a Git commit; nothing elsewhere)."""

    def put(self, item: str, text: str) -> None:
        """Create or replace the item."""
        ...

    def delete(self, item: str) -> None:
        """Remove the item."""
        ...

    def settle(self) -> None:
        """Make the changes visible to the connector."""
        ...


@contextmanager
def zhiku(home: Path) -> Iterator[Zhiku]:
    """A service on the run's backend, allowed to reach sources on 127.0.0.1, with ``kb``."""
    settings = Settings(home=home, embedder="hashing", parse_workers=0,
                        sources_url_allowlist=["127.0.0.1"])
    with Zhiku(settings) as service:
        service.create_kb("kb")
        yield service


def _note(word: str) -> str:
    return f"# Note {word}\n\nThe code word of this note is {word}.\n"


def kb_texts(zk: Zhiku) -> dict[str, str]:
    """Every ready document of ``kb``: source → its chunks' text."""
    return {d.source: " ".join(c.text for c in zk.chunks("kb", d.id))
            for d in zk.documents("kb") if d.status == "ready"}


def _same_content(zk: Zhiku, expected: dict[str, str]) -> None:
    """``kb`` holds exactly the documents ``expected`` names (source → its item's code word),
    each holding its word and found first by a keyword search for it."""
    texts = kb_texts(zk)
    assert set(texts) == set(expected)
    for source, word in expected.items():
        assert f"code word of this note is {word}" in texts[source]
        hits = zk.search("kb", word, mode="keyword")
        assert hits and hits[0].source == source


def _sync(zk: Zhiku, name: str) -> SyncRun:
    """Queue a run of source ``name`` and execute it here (so ``last_fetched`` is its own)."""
    return zk.sources.execute(zk.sources.sync(name, "kb").id)


def follows_the_source(zk: Zhiku, place: Place, name: str, items: list[str],
                       document: Callable[[str], str]) -> None:
    """Sync source ``name`` (already added) of ``place`` holding ``items[:3]``; add
    ``items[3]``, change ``items[0]``, delete ``items[1]`` and sync again: ``kb`` ends equal
    to the source by content, and only new and changed items were fetched. ``document``: an
    item's document source."""
    first, second, third, new = items
    words = {item: f"word{n}x" for n, item in enumerate(items)}
    for item in (first, second, third):
        place.put(item, _note(words[item]))
    place.settle()
    run = _sync(zk, name)
    assert (run.status, run.added, run.failed) == ("done", 3, 0), run
    assert zk.sources.last_fetched == 3
    _same_content(zk, {document(i): words[i] for i in (first, second, third)})

    words[first] = "changedwordx"
    place.put(first, _note(words[first]) + "A second line makes it longer.\n")
    place.put(new, _note(words[new]))
    place.delete(second)
    place.settle()
    run = _sync(zk, name)
    assert (run.status, run.added, run.updated, run.removed, run.unchanged, run.failed) == (
        "done", 1, 1, 1, 1, 0), run
    assert zk.sources.last_fetched == 2  # the unchanged item was not fetched
    _same_content(zk, {document(i): words[i] for i in (first, third, new)})
    assert not zk.search("kb", "word0x", mode="keyword")  # the old chunks are gone
    assert not zk.search("kb", "word1x", mode="keyword")

    again = _sync(zk, name)
    assert (again.status, again.unchanged, again.added + again.updated) == ("done", 3, 0)
    assert zk.sources.last_fetched == 0


def cited(zk: Zhiku, word: str) -> str | None:
    """The link of the first citation of an answer about ``word``."""
    answer = zk.ask("kb", f"What is the code word {word}?")
    assert answer.citations
    return answer.citations[0].url
