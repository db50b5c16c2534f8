from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from core.packaged import PartsMismatch, join_parts


def test_parts_are_joined_once_and_checked(tmp_path: Path) -> None:
    parts = [tmp_path / "a", tmp_path / "b"]
    parts[0].write_bytes(b"hello ")
    parts[1].write_bytes(b"world")
    target = tmp_path / "out" / "model.bin"
    good = hashlib.sha256(b"hello world").hexdigest()
    assert join_parts(parts, target, good) is True and target.read_bytes() == b"hello world"
    assert join_parts(parts, target, good) is False  # already there
    other = tmp_path / "other.bin"
    with pytest.raises(PartsMismatch, match="expected"):
        join_parts(parts, other, "0" * 64)
    assert not other.exists() and not other.with_suffix(".partial").exists()
