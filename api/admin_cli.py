"""`zhijian serve` and `zhijian admin …`: run the HTTP API; create, list and revoke API keys; create, delete users
and change their passwords. Errors are one line on stderr and exit 1: no traceback, nothing secret."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from api.render import console
from core.access import AccessRole
from core.accounts import create_api_key, create_user, delete_user, list_api_keys, revoke_api_key, set_password
from core.errors import ZhijianError
from core.settings import Settings
from core.store import Store

admin = typer.Typer(help="Accounts: API keys for pipelines, users for people.", no_args_is_help=True)
out = console()
err = console(stderr=True)

DataDir = Annotated[Path | None, typer.Option(help="Data folder.")]
HeadOffice = Annotated[str | None, typer.Option(help="Limit to this head office.")]
Branch = Annotated[str | None, typer.Option(help="Limit to this branch.")]
SubBranch = Annotated[str | None, typer.Option(help="Limit to this sub-branch.")]
Team = Annotated[str | None, typer.Option(help="Limit to this team.")]
AgentId = Annotated[str | None, typer.Option(help="For role agent (required): their agent id.")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin (for scripts).")
]
MIN_PASSWORD = 10


class DatabaseUrlRefused(ZhijianError):
    """A database URL that would create files where they do not belong."""


def check_database_url(url: str, data_dir: Path) -> None:
    """Refuse a SQLite URL whose file lies outside the data folder in a folder that does not exist yet (a typo in
    `--db sqlite:////…` must not create folders anywhere); other URLs and existing folders pass."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        raise DatabaseUrlRefused(f"not a database URL: {url!r}") from None
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return
    path = Path(parsed.database).expanduser().resolve()
    inside = path.is_relative_to(data_dir.expanduser().resolve())
    if not inside and not path.parent.is_dir():
        raise DatabaseUrlRefused(
            f"{path.parent} does not exist and is outside the data folder {data_dir}; create it first or use a path "
            "inside the data folder"
        )


def _settings(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir else Settings()


@contextmanager
def _account_store(data_dir: Path | None) -> Iterator[Store]:
    """The store of the configured database, closed afterwards; expected faults end the command with one line."""
    settings = _settings(data_dir)
    try:
        check_database_url(settings.resolved_database_url, settings.data_dir)
        store = Store.from_url(settings.resolved_database_url)
    except ZhijianError as exc:
        _fail(str(exc))
    try:
        yield store
    except ZhijianError as exc:
        _fail(str(exc))
    finally:
        store.engine.dispose()


def _fail(message: str) -> NoReturn:
    err.print(f"error: {message}", soft_wrap=True, markup=False, highlight=False)
    raise typer.Exit(1)


def _org(**levels: str | None) -> dict[str, Any]:
    return {level: value for level, value in levels.items() if value is not None}


def _read_password(from_stdin: bool) -> str:
    password = sys.stdin.readline().rstrip("\r\n") if from_stdin else getpass.getpass("password: ")
    if len(password) < MIN_PASSWORD:
        _fail(f"use a password of at least {MIN_PASSWORD} characters")
    return password


@admin.command("create-key")
def create_key(
    name: Annotated[str, typer.Argument(help="What the key is for, e.g. 'nightly ASR pipeline'.")],
    tenant: Annotated[str, typer.Option(help="The tenant the key acts for.")],
    role: Annotated[AccessRole, typer.Option(help="admin, qa_lead, reviewer, coach or agent.")] = AccessRole.QA_LEAD,
    head_office: HeadOffice = None,
    branch: Branch = None,
    sub_branch: SubBranch = None,
    team: Team = None,
    agent_id: AgentId = None,
    data_dir: DataDir = None,
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    org = _org(head_office=head_office, branch=branch, sub_branch=sub_branch, team=team, agent_id=agent_id)
    with _account_store(data_dir) as store:
        key_id, key = create_api_key(store, name=name, tenant=tenant, role=role, **org)
    out.print(f"key id {key_id}; send it as the X-API-Key header:\n{key}", soft_wrap=True, markup=False)


@admin.command("list-keys")
def list_keys(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys.")] = None,
    data_dir: DataDir = None,
) -> None:
    """List API keys: id, name, tenant, role, scope, created (never the key)."""
    with _account_store(data_dir) as store:
        keys = list_api_keys(store, tenant=tenant)
    if not keys:
        out.print("no API keys")
        return
    lines = ["id\tname\ttenant\trole\tscope\tcreated"]  # tab-separated: readable, and easy to cut/awk
    for k in keys:
        scope = ",".join(f"{level}={value}" for level, value in k.scope.items()) or "whole tenant"
        lines.append(f"{k.id}\t{k.name}\t{k.tenant}\t{k.role}\t{scope}\t{k.created_at:%Y-%m-%d %H:%M}")
    out.print("\n".join(lines), soft_wrap=True, markup=False, highlight=False)


@admin.command("revoke-key")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key id (k_…) from list-keys.")], data_dir: DataDir = None
) -> None:
    """Revoke an API key: it stops authenticating at once."""
    with _account_store(data_dir) as store:
        if not revoke_api_key(store, key_id):
            _fail(f"no API key {key_id!r}")
    out.print(f"key {key_id} revoked", markup=False)


@admin.command("create-user")
def create_user_command(
    username: Annotated[str, typer.Argument()],
    tenant: Annotated[str, typer.Option()],
    role: Annotated[AccessRole, typer.Option()] = AccessRole.QA_LEAD,
    head_office: HeadOffice = None,
    branch: Branch = None,
    sub_branch: SubBranch = None,
    team: Team = None,
    agent_id: AgentId = None,
    password_stdin: PasswordStdin = False,
    data_dir: DataDir = None,
) -> None:
    """Create a user (password asked on the terminal); they sign in at POST /auth/token."""
    org = _org(head_office=head_office, branch=branch, sub_branch=sub_branch, team=team, agent_id=agent_id)
    password = _read_password(password_stdin)
    with _account_store(data_dir) as store:
        create_user(store, username=username, password=password, tenant=tenant, role=role, **org)
    out.print(f"user {username} created", markup=False)


@admin.command("delete-user")
def delete_user_command(username: Annotated[str, typer.Argument()], data_dir: DataDir = None) -> None:
    """Delete a user; tokens already issued to them stop working."""
    with _account_store(data_dir) as store:
        if not delete_user(store, username):
            _fail(f"no user {username!r}")
    out.print(f"user {username} deleted", markup=False)


@admin.command("set-password")
def set_password_command(
    username: Annotated[str, typer.Argument()], password_stdin: PasswordStdin = False, data_dir: DataDir = None
) -> None:
    """Change a user's password (asked on the terminal)."""
    password = _read_password(password_stdin)
    with _account_store(data_dir) as store:
        if not set_password(store, username, password):
            _fail(f"no user {username!r}")
    out.print(f"password of {username} changed", markup=False)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    data_dir: Annotated[Path | None, typer.Option(help="Data folder.")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=0, help="Processes that evaluate (0: one per CPU core; 1: the server process evaluates itself)."
        ),
    ] = 0,
) -> None:
    """Run the HTTP API (uvicorn) with its job workers; evaluations are spread over worker processes."""
    import os

    import uvicorn

    from api.app import configure_logging, create_app

    configure_logging()
    settings = _settings(data_dir)
    try:
        check_database_url(settings.resolved_database_url, settings.data_dir)
    except ZhijianError as exc:
        _fail(str(exc))
    processes = workers or len(os.sched_getaffinity(0))  # the cores this process may use (containers: fewer)
    uvicorn.run(create_app(settings, evaluator_processes=processes), host=host, port=port, log_level="warning")
