"""One workspace's moderation: its policy, the compiled moderator (rebuilt when the policy
changes), the endpoint through the workspace's providers, and the log of hits."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from zhiku.chat.providers import ProviderRegistry, parse_ref
from zhiku.core.errors import InvalidInput
from zhiku.moderation.endpoint import ModerationEndpoint
from zhiku.moderation.guard import Moderator
from zhiku.moderation.policy import ModerationPolicy
from zhiku.moderation.store import ModerationStore


class ModerationService:
    """Policy, moderator and hits of one workspace."""

    def __init__(self, store: ModerationStore, providers: ProviderRegistry) -> None:
        self._store = store
        self._providers = providers
        # called with ("moderation.set" | "moderation.clear", detail) after a change; the
        # facade points it at the audit log
        self.on_change: Callable[[str, dict[str, Any]], object] = lambda action, detail: None
        self._lock = threading.Lock()
        self._cached: tuple[str, Moderator] | None = None

    def policy(self) -> ModerationPolicy | None:
        """The workspace's policy, or None."""
        return self._store.policy()

    def set_policy(self, policy: ModerationPolicy) -> ModerationPolicy:
        """Check and store ``policy`` (its endpoint must name a configured provider)."""
        if policy.endpoint is not None:
            self._endpoint(policy)
        self._store.save(policy)
        self.on_change("moderation.set", {"enabled": policy.enabled, "words": len(policy.words),
                                          "endpoint": policy.endpoint})
        return policy

    def clear(self) -> None:
        """Stop moderating this workspace."""
        self._store.clear()
        self.on_change("moderation.clear", {})

    def moderator(self) -> Moderator | None:
        """The compiled policy (cached until it changes), or None when nothing is moderated."""
        version = self._store.version()
        if version is None:
            return None
        with self._lock:
            if self._cached is None or self._cached[0] != version:
                policy = self._store.policy()
                if policy is None:
                    return None
                self._cached = (version, self._compile(policy, record=True))
            moderator = self._cached[1]
        return moderator if moderator.policy.enabled else None

    def test(self, text: str, policy: ModerationPolicy | None = None) -> dict[str, Any]:
        """What the policy (the stored one by default) does to ``text`` as a question and as
        an answer; nothing is logged and the endpoint is not called."""
        policy = policy or self._store.policy() or ModerationPolicy()
        moderator = Moderator(policy, lambda hit: None)
        out: dict[str, Any] = {}
        for direction in ("input", "output"):
            verdict = moderator.words_only(text, direction)
            out[direction] = {"blocked": verdict.blocked, "text": verdict.text,
                              "words": sorted({m.word for m in verdict.matches})}
        return out

    def hits(self, limit: int = 50, before: int | None = None) -> list[dict[str, Any]]:
        """Logged hits, newest first."""
        return self._store.hits(limit, before)

    def _compile(self, policy: ModerationPolicy, *, record: bool) -> Moderator:
        endpoint = self._endpoint(policy) if policy.endpoint else None
        return Moderator(policy, self._store.record if record else (lambda hit: None),
                         endpoint.check if endpoint else None)

    def _endpoint(self, policy: ModerationPolicy) -> ModerationEndpoint:
        assert policy.endpoint is not None
        provider, model = parse_ref(policy.endpoint)
        if not model:
            raise InvalidInput("the moderation endpoint is provider/model")
        config = self._providers.get(provider)
        return ModerationEndpoint(config.base_url, model, self._providers.api_key(config),
                                  policy.endpoint_timeout_s, self._providers.transport(config))
