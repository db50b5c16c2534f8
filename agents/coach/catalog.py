"""The coach's catalogue (catalog.yaml): scenario defaults, hidden objections per weakness, hints, and the
patterns that tell an in-character customer line from the agent's voice."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.yamldoc import load_yaml

CATALOG_PATH = Path(__file__).resolve().parent / "catalog.yaml"
Language = Literal["zh", "en"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Texts(_Spec):
    zh: str
    en: str

    def pick(self, language: Language) -> str:
        return self.zh if language == "zh" else self.en


class TextLists(_Spec):
    zh: list[str] = Field(min_length=1)
    en: list[str] = Field(min_length=1)

    def pick(self, language: Language) -> list[str]:
        return self.zh if language == "zh" else self.en


class PersonaTraits(_Spec):
    age: int | None = None
    occupation: Texts | None = None
    risk_tolerance: Literal["low", "medium", "high"] | None = None
    liquidity_need: Texts | None = None
    mood: Literal["calm", "anxious", "upset"] | None = None


class ScenarioDefaults(_Spec):
    goal: Texts
    persona: PersonaTraits
    opening: TextLists


class Objection(_Spec):
    id: str
    codes: list[str] = Field(min_length=1)
    rules: list[str] = Field(min_length=1)
    concern: Texts
    patterns: list[str] = Field(min_length=1)
    variants: TextLists
    press: TextLists
    persona: PersonaTraits = PersonaTraits()
    mood: Literal["calm", "anxious", "upset"] | None = None
    times: int = Field(default=1, ge=1, le=3)

    def raised_by(self, line: str) -> bool:
        """Whether a customer line raises this objection."""
        return any(re.search(p, line, re.IGNORECASE) for p in self.patterns)


class Catalog(_Spec):
    version: str
    scenarios: dict[str, ScenarioDefaults]
    closing: TextLists
    objections: list[Objection]
    hints: dict[str, Texts]
    praise: Texts
    agent_voice: TextLists

    def objection(self, objection_id: str) -> Objection:
        for o in self.objections:
            if o.id == objection_id:
                return o
        raise KeyError(f"no objection {objection_id!r} in the coach catalogue")

    def defaults(self, scenario: str) -> ScenarioDefaults:
        return self.scenarios.get(scenario) or self.scenarios["service"]

    def hint(self, code: str, language: Language) -> str | None:
        text = self.hints.get(code)
        return text.pick(language) if text else None

    def sounds_like_agent(self, line: str, language: Language) -> str | None:
        """The agent-voice pattern a line matches (None: it sounds like a customer)."""
        for pattern in self.agent_voice.pick(language):
            if re.search(pattern, line, re.IGNORECASE):
                return pattern
        return None


@cache
def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    """The coach catalogue, validated (a bad entry is an error naming the field)."""
    return Catalog.model_validate(load_yaml(path.read_text(encoding="utf-8"), packaged=path == CATALOG_PATH))
