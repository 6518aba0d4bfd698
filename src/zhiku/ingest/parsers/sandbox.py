"""Parsing in worker processes with a memory ceiling, so a hostile file fails alone.

A small pool of long-lived processes (started on demand, at most ``workers``) parses one file
at a time each. Every worker limits its own address space (``RLIMIT_AS``) before it reads a
file, so a file that needs too much memory raises ``MemoryError`` there (or gets the worker
killed) instead of growing the server. A worker that ran out of memory, crashed or overran the
time limit is replaced and the file gets a ``ParseError``; the next file proceeds. A worker is
a fresh interpreter (``python -c``, talking over two inherited pipes), so it works whatever
process hosts the pool; starting one costs an interpreter start, once, and a warm worker adds a
pipe round trip (well under a millisecond plus pickling) per file. POSIX only.

Small plain-text and Markdown files (up to 256 KiB) are parsed in the calling process: their
parsers are pure Python over a decoded string, with no C library that could crash and no
decompression, and even a hostile one (a paragraph per line) makes at most a few tens of
megabytes of blocks at that size. Skipping the round trip keeps ingestion of many small notes
as fast as it was (on a busy machine the round trip costs a few milliseconds per file, as
much as parsing a note). JSON and CSV stay in the workers: a small file can still expand a
hundredfold into blocks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path, PurePath
from typing import Any

import zhiku
from zhiku.core import errors
from zhiku.core.errors import ParseError, ZhikuError
from zhiku.ingest.blocks import ParsedDocument
from zhiku.ingest.parsers.registry import ParseOptions, ParserRegistry

SUPPORTED = os.name == "posix"
INLINE_EXTENSIONS = frozenset({"txt", "text", "log", "md", "markdown"})
INLINE_MAX_BYTES = 256 * 1024
_M_ARENA_MAX = -8  # glibc mallopt: fewer per-thread arenas, each reserving address space
_BOOT = "from zhiku.ingest.parsers.sandbox import worker_main; worker_main()"
_PRELOAD = ("docx", "openpyxl", "lxml.etree")  # imported before the worker says ready
_START_TIMEOUT = 120.0  # an interpreter start on a busy machine; not counted per file


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """How many workers, and what each may use."""

    workers: int = 2
    memory_bytes: int = 2 * 1024 * 1024 * 1024
    timeout: float = 900.0


def _limit_memory(memory_bytes: int) -> None:
    """Cap this process's address space."""
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 2)
    except (OSError, AttributeError):
        pass
    if memory_bytes <= 0:
        return
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def worker_main() -> None:
    """A worker's loop: parse each request, answer with the document or the error. After a
    ``MemoryError`` the worker answers and exits, since its heap may stay bloated."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    read_fd, write_fd, memory_bytes = (int(a) for a in sys.argv[1:4])
    requests = Connection(read_fd, writable=False)
    replies = Connection(write_fd, readable=False)
    _limit_memory(memory_bytes)
    import contextlib
    import importlib

    from zhiku.ingest.parsers.registry import default_registry

    registry = default_registry()
    for module in _PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    replies.send(("ready",))
    while True:
        try:
            data, filename, options = requests.recv()
        except (EOFError, OSError):
            return  # the parent went away
        reply: tuple[Any, ...]
        try:
            reply = ("ok", registry.parse(data, filename=filename, options=options))
        except ZhikuError as exc:
            fatal = isinstance(exc.__cause__, MemoryError)
            reply = ("exit" if fatal else "error", type(exc).__name__, exc.message, exc.details)
        del data
        replies.send(reply)
        if reply[0] == "exit":
            return


def _error(name: str, message: str, details: dict[str, Any]) -> ZhikuError:
    """Rebuild an error a worker raised (only classes of the one error hierarchy)."""
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, ZhikuError)):
        cls = ParseError
    return cls(message, **details)


class _Worker:
    """One worker process and the parent's ends of its two pipes."""

    def __init__(self, memory_bytes: int) -> None:
        child_read, parent_write = os.pipe()
        parent_read, child_write = os.pipe()
        env = dict(os.environ)
        root = Path(zhiku.__file__).resolve().parents[1]
        if root.name not in ("site-packages", "dist-packages"):  # a source checkout: use it
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(root), env.get("PYTHONPATH")) if p
            )
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _BOOT, str(child_read), str(child_write),
                 str(memory_bytes)],
                stdin=subprocess.DEVNULL, pass_fds=(child_read, child_write), env=env,
            )
        except BaseException:
            os.close(parent_read)
            os.close(parent_write)
            raise
        finally:
            os.close(child_read)
            os.close(child_write)
        self.requests = Connection(parent_write, readable=False)
        self.replies = Connection(parent_read, writable=False)
        try:
            ready = self.replies.poll(_START_TIMEOUT) and self.replies.recv() == ("ready",)
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.stop()
            raise ParseError("a parse worker process did not start (see the server log)")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Close the pipes (an idle worker exits) and make sure the process is gone."""
        self.requests.close()
        self.replies.close()
        try:
            self.process.wait(0.5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


class ParseSandbox:
    """A ``DocumentParser`` that parses in worker processes (see the module docstring)."""

    def __init__(self, registry: ParserRegistry, limits: SandboxLimits) -> None:
        self._registry = registry
        self._limits = limits
        self._idle: list[_Worker] = []
        self._started = 0
        self._closed = False
        self._cond = threading.Condition()

    def parse(self, data: bytes, *, filename: str, options: ParseOptions) -> ParsedDocument:
        """Parse ``data`` in a worker; ``ParseError`` if the worker dies, runs out of memory or
        time."""
        if not data:
            raise ParseError("file is empty")
        ext = PurePath(filename).suffix.lower().lstrip(".")
        self._registry.for_name(filename)  # an unsupported type fails without a round trip
        if ext in INLINE_EXTENSIONS and len(data) <= INLINE_MAX_BYTES:
            return self._registry.parse(data, filename=filename, options=options)
        worker = self._acquire()
        keep = False
        try:
            reply = self._ask(worker, data, filename, options)
            keep = reply[0] in ("ok", "error")
        finally:
            self._release(worker, keep)
        if reply[0] == "ok":
            document: ParsedDocument = reply[1]
            return document
        raise _error(reply[1], reply[2], reply[3])

    def _ask(self, worker: _Worker, data: bytes, filename: str,
             options: ParseOptions) -> tuple[Any, ...]:
        timeout = self._limits.timeout or None
        try:
            worker.requests.send((data, filename, options))
            if not worker.replies.poll(timeout):
                raise ParseError(f"parsing took longer than {timeout:g} seconds; stopped")
            reply: tuple[Any, ...] = worker.replies.recv()
            return reply
        except (EOFError, OSError):
            try:
                code: int | None = worker.process.wait(5)
            except subprocess.TimeoutExpired:
                code = None
            raise ParseError(self._crash_message(code)) from None

    def _crash_message(self, code: int | None) -> str:
        how = f"exit code {code}"
        if code is not None and code < 0:
            try:
                how = signal.Signals(-code).name
            except ValueError:
                how = f"signal {-code}"
        limit = self._limits.memory_bytes
        ceiling = f" (the limit is {limit / 2**30:g} GiB)" if limit else ""
        return f"parsing crashed its worker process ({how}), out of memory?{ceiling}"

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise ParseError("the parser is shut down")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        return worker
                    self._started -= 1  # died while idle (e.g. killed from outside)
                    worker.stop()
                if self._started < max(1, self._limits.workers):
                    self._started += 1
                    break
                self._cond.wait()
        try:
            return _Worker(self._limits.memory_bytes)
        except BaseException:
            with self._cond:
                self._started -= 1
                self._cond.notify()
            raise

    def _release(self, worker: _Worker, keep: bool) -> None:
        with self._cond:
            keep = keep and not self._closed
            if keep:
                self._idle.append(worker)
            else:
                self._started -= 1
            self._cond.notify()
        if not keep:
            worker.stop()

    def close(self) -> None:
        """Stop the idle workers; busy ones stop when their file is done."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._started -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            worker.stop()
