"""Tier 0: deterministic rule checks over a conversation."""

from tools.rules.engine import RuleEngine

__all__ = ["RuleEngine"]
