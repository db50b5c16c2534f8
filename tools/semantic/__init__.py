"""Tier 2: semantic checks by a language model — one structured request per conversation (or window), evidence
as line ids, per-rule probability thresholds, injection-safe, cached.

The public entry is `SemanticJudge.judge(conversation, requests) -> (findings by rule id, LlmUsage)`.
"""

from tools.semantic.answer import Judgement, answer_model, verdict_distributions
from tools.semantic.guard import addresses_the_judge, fence, injection_turns
from tools.semantic.judge import JudgeRequest, MemoryVerdictCache, Observer, Purpose, SemanticJudge, VerdictCache
from tools.semantic.thresholds import (
    PACKAGED_THRESHOLDS,
    LearnedFrom,
    LlmThresholds,
    Observation,
    RuleThreshold,
    learn_thresholds,
    load_thresholds,
)
from tools.semantic.windows import Window, plan_windows, select_window

__all__ = [
    "PACKAGED_THRESHOLDS",
    "JudgeRequest",
    "Judgement",
    "LearnedFrom",
    "LlmThresholds",
    "MemoryVerdictCache",
    "Observation",
    "Observer",
    "Purpose",
    "RuleThreshold",
    "SemanticJudge",
    "VerdictCache",
    "Window",
    "addresses_the_judge",
    "answer_model",
    "fence",
    "injection_turns",
    "learn_thresholds",
    "load_thresholds",
    "plan_windows",
    "select_window",
    "verdict_distributions",
]
