"""`zhijian serve` and `zhijian admin …`: run the HTTP API, create API keys and users."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from api.render import console
from core.access import AccessRole
from core.accounts import create_api_key, create_user
from core.settings import Settings
from core.store import Store

admin = typer.Typer(help="Accounts: API keys for pipelines, users for people.", no_args_is_help=True)
out = console()


def _store(data_dir: Path | None) -> Store:
    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    return Store.from_url(settings.resolved_database_url)


@admin.command("create-key")
def create_key(
    name: Annotated[str, typer.Argument(help="What the key is for, e.g. 'nightly ASR pipeline'.")],
    tenant: Annotated[str, typer.Option(help="The tenant the key acts for.")],
    role: Annotated[AccessRole, typer.Option(help="admin, qa_lead, reviewer, coach or agent.")] = AccessRole.QA_LEAD,
    branch: Annotated[str | None, typer.Option(help="Limit to this branch.")] = None,
    sub_branch: Annotated[str | None, typer.Option(help="Limit to this sub-branch.")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Data folder.")] = None,
) -> None:
    """Create an API key; it is printed once and stored only as a hash."""
    key_id, key = create_api_key(
        _store(data_dir), name=name, tenant=tenant, role=role, branch=branch, sub_branch=sub_branch
    )
    out.print(f"key id {key_id}; send it as the X-API-Key header:\n{key}", soft_wrap=True)


@admin.command("create-user")
def create_user_command(
    username: Annotated[str, typer.Argument()],
    tenant: Annotated[str, typer.Option()],
    role: Annotated[AccessRole, typer.Option()] = AccessRole.QA_LEAD,
    branch: Annotated[str | None, typer.Option()] = None,
    agent_id: Annotated[str | None, typer.Option(help="For role agent: their agent id.")] = None,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Create a user (password asked on the terminal); they sign in at POST /auth/token."""
    password = getpass.getpass("password: ")
    if len(password) < 10:
        raise typer.BadParameter("use at least 10 characters")
    create_user(
        _store(data_dir),
        username=username,
        password=password,
        tenant=tenant,
        role=role,
        branch=branch,
        agent_id=agent_id,
    )
    out.print(f"user {username} created")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    data_dir: Annotated[Path | None, typer.Option(help="Data folder.")] = None,
) -> None:
    """Run the HTTP API (uvicorn) with its job workers."""
    import uvicorn

    from api.app import configure_logging, create_app

    configure_logging()
    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
