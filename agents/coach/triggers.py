"""What in a customer's line makes a rule apply, and what a customer line must avoid to stay neutral —
both read from the scorecard itself, so objections always exercise the rules they are meant to test."""

from __future__ import annotations

from collections.abc import Iterable

from core.models import Role
from core.scorecard import ForbiddenCheck, Matcher, Rule, Scorecard


def _customer_side(matcher: Matcher | None) -> list[str]:
    if matcher is None or matcher.role not in (Role.CUSTOMER, None):
        return []
    return list(matcher.patterns)


def customer_triggers(rules: Iterable[Rule]) -> tuple[str, ...]:
    """Patterns of the customer turns that make these rules apply (their `when` or `window.after`)."""
    found: list[str] = []
    for rule in rules:
        check = rule.check
        found += _customer_side(getattr(check, "when", None))
        window = getattr(check, "window", None)
        if window is not None:
            found += _customer_side(window.after)
    return tuple(dict.fromkeys(found))


def customer_complaints(scorecard: Scorecard) -> tuple[str, ...]:
    """What customers say when a call goes wrong (restated needs, escalation, dissatisfaction): rules whose
    forbidden patterns are the customer's words."""
    found: list[str] = []
    for rule in scorecard.rules:
        if isinstance(rule.check, ForbiddenCheck) and rule.check.role is Role.CUSTOMER:
            found += rule.check.patterns
    return tuple(dict.fromkeys(found))
