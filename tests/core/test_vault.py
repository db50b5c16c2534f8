from __future__ import annotations

import stat
from pathlib import Path

import pytest

from core.vault import VaultCipher, VaultKeyError, secure_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_missing_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "vault.key"
    cipher = VaultCipher.from_key_file(key)
    assert _mode(key) == 0o600
    token = cipher.encrypt("13812345678")
    assert "13812345678" not in token and token.isascii()
    assert VaultCipher.from_key_file(key).decrypt(token) == "13812345678"  # the same key is read back


def test_values_round_trip_and_equal_values_give_different_tokens(tmp_path: Path) -> None:
    cipher = VaultCipher.from_key_file(tmp_path / "vault.key")
    first, second = cipher.encrypt("上海市长宁区仙霞路318号"), cipher.encrypt("上海市长宁区仙霞路318号")
    assert first != second
    assert cipher.decrypt(first) == cipher.decrypt(second) == "上海市长宁区仙霞路318号"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    key = tmp_path / "vault.key"
    VaultCipher.from_key_file(key)
    key.chmod(mode)
    with pytest.raises(VaultKeyError, match="chmod 600"):
        VaultCipher.from_key_file(key)


def test_wrong_key_or_altered_token_is_a_clear_error(tmp_path: Path) -> None:
    token = VaultCipher.from_key_file(tmp_path / "a.key").encrypt("110101199003074514")
    other = VaultCipher.from_key_file(tmp_path / "b.key")
    with pytest.raises(VaultKeyError, match="cannot be decrypted"):
        other.decrypt(token)
    with pytest.raises(VaultKeyError):
        VaultCipher.from_key_file(tmp_path / "a.key").decrypt(token[:-4] + "AAAA")


def test_malformed_or_empty_key_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    bad.chmod(0o600)
    with pytest.raises(VaultKeyError, match="valid key"):
        VaultCipher.from_key_file(bad)
    empty = tmp_path / "empty.key"
    empty.touch(mode=0o600)
    with pytest.raises(VaultKeyError, match="empty"):
        VaultCipher.from_key_file(empty)


def test_secure_file_makes_a_data_file_private(tmp_path: Path) -> None:
    db = tmp_path / "zhijian.db"
    db.write_bytes(b"x")
    db.chmod(0o644)
    secure_file(db)
    assert _mode(db) == 0o600
    secure_file(tmp_path / "absent.db-wal")  # a missing file is not an error


def test_processes_starting_together_agree_on_one_complete_key(tmp_path: Path) -> None:
    """Before: the second of two CLIs read the key file while the first was still writing it ('is empty')."""
    from concurrent.futures import ProcessPoolExecutor

    path = tmp_path / "vault.key"
    with ProcessPoolExecutor(4) as pool:
        tokens = list(pool.map(_encrypt_with_key_file, [path] * 8))
    cipher = VaultCipher.from_key_file(path)
    assert {cipher.decrypt(t) for t in tokens} == {"13812345678"}
    assert [p.name for p in tmp_path.iterdir()] == ["vault.key"]


def _encrypt_with_key_file(path: Path) -> str:
    return VaultCipher.from_key_file(path).encrypt("13812345678")
