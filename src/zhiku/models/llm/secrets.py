"""API keys: read from a named environment variable, or stored encrypted with Fernet.

The Fernet key lives in ``HOME/secret.key``, created with mode 0600. Keys are never logged,
printed or put in error messages; ``mask`` gives the only form that may be shown.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from zhiku.core.errors import InvalidInput, MissingDependency

KEY_FILE = "secret.key"


class SecretBox:
    """Encrypts and decrypts small secrets with a per-installation key file."""

    def __init__(self, home: Path) -> None:
        self._path = home / KEY_FILE

    def _fernet(self) -> Any:
        try:
            from cryptography.fernet import Fernet
        except ImportError as exc:  # pragma: no cover - cryptography is a dependency
            raise MissingDependency("storing keys needs: pip install cryptography") from exc
        if not self._path.exists():
            self._path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process created it first
                return Fernet(self._path.read_bytes().strip())
            with os.fdopen(fd, "wb") as fh:
                fh.write(Fernet.generate_key())
        return Fernet(self._path.read_bytes().strip())

    def encrypt(self, secret: str) -> bytes:
        """The encrypted token for ``secret``."""
        token: bytes = self._fernet().encrypt(secret.encode())
        return token

    def decrypt(self, token: bytes) -> str:
        """The secret back; a clear error when the key file changed."""
        from cryptography.fernet import InvalidToken

        try:
            plain: bytes = self._fernet().decrypt(token)
            return plain.decode()
        except InvalidToken as exc:
            raise InvalidInput(f"stored key cannot be decrypted with {self._path}") from exc


def key_from_env(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The key in the environment variable the user named for this provider."""
    env = os.environ if environ is None else environ
    value = env.get(name)
    return value or None


def mask(secret: str | None) -> str:
    """A form safe to show: the last four characters at most."""
    if not secret:
        return "(none)"
    return "…" + secret[-4:] if len(secret) > 12 else "****"
