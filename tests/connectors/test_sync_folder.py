"""Folder sources synced for real, on the run's backend: the knowledge base ends equal to the
folder, unchanged files are never read, removals stop past the limit, a bad file fails alone,
a crashed run resumes, and one source runs once at a time."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from zhiku.connectors.store import Counts
from zhiku.core.errors import Conflict, InvalidInput
from zhiku.core.settings import Settings
from zhiku.service import Zhiku


@pytest.fixture
def zk(zhiku_home: Path) -> Iterator[Zhiku]:
    with Zhiku(Settings(home=zhiku_home, embedder="hashing", parse_workers=0)) as service:
        service.create_kb("kb")
        yield service


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def folder_content(root: Path) -> dict[str, str]:
    """Every visible file under ``root``: absolute path → sha256 of its bytes."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def kb_content(zk: Zhiku) -> dict[str, str]:
    """Every ready document: source → content hash (what the parser was given)."""
    return {d.source: d.content_hash for d in zk.documents("kb") if d.status == "ready"}


def sync(zk: Zhiku, name: str = "docs", **kw: object):  # type: ignore[no-untyped-def]
    run = zk.sources.sync(name, "kb", wait=True, **kw)  # type: ignore[arg-type]
    return run


def test_the_knowledge_base_follows_adds_changes_and_deletes(zk: Zhiku, tmp_path: Path) -> None:
    root = tmp_path / "share"
    for n in range(6):
        write(root, f"team{n % 2}/note{n}.md", f"# Note {n}\n\nThe code word is alpha{n}.\n")
    write(root, "readme.txt", "Plain words about the share.\n")
    zk.sources.add("kb", "docs", "folder", {"path": str(root)})

    first = sync(zk)
    assert (first.status, first.added, first.failed) == ("done", 7, 0)
    assert kb_content(zk) == folder_content(root)

    write(root, "team0/note0.md", "# Note 0\n\nThe code word is now omega.\n")  # changed
    write(root, "team1/new.md", "# New\n\nA new note arrives.\n")  # added
    (root / "readme.txt").unlink()  # deleted
    second = sync(zk)
    assert (second.status, second.added, second.updated, second.removed,
            second.unchanged) == ("done", 1, 1, 1, 5)
    assert kb_content(zk) == folder_content(root)
    hits = zk.search("kb", "omega", mode="keyword")
    assert hits and hits[0].source == str(root / "team0/note0.md")
    assert not zk.search("kb", "alpha0", mode="keyword")  # the old chunks are gone

    doc = zk.document("kb", str(root / "team1/new.md"))
    assert doc.metadata["relative_path"] == "team1/new.md"
    assert doc.metadata["sync_source"] == "docs" and doc.metadata["modified"]
    found = zk.search("kb", "new note", filters={"metadata": {"sync_source": "docs"}})
    assert any(h.document_id == doc.id for h in found)


def test_unchanged_files_are_neither_read_nor_parsed(zk: Zhiku, tmp_path: Path) -> None:
    root = tmp_path / "share"
    for n in range(30):
        write(root, f"f{n:02}.md", f"# File {n}\n\nBody {n}.\n")
    zk.sources.add("kb", "docs", "folder", {"path": str(root)})
    run = zk.sources.sync("docs")
    zk.sources.execute(run.id)
    assert zk.sources.last_fetched == 30
    stamps = {d.source: (d.id, d.updated_at) for d in zk.documents("kb")}

    write(root, "f07.md", "# File 7\n\nChanged.\n")
    run = zk.sources.sync("docs")
    done = zk.sources.execute(run.id)
    assert (done.updated, done.unchanged) == (1, 29)
    assert zk.sources.last_fetched == 1  # only the changed file was read and parsed
    after = {d.source: (d.id, d.updated_at) for d in zk.documents("kb")}
    assert [s for s in stamps if stamps[s] != after[s]] == [str(root / "f07.md")]


def test_a_run_that_would_remove_too_much_stops(zk: Zhiku, tmp_path: Path) -> None:
    root = tmp_path / "share"
    for n in range(4):
        write(root, f"d{n}.md", f"# Doc {n}\n\nText {n}.\n")
    zk.sources.add("kb", "docs", "folder", {"path": str(root)})
    assert sync(zk).added == 4

    for n in range(3):
        (root / f"d{n}.md").unlink()
    stopped = sync(zk)
    assert stopped.status == "stopped" and "3 of 4" in (stopped.error or "")
    assert len(zk.documents("kb")) == 4  # nothing was removed

    (root / "d3.md").unlink()  # the folder now lists nothing: even a limit of 100% stops
    zk.sources.update("docs", "kb", max_delete_share=1.0)
    empty = sync(zk)
    assert empty.status == "stopped" and "listed nothing" in (empty.error or "")
    assert len(zk.documents("kb")) == 4

    allowed = sync(zk, allow_deletes=True)
    assert (allowed.status, allowed.removed) == ("done", 4)
    assert zk.documents("kb") == []


def test_one_bad_file_among_many_fails_alone_and_is_retried(zk: Zhiku, tmp_path: Path) -> None:
    root = tmp_path / "share"
    for n in range(20):
        write(root, f"ok{n:02}.md", f"# Fine {n}\n\nReadable {n}.\n")
    (root / "broken.pdf").write_bytes(b"%PDF-1.7 this is not a PDF at all")
    unreadable = write(root, "secret.md", "# Locked\n\nNobody may read this.\n")
    unreadable.chmod(0)
    locked = os.geteuid() != 0  # root reads a file whatever its mode
    zk.sources.add("kb", "docs", "folder", {"path": str(root)})

    run = sync(zk)
    bad = {"broken.pdf", *(["secret.md"] if locked else [])}
    assert run.status == "done"
    assert run.added == 21 - len(bad) + 1 and run.failed == len(bad)
    assert {e["item"] for e in run.errors} == bad
    assert len([d for d in zk.documents("kb") if d.status == "ready"]) == 21 - len(bad) + 1

    again = sync(zk)  # the failed items are tried again, the good ones skipped
    assert (again.failed, again.unchanged) == (len(bad), 21 - len(bad) + 1)
    states = zk.sources.store.items(zk.sources.get("docs", "kb").id)
    assert states["broken.pdf"].attempts == 2 and states["broken.pdf"].error

    (root / "broken.pdf").unlink()
    write(root, "broken.md", "# Mended\n\nNow readable.\n")
    unreadable.chmod(0o644)
    mended = sync(zk)
    assert mended.failed == 0
    assert kb_content(zk) == folder_content(root)


def test_links_out_of_the_folder_are_not_followed(zk: Zhiku, tmp_path: Path) -> None:
    root = tmp_path / "share"
    outside = write(tmp_path / "private", "keys.md", "# Keys\n\nThe vault code is 8812.\n")
    write(root, "in/inside.md", "# Inside\n\nShared text.\n")
    (root / "out.md").symlink_to(outside)
    (root / "outdir").symlink_to(outside.parent, target_is_directory=True)
    (root / "in/loop").symlink_to(root, target_is_directory=True)
    (root / "alias.md").symlink_to(root / "in/inside.md")  # inside the root: followed
    write(root, "skip/this.md", "# Skipped\n")
    write(root, "notes.txt", "plain\n")
    zk.sources.add("kb", "docs", "folder",
                   {"path": str(root), "include": ["**/*.md"], "exclude": ["skip/**"]})
    run = sync(zk)
    assert run.failed == 0
    assert sorted(zk.documents("kb"), key=lambda d: d.source)
    assert {d.metadata["relative_path"] for d in zk.documents("kb")} == {
        "alias.md", "in/inside.md"}
    assert not zk.search("kb", "vault code 8812", mode="keyword")


def test_a_crashed_run_resumes_where_it_stopped(zk: Zhiku, tmp_path: Path) -> None:
    root = tmp_path / "share"
    for n in range(12):
        write(root, f"d{n:02}.md", f"# Doc {n}\n\nText {n}.\n")
    zk.sources.add("kb", "docs", "folder", {"path": str(root)})
    run = zk.sources.sync("docs")

    class Crash(Exception):
        pass

    def crash_after_five(counts: Counts) -> None:
        if counts.added >= 5:
            raise Crash

    with pytest.raises(Crash):
        zk.sources.execute(run.id, crash_after_five)
    assert zk.sources.run(run.id).status == "running"
    assert len(zk.documents("kb")) == 5

    resumed = zk.sources.execute(run.id, first_try=False)
    assert (resumed.status, resumed.added, resumed.unchanged) == ("done", 7, 5)
    assert kb_content(zk) == folder_content(root)


def test_one_run_of_a_source_at_a_time(zk: Zhiku, tmp_path: Path) -> None:
    root = tmp_path / "share"
    write(root, "a.md", "# A\n\nText.\n")
    zk.sources.add("kb", "docs", "folder", {"path": str(root)})
    results: list[object] = []

    def queue_one() -> None:
        try:
            results.append(zk.sources.sync("docs"))
        except Conflict as exc:
            results.append(exc)

    threads = [threading.Thread(target=queue_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queued = [r for r in results if not isinstance(r, Conflict)]
    assert len(queued) == 1 and len(results) == 4
    with pytest.raises(Conflict):
        zk.sources.sync("docs")
    zk.jobs.cancel(queued[0].job_id)  # type: ignore[attr-defined]
    assert zk.sources.run(queued[0].id).status == "failed"  # type: ignore[attr-defined]
    assert sync(zk).status == "done"  # the cancelled run no longer blocks


def test_bad_settings_are_refused(zk: Zhiku, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="absolute"):
        zk.sources.add("kb", "rel", "folder", {"path": "relative/dir"})
    with pytest.raises(InvalidInput, match="unknown source kind"):
        zk.sources.add("kb", "x", "gopher", {})
    with pytest.raises(InvalidInput, match="pathh"):
        zk.sources.add("kb", "x", "folder", {"pathh": str(tmp_path)})
    with pytest.raises(InvalidInput, match="no secret"):
        zk.sources.add("kb", "x", "folder", {"path": str(tmp_path)}, {"token": "t"})
    with pytest.raises(InvalidInput, match="cron"):
        zk.sources.add("kb", "x", "folder", {"path": str(tmp_path)}, schedule="every day")
    with pytest.raises(InvalidInput, match="sources_folder_roots"):
        zk.sources.add("kb", "x", "folder", {"path": str(tmp_path)}, trusted=False)
    missing = zk.sources.add("kb", "gone", "folder", {"path": str(tmp_path / "nowhere")})
    run = zk.sources.sync(missing.id, wait=True)
    assert run.status == "failed" and "no such folder" in (run.error or "")


def test_a_worker_that_stops_mid_run_hands_it_back_and_the_next_finishes_it(
        zk: Zhiku, tmp_path: Path) -> None:
    from waiting import wait_until
    from zhiku.jobs.process import Jobs

    root = tmp_path / "share"
    for n in range(400):
        write(root, f"d{n:03}.md", f"# Doc {n}\n\nText number {n}.\n")
    zk.sources.add("kb", "docs", "folder", {"path": str(root)})
    run = zk.sources.sync("docs")
    first = Jobs.of(zk.settings, zk.db, zk.runtime)
    first.start(concurrency=1, label="first")
    wait_until(lambda: len(zk.documents("kb")) >= 20, 60, "the run to get going")
    assert first.stop()
    assert zk.sources.run(run.id).status == "running"  # handed back, not ended
    assert zk.jobs.get(run.job_id).status == "queued"  # type: ignore[arg-type]
    done_before = len(zk.documents("kb"))
    assert done_before < 400

    second = Jobs.of(zk.settings, zk.db, zk.runtime)
    second.start(concurrency=1, label="second")
    try:
        ended = wait_until(lambda: (r := zk.sources.run(run.id)).status == "done" and r, 120,
                           "the run to finish")
    finally:
        second.stop()
    assert ended.added + ended.unchanged == 400 and ended.unchanged >= done_before
    assert kb_content(zk) == folder_content(root)
