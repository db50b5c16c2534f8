"""Fixtures of the rule-tier tests (a module that defines its own `engine` uses that one)."""

from __future__ import annotations

import pytest

from tests.tools.rule_cases import packaged_engine
from tools.rules import RuleEngine


@pytest.fixture(scope="module")
def engine() -> RuleEngine:
    """The packaged pack's rule engine."""
    return packaged_engine()
