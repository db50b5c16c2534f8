"""The admin CLI (issue 11 row 13): keys for every scope, list and revoke, user delete and password change, and
one-line errors that never print a traceback or a secret."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.admin_cli import DatabaseUrlRefused, admin, check_database_url
from core.access import AccessRole
from core.accounts import authenticate_user, principal_for_api_key
from core.settings import Settings
from core.store import Store

runner = CliRunner()


def _run(data_dir: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(admin, [*args, "--data-dir", str(data_dir)], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def _store(data_dir: Path) -> Store:
    return Store.from_url(Settings(data_dir=data_dir).resolved_database_url)


def test_an_agent_key_with_every_scope_sees_as_scoped(tmp_path: Path) -> None:
    code, stdout, _ = _run(
        tmp_path,
        "create-key",
        "agent A101",
        "--tenant",
        "bank-a",
        "--role",
        "agent",
        "--head-office",
        "总行",
        "--branch",
        "上海分行",
        "--sub-branch",
        "长宁支行",
        "--team",
        "客户服务组",
        "--agent-id",
        "A101",
    )
    assert code == 0
    key = re.search(r"zj_\S+", stdout)
    assert key is not None
    store = _store(tmp_path)
    principal = principal_for_api_key(store, key.group(0))
    assert principal is not None and principal.role is AccessRole.AGENT and principal.agent_id == "A101"
    assert principal.scope() == {
        "head_office": "总行",
        "branch": "上海分行",
        "sub_branch": "长宁支行",
        "team": "客户服务组",
    }
    org = {"head_office": "总行", "branch": "上海分行", "sub_branch": "长宁支行", "team": "客户服务组"}
    assert principal.sees(tenant="bank-a", agent_id="A101", **org)
    assert not principal.sees(tenant="bank-a", agent_id="A102", **org)
    store.engine.dispose()


def test_an_agent_key_without_an_agent_id_is_refused(tmp_path: Path) -> None:
    code, stdout, stderr = _run(tmp_path, "create-key", "x", "--tenant", "bank-a", "--role", "agent")
    assert code == 1 and "--agent-id" in stderr and "zj_" not in stdout + stderr


def test_keys_are_listed_without_secrets_and_revoked(tmp_path: Path) -> None:
    _, first, _ = _run(tmp_path, "create-key", "nightly", "--tenant", "bank-a", "--branch", "上海分行")
    _run(tmp_path, "create-key", "other", "--tenant", "bank-b")
    key = re.search(r"zj_\S+", first)
    key_id = re.search(r"key id (k_[0-9a-f]+)", first)
    assert key is not None and key_id is not None
    code, listing, _ = _run(tmp_path, "list-keys", "--tenant", "bank-a")
    assert code == 0 and key_id.group(1) in listing and "nightly" in listing and "branch=上海分行" in listing
    assert "other" not in listing and "zj_" not in listing
    assert _run(tmp_path, "revoke-key", key_id.group(1))[0] == 0
    store = _store(tmp_path)
    assert principal_for_api_key(store, key.group(0)) is None
    store.engine.dispose()
    code, _, stderr = _run(tmp_path, "revoke-key", key_id.group(1))
    assert code == 1 and stderr.strip() == f"error: no API key '{key_id.group(1)}'"


def test_a_duplicate_user_is_one_clean_line_without_hash_or_salt(tmp_path: Path) -> None:
    args = ("create-user", "li.qa", "--tenant", "bank-a", "--branch", "上海分行", "--password-stdin")
    assert _run(tmp_path, *args, stdin="correct horse battery\n")[0] == 0
    code, stdout, stderr = _run(tmp_path, *args, stdin="another secret pass\n")
    assert code == 1
    assert stderr.strip() == "error: user 'li.qa' already exists; use set-password or delete-user"
    assert "Traceback" not in stdout + stderr and "scrypt" not in stdout + stderr and "another" not in stdout + stderr


def test_password_change_and_user_deletion(tmp_path: Path) -> None:
    create = ("create-user", "li.qa", "--tenant", "bank-a", "--password-stdin")
    assert _run(tmp_path, *create, stdin="correct horse battery\n")[0] == 0
    assert _run(tmp_path, "set-password", "li.qa", "--password-stdin", stdin="short\n")[0] == 1
    assert _run(tmp_path, "set-password", "li.qa", "--password-stdin", stdin="a brand new passphrase\n")[0] == 0
    store = _store(tmp_path)
    assert authenticate_user(store, "li.qa", "correct horse battery") is None
    assert authenticate_user(store, "li.qa", "a brand new passphrase") is not None
    store.engine.dispose()
    assert _run(tmp_path, "delete-user", "li.qa")[0] == 0
    store = _store(tmp_path)
    assert authenticate_user(store, "li.qa", "a brand new passphrase") is None
    store.engine.dispose()
    code, _, stderr = _run(tmp_path, "delete-user", "li.qa")
    assert code == 1 and stderr.strip() == "error: no user 'li.qa'"
    assert _run(tmp_path, "set-password", "nobody", "--password-stdin", stdin="a brand new passphrase\n")[0] == 1


def test_sqlite_urls_outside_the_data_folder_need_an_existing_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    check_database_url(f"sqlite:///{data / 'new' / 'zhijian.db'}", data)  # inside: created as needed
    check_database_url(f"sqlite:///{tmp_path / 'zhijian.db'}", data)  # outside, but the folder exists
    check_database_url("postgresql+psycopg://qa@db/zhijian", data)
    with pytest.raises(DatabaseUrlRefused, match="does not exist"):
        check_database_url(f"sqlite:///{tmp_path / 'any' / 'path' / 'zhijian.db'}", data)
    assert not (tmp_path / "any").exists()
