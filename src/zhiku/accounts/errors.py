"""Errors of signing in, part of the one hierarchy (``zhiku.core.errors``)."""

from __future__ import annotations

from zhiku.core.errors import Conflict, Unauthorized, ZhikuError


class BadCredentials(Unauthorized):
    """A wrong e-mail or password: what the sign-in throttle counts."""


class Busy(ZhikuError):
    """Every password-hashing slot is taken; ``retry_after`` seconds to wait."""

    status = 503
    kind = "busy"


class ChooseWorkspace(Conflict):
    """The password is right and the user belongs to several workspaces: name one of them."""

    kind = "choose_workspace"
