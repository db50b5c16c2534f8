"""What an insight run needs, chosen by the caller and passed per run (never read from the environment)."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.language_models.chat_models import BaseChatModel

from core.access import Principal
from tools.insight.toolkit import InsightToolkit


@dataclass(frozen=True)
class InsightContext:
    """The analyses, the caller (whose scope every tool applies), and the chat model (None: the deterministic
    planner answers)."""

    toolkit: InsightToolkit
    principal: Principal
    model: BaseChatModel | None = None
    prompt_language: str = "zh"
    thread_id: str | None = None
    max_steps: int = 5
