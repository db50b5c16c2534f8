"""Scenario builder: from an agent's weak rules (or a coach's choice of rules or codes) to a customer persona,
goal, hidden objections that test those rules, the target rules and a difficulty."""

from __future__ import annotations

from collections.abc import Sequence

from agents.coach.catalog import Catalog, Language, Objection, PersonaTraits
from agents.coach.models import Difficulty, HiddenObjection, Mood, Persona, Scenario
from core.errors import ZhijianError
from core.scorecard import Rule, Scorecard
from tools.coaching.models import WeaknessProfile

MAX_OBJECTIONS = 3


class ScenarioError(ZhijianError):
    """No scenario can be built from what was asked (unknown rule or code, nothing to practise)."""


def _objection_for(rule: Rule, catalog: Catalog) -> Objection | None:
    by_rule = [o for o in catalog.objections if rule.id in o.rules]
    by_code = [o for o in catalog.objections if rule.code in o.codes]
    found = by_rule or by_code
    return found[0] if found else None


def _requested_rules(
    scorecard: Scorecard, profile: WeaknessProfile, rules: Sequence[str], codes: Sequence[str]
) -> list[Rule]:
    known = {r.id: r for r in scorecard.rules}
    unknown = [r for r in rules if r not in known]
    if unknown:
        raise ScenarioError(f"unknown rule(s) {', '.join(unknown)} in scorecard {scorecard.name}")
    chosen = [known[r] for r in rules]
    weak = {w.rule_id for w in profile.weaknesses}
    for code in codes:
        of_code = [r for r in scorecard.rules if r.code == code]
        if not of_code:
            raise ScenarioError(f"no rule of code {code!r} in scorecard {scorecard.name}")
        # The agent's own failures of that code first; else every rule of the code.
        chosen += [r for r in of_code if r.id in weak] or of_code
    return list({r.id: r for r in chosen}.values())


def _weak_rules(scorecard: Scorecard, profile: WeaknessProfile, catalog: Catalog) -> list[Rule]:
    known = {r.id: r for r in scorecard.rules}
    rules = [known[w.rule_id] for w in profile.weaknesses if w.rule_id in known]
    practisable = [r for r in rules if _objection_for(r, catalog) is not None]
    if not practisable:
        raise ScenarioError(
            f"agent {profile.agent.agent_id} has no failed rule to practise in {profile.evaluations} evaluated "
            "calls; choose rules or codes (--rule/--code)"
        )
    return practisable


def _business_scenario(targets: list[Rule], profile: WeaknessProfile, catalog: Catalog) -> str:
    def fit(scenario: str) -> tuple[int, int]:
        applies = sum(1 for r in targets if not r.scenarios or scenario in r.scenarios)
        return applies, profile.scenarios.get(scenario, 0)

    return max(catalog.scenarios, key=fit)


def _persona(defaults: PersonaTraits, traits: list[PersonaTraits], moods: list[str], language: Language) -> Persona:
    """The scenario's default customer, overridden by what the objections need (the first objection wins)."""
    layers = [*traits, defaults]
    age = next((t.age for t in layers if t.age is not None), 45)
    occupation = next((t.occupation.pick(language) for t in layers if t.occupation is not None), "")
    risk = next((t.risk_tolerance for t in layers if t.risk_tolerance is not None), "medium")
    need = next((t.liquidity_need.pick(language) for t in layers if t.liquidity_need is not None), "")
    mood = Mood.UPSET if "upset" in moods else Mood(next((t.mood for t in layers if t.mood is not None), "calm"))
    return Persona(age=age, occupation=occupation, risk_tolerance=risk, liquidity_need=need, mood=mood)


def _difficulty(objections: list[HiddenObjection], mood: Mood) -> Difficulty:
    load = sum(o.times for o in objections) + (1 if mood is Mood.UPSET else 0)
    if load <= 1:
        return Difficulty.EASY
    return Difficulty.MEDIUM if load <= 3 else Difficulty.HARD


def build_scenario(
    profile: WeaknessProfile,
    scorecard: Scorecard,
    catalog: Catalog,
    *,
    rules: Sequence[str] = (),
    codes: Sequence[str] = (),
    language: Language = "zh",
) -> Scenario:
    """A scenario whose hidden objections test the requested rules, else the agent's weakest rules."""
    chosen = bool(rules or codes)
    candidates = (
        _requested_rules(scorecard, profile, rules, codes) if chosen else _weak_rules(scorecard, profile, catalog)
    )
    objections: list[Objection] = []
    targets: list[Rule] = []
    for rule in candidates:
        objection = _objection_for(rule, catalog)
        if objection is None:
            continue
        if objection not in objections:
            if len(objections) >= MAX_OBJECTIONS:
                continue
            objections.append(objection)
        targets.append(rule)
    if not targets:
        raise ScenarioError(f"no practice objection covers {', '.join(r.id for r in candidates)}")
    business = _business_scenario(targets, profile, catalog)
    defaults = catalog.defaults(business)
    hidden = [
        HiddenObjection(
            id=o.id,
            concern=o.concern.pick(language),
            rules=[r.id for r in targets if _objection_for(r, catalog) == o],
            times=o.times,
        )
        for o in objections
    ]
    persona = _persona(defaults.persona, [o.persona for o in objections], [o.mood or "" for o in objections], language)
    weak = {w.rule_id: w for w in profile.weaknesses}
    if chosen:
        rationale = (
            f"coach's choice: {', '.join(rules) or ''}{' ' if rules and codes else ''}{', '.join(codes)}".strip()
        )
    else:
        rationale = "; ".join(
            f"{r.id} ({r.code}) failed in {weak[r.id].failed}/{weak[r.id].applicable} calls"
            for r in targets
            if r.id in weak
        )
    return Scenario(
        business_scenario=business,
        persona=persona,
        goal=defaults.goal.pick(language),
        objections=hidden,
        target_rules=[r.id for r in targets],
        target_codes=list(dict.fromkeys(r.code for r in targets)),
        difficulty=_difficulty(hidden, persona.mood),
        language=language,
        rationale=rationale,
    )
