"""What the running server holds: settings, store, the QM graph and context, the job worker."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from langgraph.graph.state import CompiledStateGraph

from agents.qm.context import QMContext
from core.errors import ZhijianError
from core.scorecards import latest_source
from core.settings import Settings
from core.store import Store
from knowledge.rulepacks import parse_scorecard
from tools.asr import Transcriber
from tools.regulations import RegulationIndex
from tools.rules import RuleEngine
from tools.tickets import TicketPolicy


class UnknownScorecard(ZhijianError):
    """The tenant has no stored scorecard of that name."""


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
    _transcriber: Transcriber | None = None
    _contexts: dict[tuple[str, str], QMContext] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def transcriber(self) -> Transcriber:
        """Created on the first recording (it loads a 360 MB model), then shared."""
        with self._lock:
            if self._transcriber is None:
                from graphs.wiring import build_transcriber

                self._transcriber = build_transcriber(self.settings)
            return self._transcriber

    def context_for(self, tenant: str, scorecard: str | None, *, dry_run: bool = False) -> QMContext:
        """The QM context of the tenant's latest version of a stored scorecard (None: the configured pack)."""
        if scorecard is None:
            return self.dry_context if dry_run else self.context
        source = latest_source(self.store, tenant=tenant, name=scorecard)
        if source is None:
            raise UnknownScorecard(f"no scorecard {scorecard!r} for tenant {tenant!r}")
        card = parse_scorecard(source, source=f"scorecard {scorecard}")
        with self._lock:
            context = self._contexts.get((tenant, card.version))
            if context is None:
                context = QMContext(
                    **{
                        **self.context.__dict__,
                        "scorecard": card,
                        "engine": RuleEngine(card, self.context.engine.scorer),
                        "ticket_policy": TicketPolicy(card.thresholds, self.context.ticket_policy.due_days),
                    }
                )
                self._contexts[(tenant, card.version)] = context
        return QMContext(**{**context.__dict__, "store": None}) if dry_run else context


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
