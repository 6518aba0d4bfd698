"""Conformance mixins for what shares the store's database: the dialect clauses of ``Database``,
the job queue, and the assistant, conversation and call-log stores.

Like ``StoreConformance`` they talk to their subject through its public methods only; the
SQLite and PostgreSQL test classes (``test_sqlite_store.py``, ``test_postgres_store.py``)
inherit them and supply the same ``store`` fixture, whose ``db`` every mixin builds on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from store_conformance import put

from zhiku.apps.store import AssistantStore
from zhiku.apps.types import AssistantConfig
from zhiku.chat.accounting import CallContext, CallLog
from zhiku.chat.store import ConversationStore, Owner
from zhiku.core.errors import Conflict, NotFound
from zhiku.jobs import JobQueue, QueueOptions
from zhiku.models.llm.types import CallRecord, Usage
from zhiku.repositories import (
    AssistantRepository,
    CallRepository,
    ConversationRepository,
    JobRepository,
)
from zhiku.store.db import Database


def _in_threads(n: int, work: Callable[[int], None]) -> None:
    """Run ``work(i)`` in ``n`` threads at once; re-raise the first failure."""
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            start.wait()
            work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]


class SharedDatabase:
    """The fixtures of the mixins: the store's database and workspaces on it."""

    @pytest.fixture
    def db(self, store: Any) -> Database:
        return store.db  # type: ignore[no-any-return]

    @pytest.fixture
    def workspace(self, store: Any) -> int:
        return int(store.workspace_id("default", create=True))

    @pytest.fixture
    def other_workspace(self, store: Any) -> int:
        return int(store.workspace_id("other", create=True))


class DatabaseConformance(SharedDatabase):
    """The clauses in which the dialects differ keep concurrent writers correct."""

    def test_later_is_formatted_like_now(self, db: Database) -> None:
        now, later, earlier = db.conn.execute(
            f"SELECT {db.now}, {db.later}, {db.later.replace('?', '-?')}", (90.5, 3600)
        ).fetchone()
        for text in (now, later, earlier):
            assert len(text) == 24 and text.endswith("Z")
        moment = {t: datetime.fromisoformat(t) for t in (now, later, earlier)}
        assert abs((moment[later] - moment[now]).total_seconds() - 90.5) < 1
        assert abs((moment[now] - moment[earlier]).total_seconds() - 3600) < 1

    def test_a_locked_row_is_read_and_rewritten_in_turn(
        self, db: Database, store: Any, kb_id: int
    ) -> None:
        def bump(_: int) -> None:
            for _ in range(5):
                with db.write() as conn:
                    seen = conn.execute(
                        "SELECT vector_version FROM knowledge_bases WHERE id = ?" + db.lock_row(),
                        (kb_id,),
                    ).fetchone()[0]
                    time.sleep(0.002)
                    conn.execute("UPDATE knowledge_bases SET vector_version = ? WHERE id = ?",
                                 (seen + 1, kb_id))

        before = store.vector_version(kb_id)
        _in_threads(4, bump)
        assert store.vector_version(kb_id) == before + 20  # no update lost

    def test_an_advisory_lock_lets_one_transaction_at_a_time(self, db: Database) -> None:
        def add(_: int) -> None:
            for _ in range(5):
                with db.write() as conn:
                    db.advisory_lock(conn, "conformance")
                    n = conn.execute(
                        "SELECT count(*) FROM workspaces WHERE name LIKE 'lock-%'").fetchone()[0]
                    time.sleep(0.002)
                    conn.execute("INSERT INTO workspaces (name) VALUES (?)", (f"lock-{n}",))

        _in_threads(4, add)  # without the lock two transactions would insert the same name
        assert db.conn.execute(
            "SELECT count(*) FROM workspaces WHERE name LIKE 'lock-%'").fetchone()[0] == 20

    def test_notify_joins_the_transaction(self, db: Database) -> None:
        with db.write() as conn:
            db.notify(conn, "zhiku_conformance")  # a no-op, or NOTIFY delivered at commit
        assert db.listen_url is None or isinstance(db.listen_url, str)


class JobQueueConformance(SharedDatabase):
    """``JobRepository``: claims under a lease, fenced by the claim, with retries."""

    @pytest.fixture
    def make_queue(self, db: Database) -> Callable[..., JobQueue]:
        def make(**options: Any) -> JobQueue:
            return JobQueue(db, QueueOptions(**options))

        return make

    def test_queue_lifecycle(self, make_queue: Callable[..., JobQueue], kb_id: int) -> None:
        q = make_queue()
        assert isinstance(q, JobRepository)
        assert q.claim("w") is None
        first = q.submit("ingest", kb_id, {"files": ["a"]})
        second = q.submit("graph", None, {})

        job = q.claim("w1")
        assert job is not None and job.id == first and job.kind == "ingest"
        assert job.status == "running" and job.attempts == 1 and job.locked_by == "w1"
        assert job.locked_until is not None and job.locked_until > job.updated_at
        assert q.heartbeat(job)
        assert q.save_progress(job, {"files": ["a"], "done": 1}, 0.5)
        assert q.get(first).progress == 0.5  # type: ignore[union-attr]
        assert q.complete(job, {"files": ["a"], "done": 1})
        assert not q.complete(job, {})  # a claim finishes once
        assert not q.heartbeat(job)
        done = q.get(first)
        assert done is not None and done.status == "done" and done.payload["done"] == 1

        other = q.claim("w2")
        assert other is not None and other.id == second
        assert q.complete(other, {}, error="bad input")
        assert q.claim("w3") is None
        assert q.counts() == {"queued": 0, "running": 0, "done": 1, "failed": 1, "dead": 0}
        assert [j.id for j in q.list()] == [second, first]
        assert [j.id for j in q.list(kb_id=kb_id)] == [first]
        assert [j.id for j in q.list(status="failed")] == [second]

    def test_a_job_queued_in_a_rolled_back_transaction_never_exists(
        self, make_queue: Callable[..., JobQueue], db: Database
    ) -> None:
        q = make_queue()
        with pytest.raises(RuntimeError), db.write() as conn:
            q.enqueue(conn, "ingest", None, {})
            raise RuntimeError("the caller's write failed")
        assert q.list() == [] and q.claim("w") is None

    def test_failures_back_off_then_end_dead_and_can_be_retried(
        self, make_queue: Callable[..., JobQueue]
    ) -> None:
        q = make_queue(max_attempts=2, retry_seconds=0.3)
        job_id = q.submit("ingest", None, {})
        job = q.claim("w")
        assert job is not None and q.fail(job, {}, "boom") == "queued"
        assert q.claim("w") is None  # not due before its back-off
        time.sleep(0.4)
        again = q.claim("w")
        assert again is not None and again.id == job_id and again.attempts == 2
        assert q.fail(again, {}, "boom") == "dead"
        assert q.fail(again, {}, "boom") is None  # the claim is over
        retried = q.retry(job_id)
        assert retried is not None and retried.status == "queued" and retried.attempts == 0
        assert q.retry(job_id) is None  # only failed or dead jobs

    def test_an_expired_lease_is_reaped_and_the_old_claim_is_fenced_off(
        self, make_queue: Callable[..., JobQueue]
    ) -> None:
        q = make_queue(lease_seconds=0.2, max_attempts=3)
        job_id = q.submit("ingest", None, {})
        lost = q.claim("w1")
        assert lost is not None
        time.sleep(0.3)
        assert q.reap() == [(job_id, "queued")]
        taken = q.claim("w2")
        assert taken is not None and taken.id == job_id and taken.attempts == 2
        assert not q.save_progress(lost, {}, 0.9) and not q.complete(lost, {})
        assert q.release(taken, {"resume": 1})  # handed back: the try does not count
        back = q.get(job_id)
        assert back is not None and back.status == "queued" and back.attempts == 1

    def test_concurrent_claims_take_each_job_once(
        self, make_queue: Callable[..., JobQueue]
    ) -> None:
        q = make_queue()
        for n in range(24):
            q.submit("ingest", None, {"n": n})
        claimed: list[int] = []

        def work(i: int) -> None:
            while (job := q.claim(f"w{i}")) is not None:
                claimed.append(job.id)
                assert q.complete(job, {})

        _in_threads(4, work)
        assert len(claimed) == len(set(claimed)) == 24


class AssistantStoreConformance(SharedDatabase):
    """``AssistantRepository``: drafts, published versions, one workspace each."""

    def test_assistant_lifecycle(self, db: Database, workspace: int, other_workspace: int) -> None:
        apps = AssistantStore(db, workspace)
        assert isinstance(apps, AssistantRepository)
        config = AssistantConfig(knowledge_bases=["handbook"])
        made = apps.create("HR Helper", config)
        assert made.slug == "hr-helper" and made.draft == config and made.published is None
        with pytest.raises(Conflict):
            apps.create("HR Helper", config)
        assert apps.get("HR Helper") == apps.get("hr-helper") == apps.get_by_id(made.id)

        edited = apps.update("hr-helper", name="HR", temperature=0.5, retrieval={"top_k": 3})
        assert edited.name == "HR" and edited.draft.temperature == 0.5
        assert edited.draft.retrieval.top_k == 3
        assert apps.publish("hr-helper", note="first") == 1
        apps.update("hr-helper", temperature=0.9)
        assert apps.publish("hr-helper") == 2
        live = apps.get("hr-helper")
        assert live.published_version == 2 and live.published is not None
        assert live.published.temperature == 0.9
        assert apps.version("hr-helper", 1).temperature == 0.5
        assert [(v["version"], v["note"]) for v in apps.versions("hr-helper")] == [
            (2, None), (1, "first")]
        with pytest.raises(NotFound):
            apps.version("hr-helper", 3)

        elsewhere = AssistantStore(db, other_workspace)
        assert elsewhere.list() == []
        with pytest.raises(NotFound):
            elsewhere.get_by_id(made.id)
        elsewhere.create("HR Helper", config)  # slugs are per workspace

        apps.create("Another", config)
        assert [a.slug for a in apps.list()] == ["another", "hr-helper"]
        apps.delete("hr-helper")
        with pytest.raises(NotFound):
            apps.get("hr-helper")
        assert [a.slug for a in apps.list()] == ["another"]

    def test_concurrent_publishes_number_versions_in_turn(
        self, db: Database, workspace: int
    ) -> None:
        apps = AssistantStore(db, workspace)
        apps.create("Busy", AssistantConfig(knowledge_bases=["handbook"]))
        numbers: list[int] = []

        def publish(_: int) -> None:
            for _ in range(3):
                numbers.append(apps.publish("busy"))

        _in_threads(4, publish)
        assert sorted(numbers) == list(range(1, 13))


class ConversationStoreConformance(SharedDatabase):
    """``ConversationRepository`` and ``CallRepository``: turns, owners, the call log."""

    def test_conversation_lifecycle(
        self, db: Database, store: Any, workspace: int, other_workspace: int, kb_id: int
    ) -> None:
        chats = ConversationStore(db, workspace)
        assert isinstance(chats, ConversationRepository)
        mine = chats.create(None, owner=Owner(user_id=None, key_id=None))
        theirs = chats.create(None, title="kept")
        doc, _ = put(store, kb_id, "/leave.txt", ["fifteen days of leave"])
        asked, replied = chats.save_turn(
            mine, "How many days of leave?", "Fifteen [1].", reasoning="look it up",
            citations=[{"document_id": doc.id}], metadata={"grounded": True},
        )
        assert replied > asked
        assert chats.get(mine)["title"] == "How many days of leave?"
        assert chats.get(theirs)["title"] == "kept" and chats.get(theirs)["key_id"] is None
        reply = chats.message(replied)
        assert reply.role == "assistant" and reply.reasoning == "look it up"
        assert reply.metadata == {"grounded": True}
        assert chats.question_of(reply) == "How many days of leave?"
        assert [m.id for m in chats.messages(mine)] == [asked, replied]
        assert chats.history(mine) == [
            {"role": "user", "content": "How many days of leave?"},
            {"role": "assistant", "content": "Fifteen [1]."}]
        assert chats.cited_kbs(mine) == {"handbook"}
        assert chats.require(mine) == 0  # no assistant
        listed = chats.list()  # most recent first (the two may share a millisecond)
        assert {c["id"] for c in listed} == {mine, theirs}
        assert [c["updated_at"] for c in listed] == sorted(
            (c["updated_at"] for c in listed), reverse=True)

        elsewhere = ConversationStore(db, other_workspace)
        for read in (elsewhere.get, elsewhere.require, elsewhere.messages):
            with pytest.raises(NotFound):
                read(mine)
        with pytest.raises(NotFound):
            elsewhere.message(replied)
        elsewhere.delete(mine)  # not its conversation: nothing happens
        chats.delete(mine)
        with pytest.raises(NotFound):
            chats.get(mine)
        assert [c["id"] for c in chats.list()] == [theirs]

    def test_call_log(self, db: Database, workspace: int, other_workspace: int) -> None:
        calls = CallLog(db, workspace)
        assert isinstance(calls, CallRepository)
        conversation = ConversationStore(db, workspace).create(None)
        sink: list[CallRecord] = []
        record = CallRecord("p", "m", Usage(10, 4), latency_ms=12.5, ttft_ms=3.0, cost=0.25,
                            ok=True)
        calls.observer(CallContext("chat", conversation_id=conversation, sink=sink))(record)
        calls.record(CallRecord("p", "m", Usage(1, 0, estimated=True), 1.0, None, 0.0, False,
                                error="timeout"), CallContext("test"))
        assert sink == [record]
        logged = calls.calls()
        assert [(c["purpose"], c["ok"], c["error"]) for c in logged] == [
            ("chat", 1, None), ("test", 0, "timeout")]
        assert [c["conversation_id"] for c in calls.calls(conversation_id=conversation)] == [
            conversation]
        totals = calls.totals()
        assert totals["calls"] == 2 and totals["input_tokens"] == 11
        assert totals["output_tokens"] == 4 and totals["cost"] == pytest.approx(0.25)
        assert CallLog(db, other_workspace).calls() == []


class RepositoryConformance(
    DatabaseConformance, JobQueueConformance, AssistantStoreConformance,
    ConversationStoreConformance,
):
    """Every mixin of this module, for a backend's test class."""
