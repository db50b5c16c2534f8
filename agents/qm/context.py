"""What a QM run needs, chosen by the caller from settings and passed per run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from core.db import utc_now
from core.models import Conversation, Finding
from core.scorecard import Scorecard
from core.store import Store
from tools.citations import CitationTable
from tools.rules import RuleEngine
from tools.semantic import SemanticJudge
from tools.tickets import TicketPolicy


class SmallModels(Protocol):
    """Tier 1 (tools.small_model.SmallModelTier): classifiers that add paraphrased violations and veto
    rule hits they are confident are not violations."""

    def apply(self, conversation: Conversation, findings: list[Finding], scorecard: Scorecard) -> list[Finding]: ...


@dataclass(frozen=True)
class QMContext:
    """Runtime choices of one QM run; ``store=None`` evaluates without storing anything (dry run)."""

    scorecard: Scorecard
    engine: RuleEngine
    ticket_policy: TicketPolicy
    store: Store | None = None
    citations: CitationTable | None = None  # None: findings keep their clause ids but no clause text
    small_models: SmallModels | None = None  # None: tier 0 alone (and the LLM tier when configured)
    judge: SemanticJudge | None = None  # None: semantic rules are reported not_evaluated
    clock: Callable[[], datetime] = field(default=utc_now)

    def replace(self, **changes: object) -> QMContext:
        """A copy with some choices changed (e.g. no store for a dry run, another scorecard)."""
        return QMContext(**{**self.__dict__, **changes})  # type: ignore[arg-type]
