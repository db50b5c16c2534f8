"""Exception types with messages a user can act on."""

from __future__ import annotations


class ZhijianError(Exception):
    """Base of every error the product raises on purpose."""


class InputError(ZhijianError):
    """A conversation file or record cannot be read; says where (file, line, field)."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        self.source = source
        self.line = line
        where = ":".join(str(p) for p in (source, line) if p is not None)
        super().__init__(f"{where}: {message}" if where else message)


class RulePackError(ZhijianError):
    """A rule pack is malformed or references something that does not exist."""


class StoreError(ZhijianError):
    """Persistence failed in a way the caller should see."""
