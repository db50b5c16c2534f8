"""What the running server holds: settings, store, the evaluator (supervisor → QM graph), the job worker.

Start-up never waits for the regulation corpus: clause citations are resolved in a background thread
(`/readyz` says whether they are ready); until then evaluations carry clause ids with a note.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agents.qm.context import QMContext
from core.errors import ZhijianError
from core.scorecard import Scorecard
from core.scorecards import latest_source
from core.settings import Settings
from core.store import Store
from graphs.supervisor import Evaluator
from knowledge.rulepacks import parse_scorecard
from tools.citations import CitationTable
from tools.rules import RuleEngine
from tools.tickets import TicketPolicy

if TYPE_CHECKING:
    from tools.asr import Transcriber
    from tools.regulations import RegulationIndex

log = logging.getLogger("zhijian.service")


class UnknownScorecard(ZhijianError):
    """The tenant has no stored scorecard of that name."""


@dataclass
class Service:
    settings: Settings
    store: Store
    context: QMContext
    evaluator: Evaluator
    jwt_secret: str
    regulations: RegulationIndex | None = None
    citations_status: str = "disabled"  # disabled | loading | ready | failed: <reason>
    _transcriber: Transcriber | None = None
    _cards: dict[tuple[str, str], tuple[str, Scorecard]] = field(default_factory=dict)  # (tenant, name) → parsed
    _contexts: dict[str, QMContext] = field(default_factory=dict)  # scorecard version → context
    _tables: dict[str, CitationTable] = field(default_factory=dict)  # scorecard version → clauses
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def transcriber(self) -> Transcriber:
        """Created on the first recording (it loads a 360 MB model), then shared."""
        with self._lock:
            if self._transcriber is None:
                from graphs.wiring import build_transcriber

                self._transcriber = build_transcriber(self.settings)
            return self._transcriber

    # ── regulation clauses, in the background ────────────────────────────────────────────────────

    def load_regulations(self) -> None:
        """Open (and if needed ingest) the regulation index and resolve the configured pack's clauses.
        Runs in a background thread at start-up; failures are reported by /readyz, never fatal."""
        from graphs.wiring import open_regulation_index, resolve_citations

        self.citations_status = "loading"
        try:
            index, report = open_regulation_index(self.settings)
            table = resolve_citations(self.settings, self.context.scorecard, index)
        except Exception as exc:  # the service keeps evaluating without clause texts
            log.exception("regulation index unavailable")
            self.citations_status = f"failed: {type(exc).__name__}: {exc}"
            return
        with self._lock:
            self.regulations = index
            self._tables[self.context.scorecard.version] = table
            self.context = self.context.replace(citations=table)
            self.evaluator = self.evaluator.with_qm(self.context)
            self._contexts.clear()
        self.citations_status = "ready"
        log.info("regulation clauses ready", extra={"fields": {"ingest": str(report)}})

    def _citations_for(self, card: Scorecard) -> CitationTable | None:
        if self.regulations is None:
            return None
        table = self._tables.get(card.version)
        if table is None:
            from graphs.wiring import resolve_citations

            table = resolve_citations(self.settings, card, self.regulations)
            self._tables[card.version] = table
        return table

    # ── scorecards and evaluators ────────────────────────────────────────────────────────────────

    def scorecard(self, tenant: str, name: str) -> Scorecard:
        """The tenant's latest version of a stored scorecard, parsed once per version."""
        source = latest_source(self.store, tenant=tenant, name=name)
        if source is None:
            raise UnknownScorecard(f"no scorecard {name!r} for tenant {tenant!r}")
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
        cached = self._cards.get((tenant, name))
        if cached is not None and cached[0] == digest:
            return cached[1]
        card = parse_scorecard(source, source=f"scorecard {name}")
        self._cards[(tenant, name)] = (digest, card)
        return card

    def context_for(self, tenant: str, scorecard: str | None, *, dry_run: bool = False) -> QMContext:
        """The QM context of the tenant's latest version of a stored scorecard (None: the configured pack)."""
        if scorecard is None:
            context = self.context
        else:
            card = self.scorecard(tenant, scorecard)
            with self._lock:
                cached = self._contexts.get(card.version)
                if cached is None:
                    cached = self.context.replace(
                        scorecard=card,
                        engine=RuleEngine(
                            card, self.context.engine.scorer, max_turn_chars=self.settings.max_turn_chars
                        ),
                        ticket_policy=TicketPolicy(card.thresholds, self.context.ticket_policy.due_days),
                        citations=self._citations_for(card),
                    )
                    self._contexts[card.version] = cached
                context = cached
        return context.replace(store=None) if dry_run else context

    def evaluator_for(self, tenant: str, scorecard: str | None, *, dry_run: bool = False) -> Evaluator:
        """The supervisor with the QM context of this request."""
        return self.evaluator.with_qm(self.context_for(tenant, scorecard, dry_run=dry_run))

    def readiness(self) -> dict[str, str]:
        """What /readyz reports beyond the database."""
        card = self.context.scorecard
        return {"rule_pack": f"{card.name} {card.version}", "citations": self.citations_status}


def jwt_secret(settings: Settings) -> str:
    """The configured secret, else one generated once and kept (0600) in the data folder."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    path = settings.data_dir / "jwt.secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
    path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()
