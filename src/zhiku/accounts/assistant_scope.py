"""A key limited to assistants reaches only the knowledge bases those assistants use, as the
console shows it ("Assistant: hr-bot"); with its own ``knowledge_bases`` as well, both apply."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from zhiku.accounts.principal import Principal
from zhiku.apps.types import Assistant


def assistant_kbs(a: Assistant) -> frozenset[str]:
    """Every knowledge base an assistant reaches: its draft's and its live version's."""
    return frozenset({*a.draft.knowledge_bases, *a.live.knowledge_bases})


def confine(principal: Principal, assistants: Iterable[Assistant]) -> Principal:
    """``principal`` limited to the knowledge bases of the assistants in its scope (unchanged
    when it is not limited to assistants). ``assistants``: the workspace's, as they are now."""
    if principal.assistants is None:
        return principal
    reach = frozenset(
        kb for a in assistants if a.slug in principal.assistants for kb in assistant_kbs(a)
    )
    return replace(principal, assistant_kbs=reach)
