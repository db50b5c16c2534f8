"""What the running server holds: settings, store, the QM graph and context, the job worker."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from agents.qm.context import QMContext
from core.settings import Settings
from core.store import Store
from tools.regulations import RegulationIndex


@dataclass
class Service:
    settings: Settings
    store: Store
    context: QMContext
    dry_context: QMContext
    graph: CompiledStateGraph[Any, Any, Any, Any]
    dry_graph: CompiledStateGraph[Any, Any, Any, Any]
    jwt_secret: str
    regulations: RegulationIndex | None


def jwt_secret(settings: Settings) -> str:
    """The configured secret, else one generated once and kept (0600) in the data folder."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    path = settings.data_dir / "jwt.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()
