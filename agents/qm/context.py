"""What a QM run needs, chosen by the caller from settings and passed per run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from core.scorecard import Scorecard
from core.store import Store, utc_now
from tools.regulations import RegulationIndex
from tools.rules import RuleEngine
from tools.semantic import SemanticJudge
from tools.tickets import TicketPolicy


@dataclass(frozen=True)
class QMContext:
    """Runtime choices of one QM run; ``store=None`` evaluates without storing anything (dry run)."""

    scorecard: Scorecard
    engine: RuleEngine
    ticket_policy: TicketPolicy
    store: Store | None = None
    regulations: RegulationIndex | None = None  # None: findings keep their clause ids but no clause text
    judge: SemanticJudge | None = None  # None: semantic rules are reported not_evaluated
    clock: Callable[[], datetime] = field(default=utc_now)
