"""What the running server holds: settings, store, the evaluator (supervisor → QM graph), the job worker.

Start-up never waits for the regulation corpus: clause citations are resolved in a background thread
(`/readyz` says whether they are ready); until then evaluations carry clause ids with a note. With evaluator
processes (`zhijian serve --workers N`, api/evaluators.py), each builds its own Service and cites from the clause cache
this process writes.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agents.qm.context import QMContext
from core.access import Principal
from core.errors import ZhijianError
from core.models import Conversation
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
    from langgraph.checkpoint.sqlite import SqliteSaver

    from api.evaluators import EvaluatorPool
    from tools.asr import Transcriber
    from tools.regulations import RegulationIndex
    from tools.semantic import SemanticJudge

log = logging.getLogger("zhijian.service")


class UnknownScorecard(ZhijianError):
    """The tenant has no stored scorecard of that name."""


class PrincipalCache:
    """Who an API key or a user is, remembered for `ttl_s` per process (bounded, least recently used out first), so
    a request does not look its credential up in the database each time. A revoked key, a deleted user or a changed
    scope takes effect within `ttl_s`; unknown credentials are never remembered. Keyed by a hash: no secret is kept."""

    def __init__(self, *, ttl_s: float = 5.0, max_entries: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, kind: str, credential: str, lookup: Callable[[], Principal | None]) -> Principal | None:
        """The remembered principal of this credential, else `lookup()` (remembered when found)."""
        key = hashlib.sha256(f"{kind}\0{credential}".encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                return entry[1]
        principal = lookup()
        with self._lock:
            if principal is None:
                self._entries.pop(key, None)
            else:
                self._entries[key] = (now + self.ttl_s, principal)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return principal


@dataclass
class Service:
    settings: Settings
    store: Store
    context: QMContext
    evaluator: Evaluator
    jwt_secret: str
    checkpointer: SqliteSaver | None = None
    judge: SemanticJudge | None = None
    pool: EvaluatorPool | None = None  # evaluator processes, when the server runs with several
    principals: PrincipalCache = field(default_factory=PrincipalCache)
    regulations: RegulationIndex | None = None
    citations_status: str = "disabled"  # disabled | loading | ready | failed: <reason>
    _stopped: threading.Event = field(default_factory=threading.Event)
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
        self._use_clauses(table, index=index)
        log.info("regulation clauses ready", extra={"fields": {"ingest": str(report)}})

    def follow_clause_cache(self, poll_s: float = 0.2) -> None:
        """In an evaluator process: wait until the server process has written the configured pack's clause cache,
        then cite from it (never opening the index, which the server process holds)."""
        from graphs.wiring import citation_cache_path

        self.citations_status = "loading"
        cache = citation_cache_path(self.settings, self.context.scorecard)
        while True:
            try:
                table = CitationTable.load(cache)
            except (OSError, ValueError):  # not written yet
                if self._stopped.wait(poll_s):
                    return
            else:
                break
        self._use_clauses(table, index=None)

    def _use_clauses(self, table: CitationTable, *, index: RegulationIndex | None) -> None:
        with self._lock:
            self.regulations = index
            self._tables[self.context.scorecard.version] = table
            self.context = self.context.replace(citations=table)
            self.evaluator = self.evaluator.with_qm(self.context)
            self._contexts.clear()
        self.citations_status = "ready"

    def _citations_for(self, card: Scorecard) -> CitationTable | None:
        """A scorecard's clauses: resolved from the index (and cached on disk) where it is open, else read from
        that cache (an evaluator process); None while neither is available."""
        table = self._tables.get(card.version)
        if table is not None or not self.settings.citations:
            return table
        from graphs.wiring import citation_cache_path, resolve_citations

        if self.regulations is not None:
            table = resolve_citations(self.settings, card, self.regulations)
        elif self.citations_status == "ready":  # an evaluator process: the server process resolved it first
            cache = citation_cache_path(self.settings, card)
            table = CitationTable.load(cache) if cache.exists() else None
        if table is not None:
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
                if cached is not None and cached.citations is None and (table := self._citations_for(card)):
                    cached = self._contexts[card.version] = cached.replace(citations=table)  # resolved since
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

    def evaluate(
        self,
        tenant: str,
        scorecard: str | None,
        conversation: Conversation,
        *,
        dry_run: bool = False,
        content_hash: str | None = None,
        received: bool = False,
    ) -> dict[str, Any]:
        """Evaluate a conversation (`received`: already fingerprinted and redacted, from the job queue) with the
        tenant's scorecard: in an evaluator process when there are some and they are ready, else here."""
        self.context_for(tenant, scorecard, dry_run=dry_run)  # an unknown scorecard fails here; clauses resolve here
        if self.pool is not None:
            pooled = self.pool.evaluate(
                tenant, scorecard, conversation, dry_run=dry_run, content_hash=content_hash, received=received
            )
            if pooled is not None:
                return pooled
        from api.batch import evaluate_buffered

        assert content_hash is not None or not received, "a received conversation has its fingerprint"
        evaluator = self.evaluator_for(tenant, scorecard, dry_run=dry_run)
        [evaluated] = evaluate_buffered(evaluator, [(conversation, content_hash)], received=received)
        return dict(evaluated)

    def readiness(self) -> dict[str, str]:
        """What /readyz reports beyond the database."""
        card = self.context.scorecard
        if self.pool is None:
            evaluators = "in the server process"
        elif self.pool.status == "ready":
            evaluators = f"{self.pool.processes} processes"
        else:
            evaluators = f"{self.pool.status} (evaluating in the server process meanwhile)"
        return {
            "rule_pack": f"{card.name} {card.version}",
            "citations": self.citations_status,
            "evaluators": evaluators,
        }

    def stop(self) -> None:
        """Stop the evaluator processes and background threads; release the judge, checkpointer and regulation
        index (embedded Qdrant locks its folder)."""
        self._stopped.set()
        if self.pool is not None:
            self.pool.close()
        if self.judge is not None:
            self.judge.close()
        if self.checkpointer is not None:
            self.checkpointer.conn.close()
        if self.regulations is not None:
            self.regulations.client.close()


def build_service(settings: Settings, *, follow_clause_cache: bool = False) -> Service:
    """The service of the server process, or of an evaluator process (`follow_clause_cache`: it cites from the clause
    cache the server process writes instead of opening the regulation index)."""
    from graphs.wiring import build_judge, build_qm_context, load_small_models, open_sqlite_checkpointer, open_store

    store = open_store(settings)
    judge = build_judge(settings, cache=store)
    context = build_qm_context(settings, store=store, judge=judge, small_models=load_small_models(settings))
    checkpointer = open_sqlite_checkpointer(settings.resolved_checkpoint_path)
    service = Service(
        settings=settings,
        store=store,
        context=context,
        evaluator=Evaluator.create(context, checkpointer=checkpointer),
        jwt_secret=jwt_secret(settings),
        checkpointer=checkpointer,
        judge=judge,
    )
    if follow_clause_cache and settings.citations:
        service.citations_status = "loading"
        threading.Thread(target=service.follow_clause_cache, name="clause-cache", daemon=True).start()
    return service


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
