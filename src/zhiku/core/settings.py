"""One typed settings object, read once from ``ZHIKU_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path.home() / ".zhiku"


def _default_model_cache() -> Path:
    return Path.home() / ".cache" / "zhiku" / "models"


class Settings(BaseSettings):
    """Every setting Zhiku reads. Each field documents itself; ``docs/settings.md`` lists them."""

    model_config = SettingsConfigDict(env_prefix="ZHIKU_", extra="ignore")

    home: Path = Field(
        default_factory=_default_home,
        description="Data directory; the embedded database lives at HOME/zhiku.db.",
    )
    database_url: str | None = Field(
        default=None,
        description="Database URL. Unset means sqlite:///HOME/zhiku.db (the embedded default); "
        "postgresql://user:pass@host/db selects the PostgreSQL + pgvector server mode.",
    )
    workspace: str = Field(
        default="default",
        description="The workspace CLI commands act in (`zhiku models --workspace` overrides it).",
    )
    pg_pool_size: int = Field(
        default=16, ge=1, le=1000, description="Largest PostgreSQL connection pool per process."
    )
    pg_prewarm: bool = Field(
        default=True,
        description="PostgreSQL: the API server and `zhiku worker` load what searches read "
        "(statistics, the full-text and HNSW indexes, chunk rows) into shared buffers in a "
        "background thread when they start and after the server restarts (with `pg_prewarm` "
        "where installed or creatable), so the first searches are not slow.",
    )
    pg_prewarm_max_mb: int = Field(
        default=8192,
        ge=0,
        description="PostgreSQL: at most this many MB per warm-up, and never more than three "
        "quarters of `shared_buffers`.",
    )
    embedder: str = Field(
        default="minilm",
        description="Default embedding model for new knowledge bases: minilm, use-multilingual, "
        "hashing, or openai:<provider-model> for an OpenAI-compatible /v1/embeddings server.",
    )
    embed_batch_size: int = Field(
        default=4, ge=1, le=256, description="Texts per embedding call (length-sorted batches)."
    )
    embed_threads: int = Field(
        default=0, ge=0, description="onnxruntime intra-op threads; 0 lets onnxruntime decide."
    )
    embed_max_tokens: int = Field(
        default=256, ge=16, le=512, description="Word pieces kept per text by the bundled model."
    )
    model_cache_dir: Path = Field(
        default_factory=_default_model_cache,
        description="Folder for optimised copies of local models (derived files, rebuilt when "
        "missing; about 90 MB for the bundled model). A one-shot command that loads a model "
        "from its copy starts faster; one folder serves every home of the user, and an "
        "unwritable folder only turns the copies off. Copies unused for 30 days are deleted "
        "when a new one is written.",
    )
    openai_embed_base_url: str | None = Field(
        default=None, description="Base URL of an OpenAI-compatible embeddings server."
    )
    openai_embed_api_key: str | None = Field(
        default=None, description="API key for the embeddings server (never logged)."
    )
    openai_embed_model: str = Field(
        default="bge-m3", description="Model name sent to the OpenAI-compatible embeddings server."
    )
    chunk_tokens: int = Field(default=256, ge=16, description="Target chunk size in tokens.")
    chunk_overlap: int = Field(default=32, ge=0, description="Overlap between chunks in tokens.")
    max_file_bytes: int = Field(
        default=200 * 1024 * 1024, ge=1, description="Files larger than this are refused."
    )
    ocr: bool = Field(
        default=True, description="OCR images and text-less PDF pages when zhiku[ocr] is installed."
    )
    max_image_pixels: int = Field(
        default=40_000_000,
        ge=1_000_000,
        description="Largest image decoded for OCR, and largest PDF page rendered (for OCR or "
        "the page view), in pixels; bigger images are refused and pages rendered smaller.",
    )
    zip_max_entries: int = Field(
        default=10_000, ge=1, description="Office files (zip containers): most entries allowed."
    )
    zip_max_entry_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=1024,
        description="Office files (zip containers): largest uncompressed size of one entry.",
    )
    zip_max_total_bytes: int = Field(
        default=1024 * 1024 * 1024,
        ge=1024,
        description="Office files (zip containers): largest uncompressed size of all entries.",
    )
    zip_max_ratio: int = Field(
        default=200,
        ge=10,
        description="Office files (zip containers): highest compression ratio of an entry over "
        "1 MiB (real documents stay well below 100; zip bombs reach 1000).",
    )
    parse_workers: int = Field(
        default=2,
        ge=0,
        le=64,
        description="Files are parsed in up to this many worker processes per Zhiku process, so "
        "a hostile file can fail but not take the server down; 0 parses in the calling process "
        "(no isolation).",
    )
    parse_memory_bytes: int = Field(
        default=2 * 1024 * 1024 * 1024,
        ge=0,
        description="Address-space limit of each parse worker process (RLIMIT_AS); a file that "
        "needs more fails alone. 0: no limit.",
    )
    parse_timeout: float = Field(
        default=900.0,
        ge=0,
        description="Seconds a parse worker may spend on one file (OCR of a long scan takes "
        "about a second a page) before it is stopped and the file fails; 0: no limit.",
    )
    top_k: int = Field(default=5, ge=1, le=1000, description="Default number of search hits.")
    candidates: int = Field(
        default=50, ge=1, description="Candidates each retriever contributes before fusion."
    )
    fusion: str = Field(default="rrf", description="Fusion of retrievers: rrf or weighted.")
    rrf_k: int = Field(
        default=10,
        ge=1,
        description="The k constant of reciprocal-rank fusion (10: chosen on SciFact train).",
    )
    vector_weight: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Weight of the vector retriever when fusing."
    )
    min_relevance: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        description="Hits whose relevance (0..1; 0.3 is where passages start to answer, see "
        "docs/architecture.md) is below this are dropped; the answerer refuses when none is left.",
    )
    vector_blas_threads: int = Field(
        default=1,
        ge=0,
        description="SQLite: BLAS threads for exact vector search (1: no idle BLAS threads "
        "spinning against the query embedding; 0: leave BLAS's own setting).",
    )
    ann: bool = Field(
        default=True,
        description="SQLite: search knowledge bases of at least `ann_min_chunks` vectors with an "
        "approximate (HNSW) index kept in HOME/zhiku.db.ann/ (needs `pip install "
        "'zhiku[ann]'`; without it, or while the index is built, search is exact).",
    )
    ann_min_chunks: int = Field(
        default=20_000,
        ge=0,
        description="SQLite: below this many vectors a knowledge base is searched exactly "
        "(exact numpy search stays under ~5 ms there).",
    )
    ann_ef_search: int = Field(
        default=512,
        ge=10,
        le=4096,
        description="SQLite: HNSW candidate list per search for a graph of up to 400k vectors; "
        "it grows in proportion above that (1,280 at 1M), up to 4,096 (higher: better recall, "
        "slower).",
    )
    ann_ef_construction: int = Field(
        default=200,
        ge=10,
        le=4096,
        description="SQLite: HNSW candidate list while building (higher: better graph, slower "
        "builds; a graph keeps the value it was built with).",
    )
    ann_connectivity: int = Field(
        default=16, ge=4, le=128, description="SQLite: HNSW links per node (M)."
    )
    memory_keyword_rows: int = Field(
        default=2_000_000,
        ge=0,
        description="SQLite: unfiltered keyword searches use an in-memory BM25 index (FTS5's "
        "rankings, ~10x faster) while the full-text table has at most this many rows "
        "(Chinese news: about 1.1 GB per million chunks); 0: off.",
    )

    api_max_request_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="HTTP API: largest non-upload request body."
    )
    api_max_upload_bytes: int = Field(
        default=100 * 1024 * 1024,
        ge=1024,
        description="HTTP API: largest multipart upload request (all files together).",
    )
    api_rate_limit_per_minute: int = Field(
        default=600,
        ge=0,
        description="HTTP API: requests per minute per API key or user session (0: no limit); "
        "counted per server process.",
    )
    store_openai_chats: bool = Field(
        default=True,
        description="HTTP API: store each OpenAI-compatible chat request as a one-turn "
        "conversation, so the conversation log shows that channel (off: only usage is kept).",
    )
    mcp_api_key: SecretStr | None = Field(
        default=None,
        description="`zhiku mcp serve` (stdio): the API key whose workspace and scope the MCP "
        "client acts with (`--key` overrides it; an MCP client's config usually sets it in "
        "the server's environment).",
    )
    api_url_allowlist: list[str] = Field(
        default_factory=list,
        description="HTTP API URL ingestion and model providers' base URLs set over HTTP: "
        "hosts, host:port pairs or CIDR ranges that may be reached even though they are "
        "loopback, private, link-local or metadata addresses (JSON list), e.g. "
        "[\"127.0.0.1:11434\"] for a local Ollama.",
    )
    mcp_stdio_commands: list[str] = Field(
        default_factory=list,
        description="Programs (names or absolute paths) that workspace administrators may "
        "register as stdio MCP servers through the HTTP API; a stdio server runs that program "
        "on this machine, so none is allowed by default. The CLI (this machine's own shell) "
        "may register any (JSON list).",
    )
    api_url_max_redirects: int = Field(
        default=5, ge=0, le=20, description="HTTP API URL ingestion: redirects followed."
    )
    api_url_timeout: float = Field(
        default=20.0,
        gt=0,
        description="HTTP API URL ingestion: seconds to connect, and to wait for each read.",
    )
    api_url_deadline: float = Field(
        default=60.0,
        gt=0,
        description="HTTP API URL ingestion: seconds for a whole fetch (every redirect and the "
        "body); a slower URL fails its job (not retried).",
    )
    api_session_hours: float = Field(
        default=24.0, gt=0, description="HTTP API: lifetime of a user's login session token."
    )
    api_invitation_hours: float = Field(
        default=168.0, gt=0, description="HTTP API: lifetime of an invitation to a workspace."
    )
    api_login_max_failures: int = Field(
        default=5,
        ge=0,
        description="HTTP API sign-in: wrong passwords for one account within the window before "
        "that account is locked for the window (0: no limit); counted per server process.",
    )
    api_login_max_failures_per_address: int = Field(
        default=50,
        ge=0,
        description="HTTP API sign-in: wrong passwords from one client address within the window "
        "before that address is locked for the window (0: no limit); counted per server process.",
    )
    api_login_window_seconds: float = Field(
        default=900.0,
        gt=0,
        description="HTTP API sign-in: seconds failures are counted over, and how long a lock "
        "lasts.",
    )
    api_password_hash_concurrency: int = Field(
        default=4,
        ge=1,
        description="HTTP API: password hashes computed at once per process (each takes 64 MiB); "
        "further sign-ins wait for a slot.",
    )
    password_hash_time_cost: int = Field(
        default=3,
        ge=1,
        le=64,
        description="Passwords: argon2id passes over memory for each new hash (RFC 9106's "
        "second recommendation: 3 passes over 64 MiB with 4 lanes). A stored hash keeps the "
        "parameters it was made with, so changing them never locks anyone out.",
    )
    password_hash_memory_kib: int = Field(
        default=65536,
        ge=1024,
        le=4 * 1024 * 1024,
        description="Passwords: argon2id memory per hash, in KiB (see password_hash_time_cost).",
    )
    password_hash_parallelism: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Passwords: argon2id lanes per hash (see password_hash_time_cost).",
    )
    api_password_hash_wait_seconds: float = Field(
        default=2.0,
        ge=0,
        description="HTTP API: how long a sign-in waits for a hashing slot before it is answered "
        "503 with Retry-After.",
    )
    api_forwarded_allow_ips: list[str] = Field(
        default_factory=list,
        description="`zhiku serve`: addresses of reverse proxies whose X-Forwarded-For header "
        "names the client (the address sign-in failures are counted against); [\"*\"] when "
        "only the proxy can reach the servers. Empty: the connecting address (JSON list).",
    )
    share_visitor_minutes: float = Field(
        default=120.0,
        gt=0,
        le=10080,
        description="Share links: lifetime of a visitor token (what a public chat page or widget "
        "gets instead of a key); the page asks for a new one when it expires.",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="Single sign-on: the OpenID Connect provider's issuer URL (its discovery "
        "document is ISSUER/.well-known/openid-configuration). Unset: no OIDC sign-in.",
    )
    oidc_client_id: str | None = Field(
        default=None, description="Single sign-on: the client id registered with the provider."
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None,
        description="Single sign-on: the client secret (never logged); unset for a public "
        "client, which relies on PKCE alone.",
    )
    oidc_scopes: str = Field(
        default="openid email profile",
        description="Single sign-on: scopes asked of the provider (space-separated; openid is "
        "added when missing). Add the scope that releases the groups claim, if the provider "
        "has one.",
    )
    oidc_provider_name: str = Field(
        default="SSO",
        description="Single sign-on: the provider's name on the console's sign-in button "
        "(\"Sign in with NAME\").",
    )
    oidc_redirect_url: str | None = Field(
        default=None,
        description="Single sign-on: the callback URL registered with the provider. Unset: "
        "this server's /v1/auth/oidc/callback as the request reached it (set it behind a "
        "reverse proxy).",
    )
    oidc_groups_claim: str = Field(
        default="groups",
        description="Single sign-on: the claim (of the ID token or userinfo) that lists the "
        "user's directory groups (Keycloak: groups; Azure AD: groups or roles).",
    )
    ldap_url: str | None = Field(
        default=None,
        description="Directory sign-in: LDAP or Active Directory server, ldap://host:389 or "
        "ldaps://host:636. Unset: no directory sign-in.",
    )
    ldap_bind_dn: str | None = Field(
        default=None,
        description="Directory sign-in: the service account that searches for users (unset: "
        "an anonymous search).",
    )
    ldap_bind_password: SecretStr | None = Field(
        default=None, description="Directory sign-in: the service account's password."
    )
    ldap_user_base: str = Field(
        default="", description="Directory sign-in: where users are searched (a base DN)."
    )
    ldap_user_filter: str = Field(
        default="(|(uid={login})(mail={login}))",
        description="Directory sign-in: the filter that finds the user; {login} is what they "
        "typed, escaped (Active Directory: (|(sAMAccountName={login})(userPrincipalName="
        "{login}))).",
    )
    ldap_email_attribute: str = Field(
        default="mail", description="Directory sign-in: the attribute holding the e-mail."
    )
    ldap_name_attribute: str = Field(
        default="cn", description="Directory sign-in: the attribute holding the display name."
    )
    ldap_group_base: str | None = Field(
        default=None,
        description="Directory sign-in: where groups are searched with ZHIKU_LDAP_GROUP_FILTER. "
        "Unset: the user's memberOf attribute names the groups (Active Directory).",
    )
    ldap_group_filter: str = Field(
        default="(|(&(objectClass=groupOfNames)(member={dn}))"
        "(&(objectClass=groupOfUniqueNames)(uniqueMember={dn})))",
        description="Directory sign-in: the filter that finds the user's groups; {dn} is the "
        "user's DN, escaped.",
    )
    ldap_start_tls: bool = Field(
        default=False, description="Directory sign-in: upgrade ldap:// connections with StartTLS."
    )
    ldap_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Directory sign-in: seconds to connect and per request."
    )
    sso_role_mapping: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="Single sign-on and directory sign-in: directory group -> "
        "\"workspace:role\" (or a list of them), as JSON; the group \"*\" matches every "
        "user. A user gets the highest role any of their groups maps to in each existing "
        "workspace, at every sign-in. Groups are matched as sent (OIDC) or by DN or CN (LDAP).",
    )
    metrics_token: str | None = Field(
        default=None,
        description="Bearer token a Prometheus scraper sends to read /metrics. Unset: /metrics "
        "needs an owner's or admin's session or unrestricted admin key.",
    )
    api_run_jobs: bool = Field(
        default=True,
        description="HTTP API: run background jobs in the server process (ZHIKU_API_JOB_THREADS "
        "worker threads). Set false in server mode, where separate `zhiku worker` processes run "
        "them.",
    )
    api_job_threads: int = Field(
        default=3,
        ge=1,
        le=64,
        description="HTTP API: worker threads that run background jobs in the server process, so "
        "one workspace's slow job does not hold up the others'.",
    )
    malloc_mmap_threshold_kb: int = Field(
        default=1024,
        ge=0,
        le=32768,
        description="Servers and workers (glibc): memory blocks of at least this many KiB are "
        "taken from and handed back to the system on their own, so the buffers of embedding and "
        "ingestion do not stay resident after a job; 0 keeps glibc's adaptive threshold.",
    )
    worker_concurrency: int = Field(
        default=2, ge=1, le=64, description="`zhiku worker`: jobs run at once (threads)."
    )
    jobs_lease_seconds: float = Field(
        default=60.0,
        ge=0.5,
        description="Jobs: a worker holds a job for this long and renews it every third of it; "
        "a job whose worker died goes to another worker once its lease runs out.",
    )
    jobs_max_attempts: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Jobs: tries before a job that keeps hitting internal errors (or losing its "
        "worker) is marked dead.",
    )
    jobs_max_running_per_workspace: int | None = Field(
        default=None,
        ge=0,
        description="Jobs: at most this many jobs of one workspace run at once, over all workers, "
        "so one tenant cannot occupy every worker (0: no cap). Unset: one less than "
        "ZHIKU_API_JOB_THREADS for the jobs `zhiku serve` runs itself, and no cap for `zhiku "
        "worker` processes (set it below the cluster's total worker threads when tenants share "
        "them).",
    )
    jobs_retry_seconds: float = Field(
        default=10.0,
        ge=0.0,
        description="Jobs: wait before the first retry; doubles with every attempt (at most an "
        "hour).",
    )
    sources_url_allowlist: list[str] = Field(
        default_factory=list,
        description="Sources (web sites and other network connectors): hosts, host:port pairs "
        "or CIDR ranges that may be reached although they are loopback, private, link-local or "
        "metadata addresses. For tests and intranet sites only; empty (nothing internal) by "
        "default (JSON list).",
    )
    sources_folder_roots: list[str] = Field(
        default_factory=list,
        description="Folder sources added over the HTTP API must lie under one of these server "
        "folders; empty: the HTTP API adds no folder sources (the CLI and the Python API may "
        "name any folder) (JSON list).",
    )
    sources_max_delete_share: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Sources: a sync run that would remove more than this share of a source's "
        "documents (or finds the source empty) removes none and stops; a source can set its "
        "own limit, and a run can be told to allow the removals.",
    )
    sources_schedule_seconds: float = Field(
        default=30.0,
        ge=0.0,
        description="Sources: how often a process running jobs (`zhiku worker`, `zhiku serve`) "
        "looks for scheduled sources that are due (0: never).",
    )
    log_level: Literal["debug", "info", "warning", "error", "critical"] = Field(
        default="info",
        description="Log level of `zhiku serve` and `zhiku worker` (their --log-level overrides "
        "it); other libraries log from WARNING up.",
    )
    log_json: bool = Field(
        default=False,
        description="`zhiku serve` and `zhiku worker` log one JSON object a line (time, level, "
        "logger, message, request_id) instead of text.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def db_path(self) -> Path:
        """The embedded SQLite database file."""
        if self.database_url and self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return self.home / "zhiku.db"

    @property
    def is_postgres(self) -> bool:
        """True in server mode (``database_url`` is a PostgreSQL URL)."""
        url = self.database_url or ""
        return url.startswith(("postgresql://", "postgres://"))

    @property
    def database_kind(self) -> str:
        """``postgresql`` or ``sqlite``."""
        return "postgresql" if self.is_postgres else "sqlite"

    @property
    def database_display(self) -> str:
        """Where the database is, fit to print or log: the SQLite file, or the PostgreSQL URL
        with its password (and password-like query parameters) masked."""
        if not self.is_postgres:
            return str(self.db_path)
        return mask_url_password(self.database_url or "")


def mask_url_password(url: str) -> str:
    """``url`` with the password of its user info and of ``*password*`` query parameters
    replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{hostport}"
    query = urlencode(
        [(k, "***" if "password" in k.lower() else v)
         for k, v in parse_qsl(parts.query, keep_blank_values=True)],
        safe="*/",
    )
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
