"""Loading rule packs (YAML) into validated Scorecards."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import ValidationError

from core.errors import RulePackError
from core.models import Channel, Conversation, Verdict
from core.scorecard import Rule, RuleExample, Scorecard
from core.settings import PACKAGED_RULE_PACK
from core.yamldoc import load_yaml
from tools.transcripts import describe_validation_error, parse_plain_transcript

if TYPE_CHECKING:
    from tools.rules import RuleEngine
    from tools.sentiment import DistressScorer

LEXICONS = Path(__file__).resolve().parent / "lexicons"
# Bumped whenever the rule engine's own logic changes how a verdict is reached.
# 11: speech rate in spoken units (an English word is one, not its letters); 10: an alternative inside a yes/no
# question is asked too ("有没有…，或者说…？").
ENGINE_LOGIC_VERSION = "11"  # 9: "说了"/"能"/"系" as yes-answers; 8: same-turn order; 7: parting shots (distress)


@lru_cache(maxsize=1)
def logic_fingerprint() -> bytes:
    """Everything besides the pack text that decides a verdict: the lexicons and check defaults, the engine logic."""
    digest = hashlib.sha256(f"engine:{ENGINE_LOGIC_VERSION}".encode())
    for path in sorted(LEXICONS.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            digest.update(b"\x1f" + path.name.encode("utf-8") + b"\x1e" + path.read_bytes())
    return digest.digest()


def parse_scorecard(
    text: str, *, source: str = "<rule pack>", verify: bool = False, packaged: bool = False
) -> Scorecard:
    """Validate rule-pack YAML; the version gets a hash of the pack and of the lexicons and engine logic it is run
    with, so neither an edit nor a changed lexicon ever passes for the old pack. With ``verify`` every rule example
    is run and a pack whose examples do not reach their stated verdicts is rejected. ``packaged``: the pack shipped
    with the product (read with the faster loader, see core/yamldoc.py); anything else may be hostile.
    """
    try:
        document = load_yaml(text, packaged=packaged)
    except yaml.YAMLError as exc:
        raise RulePackError(f"{source}: not valid YAML: {exc}") from None
    except RecursionError:
        raise RulePackError(f"{source}: the YAML is nested too deeply") from None
    if not isinstance(document, dict):
        raise RulePackError(f"{source}: a rule pack is a mapping with name, version, dimensions and rules")
    digest = hashlib.sha256(text.encode("utf-8") + logic_fingerprint()).hexdigest()[:8]
    document["version"] = f"{document.get('version', '0')}+{digest}"
    try:
        card = Scorecard.model_validate(document)
    except ValidationError as exc:
        raise RulePackError(f"{source}: {_name_rules(exc, document)}") from None
    if verify and (failures := verify_examples(card)):
        shown = "; ".join(failures[:10]) + (f"; and {len(failures) - 10} more" if len(failures) > 10 else "")
        raise RulePackError(f"{source}: {len(failures)} rule example(s) do not reach their stated verdict: {shown}")
    return card


def verify_examples(card: Scorecard, engine: RuleEngine | None = None) -> list[str]:
    """Run every rule's examples; one message per example whose verdict differs from the one it states.

    A semantic rule cannot be judged without the LLM tier, so its failing examples must at least reach the LLM
    (verdict not_evaluated, not not_applicable) and none of its examples may fail on rules alone.
    """
    from tools.redact import redact_conversation  # imported here: redaction and the engine load models and data
    from tools.rules import RuleEngine

    if engine is None or engine.scorecard is not card:
        engine = RuleEngine(card, engine.scorer if engine is not None else _shared_scorer())
    failures = []
    for rule in card.rules:
        for number, example in enumerate(rule.examples):
            conversation, _ = redact_conversation(example_conversation(rule, example, number))  # as in the real flow
            prepared, _ = engine.prepare(conversation)
            finding = engine.evaluate_rule(rule, prepared)
            if rule.check.type == "semantic":
                wanted = {Verdict.NOT_EVALUATED} if example.expect is Verdict.FAIL else set(Verdict) - {Verdict.FAIL}
            else:
                wanted = {example.expect}
            if finding.verdict not in wanted:
                expected = "/".join(sorted(v.value for v in wanted))
                first_line = example.transcript.strip().splitlines()[0][:40]
                failures.append(
                    f"rule {rule.id} example {number + 1} ({first_line}…): expected {expected}, "
                    f"got {finding.verdict.value} — {finding.explanation}"
                )
    return failures


@lru_cache(maxsize=1)
def _shared_scorer() -> DistressScorer:
    from tools.sentiment import DistressScorer

    return DistressScorer()


def _name_rules(exc: ValidationError, document: dict[str, object]) -> str:
    """Like describe_validation_error, but 'rules.7' is shown with that rule's id."""
    rules = document.get("rules") if isinstance(document.get("rules"), list) else []
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        if len(loc) >= 2 and loc[0] == "rules" and loc[1].isdigit() and isinstance(rules, list):
            rule = rules[int(loc[1])] if int(loc[1]) < len(rules) else None
            if isinstance(rule, dict) and "id" in rule:
                loc[1] = f"{loc[1]}({rule['id']})"
        parts.append(f"{'.'.join(loc) or '(pack)'}: {err['msg']}")
    return "; ".join(parts) or describe_validation_error(exc)


def load_scorecard(path: Path) -> Scorecard:
    """Read and validate a rule pack file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulePackError(f"{path}: cannot read rule pack: {exc.strerror}") from None
    return parse_scorecard(text, source=str(path), packaged=path.resolve() == PACKAGED_RULE_PACK.resolve())


def example_conversation(rule: Rule, example: RuleExample, number: int) -> Conversation:
    """A rule example as a conversation, in the rule's first scenario unless the example names one."""
    scenario = example.scenario or (rule.scenarios[0] if rule.scenarios else None)
    channel = example.channel or (rule.channels[0] if rule.channels else Channel.PHONE)
    return parse_plain_transcript(
        example.transcript,
        conversation_id=f"{rule.id}-example-{number}",
        source=f"{rule.id} example {number}",
        scenario=scenario,
        channel=channel,
        **({"outcome": {"csat": example.csat}} if example.csat is not None else {}),
    )
