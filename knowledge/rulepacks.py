"""Loading rule packs (YAML) into validated Scorecards."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import ValidationError

from core.errors import RulePackError
from core.models import Channel, Conversation
from core.scorecard import Rule, RuleExample, Scorecard
from tools.transcripts import describe_validation_error, parse_plain_transcript


def parse_scorecard(text: str, *, source: str = "<rule pack>") -> Scorecard:
    """Validate rule-pack YAML; the version gets a content hash, so an edit never passes for the old pack."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulePackError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise RulePackError(f"{source}: a rule pack is a mapping with name, version, dimensions and rules")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    document["version"] = f"{document.get('version', '0')}+{digest}"
    try:
        return Scorecard.model_validate(document)
    except ValidationError as exc:
        raise RulePackError(f"{source}: {_name_rules(exc, document)}") from None


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
    return parse_scorecard(text, source=str(path))


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
    )
