"""The answer the model must give: one JSON object, a judgement per rule, evidence as an enum of line ids.

The schema is a pydantic model built per request (the rule ids and the window's line ids are its enums), so
the same class gives the JSON schema sent to the endpoint (llama.cpp grammar, OpenAI-style structured output)
and validates what comes back. A constrained small model can only quote lines that exist.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

VerdictLabel = Literal["violation", "no_violation", "cannot_tell"]
VERDICTS: tuple[VerdictLabel, ...] = ("violation", "no_violation", "cannot_tell")
ProbabilitySource = Literal["logprobs", "stated"]

_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_VERDICT_KEY = re.compile(r'"verdict"\s*:\s*"')


def line_id(turn: int) -> str:
    """The id a transcript line carries in the prompt (and in the evidence enum)."""
    return f"L{turn}"


class Judgement(BaseModel):
    """One rule's verdict as the judge keeps (and caches) it: evidence as turn indexes, and its probability."""

    verdict: VerdictLabel
    confidence: float = Field(ge=0, le=1, description="The model's stated confidence in its verdict.")
    evidence: list[int] = Field(default_factory=list)
    reason: str = ""
    verdict_probability: float = Field(ge=0, le=1, description="P(this verdict): token logprobs, else stated.")
    probability_source: ProbabilitySource = "stated"

    @property
    def violation_probability(self) -> float | None:
        """P(violation); None when the model could not tell."""
        if self.verdict == "violation":
            return self.verdict_probability
        if self.verdict == "no_violation":
            return round(1 - self.verdict_probability, 6)
        return None


def answer_model(rule_ids: list[str], line_ids: list[str]) -> type[BaseModel]:
    """The pydantic model of one request's answer: {rule id: {evidence, reason, verdict, confidence}}."""
    lines: Any = cast(Any, Literal)[tuple(line_ids)]
    judgement = create_model(
        "RuleJudgement",
        __config__=ConfigDict(extra="forbid"),
        evidence=(
            list[lines],
            Field(max_length=4, description="Ids of the transcript lines that show the verdict, verbatim ids only."),
        ),
        reason=(str, Field(max_length=200, description="One short sentence.")),
        verdict=(VerdictLabel, Field(description="violation | no_violation | cannot_tell")),
        confidence=(float, Field(ge=0, le=1, description="How sure you are of this verdict, 0 to 1.")),
    )
    fields: dict[str, Any] = {f"rule_{i}": (judgement, Field(alias=rule)) for i, rule in enumerate(rule_ids)}
    model: type[BaseModel] = create_model("QaVerdicts", __config__=ConfigDict(extra="forbid"), **fields)
    return model


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of an answer model, as endpoints take it (keys by alias, every key required)."""
    return model.model_json_schema(by_alias=True)


def parse_answer(text: str, model: type[BaseModel], rule_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Rule id → the validated judgement fields; raises ValueError saying what is wrong."""
    match = _JSON_OBJECT.search(text)
    if match is None:
        raise ValueError("no JSON object in the reply")
    try:
        answer = model.model_validate(json.loads(match.group(0)))
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:6])
        raise ValueError(f"JSON does not fit the schema: {problems}") from None
    dumped = answer.model_dump(by_alias=True)
    return {rule: dumped[rule] for rule in rule_ids}


def _label(rest: str) -> VerdictLabel | None:
    """The verdict a token's text (from the value's first character on) starts to spell, if any."""
    if not rest:
        return None
    for label in VERDICTS:
        if label.startswith(rest) or rest.startswith(label):
            return label
    return None


def verdict_distributions(
    content: str, tokens: list[dict[str, Any]], rule_ids: list[str]
) -> dict[str, dict[VerdictLabel, float]]:
    """Rule id → P(verdict) from the token log-probabilities at the first token of each verdict's value.

    The three labels start with different letters, so the token that opens the value decides it; its top
    alternatives are renormalised over the three labels (a grammar-constrained sampler may report
    probabilities before the grammar applied). Rules whose position cannot be found are left out.
    """
    text = "".join(str(t.get("token", "")) for t in tokens)
    base = text.find(content)
    if not content or base < 0:
        return {}
    starts, offset = [], 0
    for t in tokens:
        starts.append(offset)
        offset += len(str(t.get("token", "")))
    found: dict[str, dict[VerdictLabel, float]] = {}
    for rule in rule_ids:
        opening = re.search(re.escape(json.dumps(rule, ensure_ascii=False)) + r"\s*:\s*\{", content)
        key = _VERDICT_KEY.search(content, opening.end()) if opening else None
        if key is None:
            continue
        position = base + key.end()
        spans = [i for i, s in enumerate(starts) if s <= position < s + len(str(tokens[i].get("token", "")))]
        if not spans:
            continue
        index = spans[0]
        token = tokens[index]
        prefix = text[starts[index] : position]
        chosen = _label(str(token.get("token", ""))[len(prefix) :])
        if chosen is None or not token.get("top_logprobs"):
            continue  # no alternatives reported: the token's own probability says nothing about the others
        mass: dict[VerdictLabel, float] = dict.fromkeys(VERDICTS, 0.0)
        seen: set[str] = set()
        for alternative in [*(token.get("top_logprobs") or []), token]:
            spelled = str(alternative.get("token", ""))
            if spelled in seen or not spelled.startswith(prefix):
                continue
            seen.add(spelled)
            label = _label(spelled[len(prefix) :])
            if label is not None:
                mass[label] += math.exp(float(alternative.get("logprob", -math.inf)))
        total = sum(mass.values())
        if total > 0 and mass[chosen] > 0:
            found[rule] = {label: value / total for label, value in mass.items()}
    return found


def logprob_tokens(response_metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """The per-token log-probabilities an OpenAI-style reply carries (ChatOpenAI and our llama.cpp model)."""
    logprobs = response_metadata.get("logprobs")
    if isinstance(logprobs, dict) and isinstance(logprobs.get("content"), list):
        return [t for t in logprobs["content"] if isinstance(t, dict)]
    return []
