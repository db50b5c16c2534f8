"""What a practice session needs, chosen by the caller from settings and passed per run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from langchain_core.language_models.chat_models import BaseChatModel

from agents.coach.catalog import Catalog, load_catalog
from agents.qm.context import SmallModels
from core.scorecard import Scorecard
from core.store import Store, utc_now
from prompts import Prompt
from tools.coaching.pool import PoolProvider
from tools.rules import RuleEngine
from tools.semantic import SemanticJudge


@dataclass(frozen=True)
class CoachContext:
    """Runtime choices of the coach flow: the same scorecard and tiers as real calls, the customer pool and,
    optionally, a chat model that plays the customer."""

    scorecard: Scorecard
    engine: RuleEngine
    store: Store
    pools: PoolProvider
    catalog: Catalog = field(default_factory=load_catalog)
    customer_model: BaseChatModel | None = None  # None: the retrieval customer alone
    persona_prompts: dict[str, Prompt] = field(default_factory=dict)  # language → prompts/coach/persona
    small_models: SmallModels | None = None  # None: tier 0 (and the LLM tier when configured)
    judge: SemanticJudge | None = None  # None: semantic rules are reported not_evaluated
    clock: Callable[[], datetime] = field(default=utc_now)

    @property
    def tiers(self) -> str:
        """Which tiers score the replies, in words for the debrief's notes."""
        tiers = ["rules"] + (["small_model"] if self.small_models else []) + (["llm"] if self.judge else [])
        return "+".join(tiers)
