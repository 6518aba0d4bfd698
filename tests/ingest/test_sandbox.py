"""Parse worker processes: a file that needs too much memory, crashes its worker or takes too
long fails alone with a clear error, and the next file is parsed by a fresh worker."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bombs import MiB, deep_json, docx_bomb, docx_bytes
from zhiku.core.errors import ParseError, UnsupportedFormat
from zhiku.core.settings import Settings
from zhiku.ingest.parsers import default_registry
from zhiku.ingest.parsers.registry import ParseOptions
from zhiku.ingest.parsers.sandbox import ParseSandbox, SandboxLimits
from zhiku.ingest.parsers.zipguard import ZipLimits
from zhiku.service import Zhiku

# an administrator raised the zip limits: the memory ceiling still holds
LAX = ParseOptions(zip_limits=ZipLimits(max_ratio=10**6, max_entry_bytes=2**31,
                                        max_total_bytes=2**31))
CEILING = 256 * MiB


def worker_pids() -> set[int]:
    """This process's parse workers, from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"worker_main" in cmdline:
            found.add(int(entry.name))
    return found


@pytest.fixture
def sandbox() -> Iterator[ParseSandbox]:
    box = ParseSandbox(default_registry(), SandboxLimits(workers=1, memory_bytes=CEILING))
    yield box
    box.close()


def memo(box: ParseSandbox) -> str:
    doc = box.parse(docx_bytes("The canteen opens at noon."), filename="memo.docx",
                    options=ParseOptions())
    return doc.blocks[0].text


def test_files_parse_in_a_worker_that_is_reused(sandbox: ParseSandbox) -> None:
    assert memo(sandbox) == "The canteen opens at noon."
    pids = worker_pids()
    assert len(pids) == 1
    assert memo(sandbox) == "The canteen opens at noon."
    assert worker_pids() == pids
    # errors come back with their type and message
    with pytest.raises(ParseError, match="corrupt or unreadable"):
        sandbox.parse(b"%PDF-1.4 broken", filename="x.pdf", options=ParseOptions())
    with pytest.raises(ParseError, match="RecursionError"):
        sandbox.parse(deep_json(), filename="deep.json", options=ParseOptions())
    with pytest.raises(UnsupportedFormat):
        sandbox.parse(b"data", filename="x.xyz", options=ParseOptions())
    assert worker_pids() == pids
    sandbox.close()
    assert worker_pids() == set()


def test_a_file_over_the_memory_ceiling_fails_alone(sandbox: ParseSandbox) -> None:
    assert memo(sandbox)
    before = worker_pids()
    with pytest.raises(ParseError, match="needs more memory to parse than is allowed"):
        sandbox.parse(docx_bomb(300 * MiB), filename="bomb.docx", options=LAX)
    assert memo(sandbox) == "The canteen opens at noon."  # a fresh worker
    assert worker_pids().isdisjoint(before)


def test_a_killed_worker_is_a_clear_error_and_replaced(sandbox: ParseSandbox) -> None:
    assert memo(sandbox)
    (pid,) = worker_pids()
    errors: list[Exception] = []
    bomb = docx_bomb(300 * MiB)

    def parse() -> None:
        try:
            sandbox.parse(bomb, filename="slow.docx", options=LAX)
        except ParseError as exc:
            errors.append(exc)

    thread = threading.Thread(target=parse)
    thread.start()
    time.sleep(0.3)
    os.kill(pid, signal.SIGKILL)  # what the kernel's OOM killer does
    thread.join(30)
    assert len(errors) == 1
    assert "crashed its worker process (SIGKILL)" in str(errors[0])
    assert memo(sandbox) == "The canteen opens at noon."
    assert pid not in worker_pids()


def test_a_file_over_the_time_limit_is_stopped() -> None:
    box = ParseSandbox(default_registry(), SandboxLimits(workers=1, memory_bytes=CEILING,
                                                         timeout=0.3))
    try:
        assert memo(box)
        started = time.monotonic()
        with pytest.raises(ParseError, match=r"took longer than 0.3 seconds"):
            box.parse(docx_bomb(300 * MiB), filename="slow.docx", options=LAX)
        assert time.monotonic() - started < 5
        assert memo(box) == "The canteen opens at noon."
        assert len(worker_pids()) == 1
    finally:
        box.close()


def test_ingestion_reports_the_failed_file_and_goes_on(
    tmp_path: Path, make_settings: object
) -> None:
    settings: Settings = make_settings(  # type: ignore[operator]
        tmp_path / "home", parse_memory_bytes=CEILING, zip_max_ratio=10**6,
        zip_max_entry_bytes=2**31, zip_max_total_bytes=2**31,
    )
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "a_bomb.docx").write_bytes(docx_bomb(300 * MiB))
    (folder / "b_memo.docx").write_bytes(docx_bytes("The canteen opens at noon."))
    (folder / "c_note.md").write_text("# Parking\n\nPermits come from facilities.\n")
    with Zhiku(settings) as zk:
        zk.create_kb("kb", embedder="hashing")
        report = zk.ingest("kb", [folder])
        status = {Path(f.source).name: (f.status, f.error) for f in report.files}
        assert status["a_bomb.docx"] == ("failed", "the file needs more memory to parse than "
                                         "is allowed")
        assert status["b_memo.docx"][0] == status["c_note.md"][0] == "added"
        assert zk.search("kb", "canteen noon")[0].source.endswith("b_memo.docx")
    assert worker_pids() == set()  # closing the facade stops its workers


def test_small_notes_skip_the_workers_and_large_ones_do_not(sandbox: ParseSandbox) -> None:
    note = b"# Parking\n\nPermits come from facilities.\n"
    assert sandbox.parse(note, filename="note.md", options=ParseOptions()).blocks
    assert worker_pids() == set()
    big = note + b"\n\nMore about permits and parking spaces.\n" * 10_000  # over 256 KiB
    assert len(sandbox.parse(big, filename="big.md", options=ParseOptions()).blocks) > 1
    assert len(worker_pids()) == 1
