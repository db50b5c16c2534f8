"""The PII vault encrypted at rest: placeholder values are stored as Fernet tokens under a local key file.

The key file is created with mode 0600 on first use and refused when group or others can read it, so a copy of
the database alone (or its -wal file) reveals no personal data. ``secure_file`` gives data files the same mode.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from core.errors import ZhijianError

_PRIVATE = 0o600


class VaultKeyError(ZhijianError):
    """The vault key file is unusable: unsafe permissions, malformed, or the wrong key for the stored values."""


def secure_file(path: Path) -> None:
    """Make ``path`` readable and writable by its owner only (0600), when it exists."""
    if path.exists():
        path.chmod(_PRIVATE)


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # The key is written to a private temporary file, then linked into place: a link fails when the file exists,
    # so of two processes starting at once only one key wins, and no reader ever sees a half-written file.
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(Fernet.generate_key())
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(partial, path)
    except FileExistsError:
        pass  # another process created it first: theirs is the key
    finally:
        partial.unlink()


class VaultCipher:
    """Encrypts and decrypts vault values (authenticated encryption: AES-128-CBC + HMAC-SHA256, Fernet)."""

    def __init__(self, key: bytes) -> None:
        self._mac_key = hashlib.sha256(b"zhijian-pseudonym:" + key).digest()
        try:
            self._fernet = Fernet(key)
        except ValueError as exc:
            raise VaultKeyError("the vault key is not a valid Fernet key (32 url-safe base64-encoded bytes)") from exc

    @classmethod
    def from_key_file(cls, path: Path) -> VaultCipher:
        """The cipher for the key in ``path``; a random key is created there (mode 0600) when the file is missing."""
        if not path.exists():
            _create_key_file(path)
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise VaultKeyError(
                f"the vault key file {path} is accessible by group or others (mode {mode:04o}); "
                f"run `chmod 600 {path}` and restart"
            )
        key = path.read_bytes().strip()
        if not key:
            raise VaultKeyError(f"the vault key file {path} is empty; restore it from a backup")
        try:
            return cls(key)
        except VaultKeyError as exc:
            raise VaultKeyError(
                f"the vault key file {path} does not hold a valid key; restore it from a backup"
            ) from exc

    def pseudonym(self, value: str) -> str:
        """A stable, keyed stand-in for ``value`` (HMAC-SHA256): equal values map alike, and without the key file
        it cannot be reversed by trying every phone number."""
        return hmac.new(self._mac_key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:20]

    def encrypt(self, value: str) -> str:
        """An opaque token (ASCII) for ``value``; a new random IV each time, so equal values give different tokens."""
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The value behind a token made with this key; a wrong key or a tampered token is a VaultKeyError."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError) as exc:
            raise VaultKeyError("a vault value cannot be decrypted with this key (wrong key or altered data)") from exc
