"""What a QM run needs, chosen by the caller from settings and passed per run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from core.db import utc_now
from core.models import Conversation, Finding
from core.scorecard import Scorecard
from core.store import Store
from tools.citations import CitationTable
from tools.rules import RuleEngine
from tools.tickets import TicketPolicy

if TYPE_CHECKING:  # the LLM client stack is imported only when an LLM is configured
    from tools.semantic import SemanticJudge


class SmallModels(Protocol):
    """Tier 1 (tools.small_model.SmallModelTier): classifiers that add paraphrased violations and veto
    rule hits they are confident are not violations."""

    @property
    def model_name(self) -> str: ...

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

    @property
    def verdict_version(self) -> str:
        """Everything that decides a verdict: the rule pack's version (its text and lexicons), the tier-1 model's,
        and the LLM's model, prompt and thresholds. Stored evaluations are reused only under the same one."""
        parts = [self.scorecard.version]
        if self.small_models is not None:
            parts.append(self.small_models.model_name)
        if self.judge is not None:
            parts.append(f"llm.{self.judge.model_name}.{self.judge.version}")
        return "+".join(parts)

    def replace(self, **changes: object) -> QMContext:
        """A copy with some choices changed (e.g. no store for a dry run, another scorecard)."""
        return QMContext(**{**self.__dict__, **changes})
