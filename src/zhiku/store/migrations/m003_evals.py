"""Migration 3: evaluation sets, runs with per-question results, the answer log and feedback."""

from __future__ import annotations

from zhiku.store.migrations.migration import Migration

COMMON = """
CREATE TABLE eval_sets (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name {TEXT_C} NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT '',
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    UNIQUE (workspace_id, name)
);

-- expected_sources: JSON {source key: graded relevance}; expected_chunks: JSON {chunk id: grade}.
CREATE TABLE eval_questions (
    id {ID},
    set_id {BIGINT} NOT NULL REFERENCES eval_sets(id) ON DELETE CASCADE,
    ext_id {TEXT_C} NOT NULL,
    question TEXT NOT NULL,
    expected_sources TEXT NOT NULL DEFAULT '{}',
    expected_chunks TEXT NOT NULL DEFAULT '{}',
    reference_answers TEXT NOT NULL DEFAULT '[]',
    answerable INTEGER NOT NULL DEFAULT 1,
    tags TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}',
    UNIQUE (set_id, ext_id)
);

CREATE TABLE eval_runs (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    set_id {BIGINT} REFERENCES eval_sets(id) ON DELETE SET NULL,
    set_name {TEXT_C} NOT NULL,
    target {TEXT_C} NOT NULL,
    config TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    summary TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW},
    finished_at {TEXT_C}
);
CREATE INDEX eval_runs_workspace ON eval_runs (workspace_id, id);

-- retrieved: JSON [[chunk_id, source, score], ...]; metrics: JSON {name: value}; judge: JSON
-- verdict of the judge model (raw 1-5 scores, reasons, its tokens and cost), NULL when unjudged.
CREATE TABLE eval_results (
    run_id {BIGINT} NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    question_id {BIGINT} REFERENCES eval_questions(id) ON DELETE SET NULL,
    ext_id {TEXT_C} NOT NULL,
    question TEXT NOT NULL,
    retrieved TEXT NOT NULL DEFAULT '[]',
    answer TEXT,
    refused INTEGER,
    citations TEXT NOT NULL DEFAULT '[]',
    metrics TEXT NOT NULL DEFAULT '{}',
    latency_ms {REAL} NOT NULL DEFAULT 0,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    cost {REAL},
    error TEXT,
    judge TEXT,
    PRIMARY KEY (run_id, ord)
){WITHOUT_ROWID};

-- Every answer given through the evaluation/feedback API. message_id: the conversation message
-- (migration 2) the answer was given as, when it was one; feedback on a chat message goes
-- through the answer logged for it.
CREATE TABLE answer_log (
    id {ID},
    workspace_id {BIGINT} NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    target {TEXT_C} NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL DEFAULT 0,
    citations TEXT NOT NULL DEFAULT '[]',
    hits TEXT NOT NULL DEFAULT '[]',
    message_id {BIGINT} REFERENCES messages(id) ON DELETE SET NULL,
    created_at {TEXT_C} NOT NULL DEFAULT {NOW}
);
CREATE INDEX answer_log_workspace ON answer_log (workspace_id, created_at);
CREATE INDEX answer_log_message ON answer_log (message_id);

CREATE TABLE feedback (
    id {ID},
    answer_id {BIGINT} NOT NULL REFERENCES answer_log(id) ON DELETE CASCADE,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 0, 1)),
    comment TEXT NOT NULL DEFAULT '',
    corrected_answer TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    created_at {TEXT_C} NOT NULL DEFAULT {NOW}
);
CREATE INDEX feedback_answer ON feedback (answer_id);
"""

POSTGRES = """
CREATE INDEX eval_runs_set ON eval_runs (set_id);
CREATE INDEX eval_results_question ON eval_results (question_id);
"""

MIGRATION = Migration(3, "evals", common=COMMON, postgres=POSTGRES)
