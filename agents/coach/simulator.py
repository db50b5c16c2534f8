"""The customer simulator. With a chat model: the model plays the persona from prompts/coach/persona.*.md and a
check refuses lines in the agent's voice. Without one (or when refused): real customer turns retrieved from the
pool by similarity to the agent's last reply within the scenario and the current objection. The persona state
machine says what each line must do; no line is said twice in a session.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from rapidfuzz import fuzz

from agents.coach.catalog import Catalog, Objection
from agents.coach.models import PracticeTurn, Scenario, TurnIntent
from prompts import Prompt
from tools.coaching.models import CustomerLine
from tools.coaching.pool import CustomerTurnPool, VectorCache

TOP_K = 3
MAX_LLM_LINE = 200
ECHO_SIMILARITY = 80  # a "customer" line this close to the agent's reply is the model echoing the agent


def normalise(line: str) -> str:
    """The form compared for repeats: no spaces or punctuation, lower case."""
    return re.sub(r"[\s，,。.！!？?、；;：:…~\"'“”‘’]+", "", line).lower()


@dataclass(frozen=True)
class Situation:
    """Everything a customer line depends on."""

    scenario: Scenario
    intent: TurnIntent
    objection: Objection | None
    agent_reply: str | None
    transcript: list[PracticeTurn]
    used: frozenset[str]  # normalised lines already said
    seed: str
    triggers: tuple[str, ...] = ()  # an objection line must also set off one of its target rules (if any)
    avoid: tuple[str, ...] = ()  # opening/closing lines must not say these (complaints, restated needs)

    def raises(self, line: str) -> bool:
        """Whether a line raises the current objection so that its target rules apply."""
        if self.objection is None or not self.objection.raised_by(line):
            return False
        return not self.triggers or any(re.search(p, line) for p in self.triggers)

    def neutral(self, line: str) -> bool:
        return not any(re.search(p, line) for p in self.avoid)


class RetrievalCustomer:
    """Draws real customer turns from the pool; falls back to the catalogue's written lines when none fits."""

    def __init__(self, pool: CustomerTurnPool, vectors: VectorCache, catalog: Catalog) -> None:
        self.pool = pool
        self.vectors = vectors
        self.catalog = catalog

    def _keep(self, situation: Situation) -> tuple[tuple[str, str], Callable[[CustomerLine], bool]]:
        scenario = situation.scenario
        hidden = [self.catalog.objection(o.id) for o in scenario.objections]
        business = scenario.business_scenario
        intent, objection = situation.intent, situation.objection

        def fresh(line: CustomerLine) -> bool:
            return normalise(line.text) not in situation.used and len(normalise(line.text)) >= 2

        def keep(line: CustomerLine) -> bool:
            if not fresh(line):
                return False
            if intent in (TurnIntent.OBJECTION, TurnIntent.PRESS) and objection is not None:
                return situation.raises(line.text) and situation.neutral(line.text)
            if any(o.raised_by(line.text) for o in hidden) or line.scenario != business:
                return False
            if not situation.neutral(line.text):
                return False
            if intent is TurnIntent.OPENING:
                return line.opening and len(line.text) >= 4
            return line.closing

        query = (
            situation.agent_reply or scenario.goal,
            objection.concern.pick(scenario.language) if objection is not None else "",
        )
        return query, keep

    def line(self, situation: Situation) -> PracticeTurn:
        """The next customer turn, retrieved (source "retrieval") or written (source "script")."""
        query, keep = self._keep(situation)
        found = self.pool.rank(self.vectors.blend(*query), keep, limit=TOP_K)
        index = len(situation.transcript)
        objection_id = situation.objection.id if situation.objection is not None else None
        if found:
            line, _ = random.Random(situation.seed).choice(found)
            return PracticeTurn(
                index=index,
                role="customer",
                text=line.text,
                intent=situation.intent,
                objection=objection_id,
                source="retrieval",
                origin=line.conversation_id,
            )
        return PracticeTurn(
            index=index,
            role="customer",
            text=self._written(situation),
            intent=situation.intent,
            objection=objection_id,
            source="script",
        )

    def _written(self, situation: Situation) -> str:
        language = situation.scenario.language
        objection = situation.objection
        if situation.intent is TurnIntent.OPENING:
            options = self.catalog.defaults(situation.scenario.business_scenario).opening.pick(language)
        elif situation.intent is TurnIntent.CLOSING:
            options = self.catalog.closing.pick(language)
        elif objection is not None and situation.intent is TurnIntent.PRESS:
            options = objection.press.pick(language) + objection.variants.pick(language)
        elif objection is not None:
            options = objection.variants.pick(language) + objection.press.pick(language)
        else:
            options = [situation.scenario.goal]
        asked = situation.intent in (TurnIntent.OBJECTION, TurnIntent.PRESS)
        fitting = [o for o in options if situation.raises(o)] if asked else options
        for option in fitting or options:
            if normalise(option) not in situation.used:
                return option
        # Every written line was used already: ask again in so many words, which is still a new line.
        again = "我再问一遍：" if language == "zh" else "Let me ask again: "
        for count in range(2, 20):
            candidate = f"{again * (count - 1)}{options[0]}"
            if normalise(candidate) not in situation.used:
                return candidate
        return f"{again}{options[0]} ({len(situation.transcript)})"


class LlmCustomer:
    """A chat model playing the persona; every line is checked before it is said."""

    def __init__(self, model: BaseChatModel, prompt: Prompt, catalog: Catalog) -> None:
        self.model = model
        self.prompt = prompt
        self.catalog = catalog

    def _messages(self, situation: Situation) -> list[SystemMessage | HumanMessage]:
        scenario, language = situation.scenario, situation.scenario.language
        persona = scenario.persona
        objection = situation.objection
        transcript = "\n".join(
            f"{'客户' if t.role == 'customer' else '坐席'}: {json.dumps(t.text, ensure_ascii=False)}"
            if language == "zh"
            else f"{t.role}: {json.dumps(t.text, ensure_ascii=False)}"
            for t in situation.transcript
        )
        system, user = self.prompt.render(
            age=str(persona.age),
            occupation=persona.occupation,
            risk_tolerance=persona.risk_tolerance,
            liquidity_need=persona.liquidity_need,
            mood=persona.mood.value,
            goal=scenario.goal,
            objections="\n".join(f"- {o.concern}" for o in scenario.objections),
            intent=situation.intent.value,
            concern=objection.concern.pick(language) if objection is not None else "",
            transcript=transcript or "(empty)",
        )
        return [SystemMessage(content=system), HumanMessage(content=user)]

    def line(self, situation: Situation) -> tuple[str | None, str | None]:
        """(line, None) when the model's line is in character, else (None, why it was refused)."""
        try:
            reply = self.model.invoke(self._messages(situation))
        except Exception as exc:  # a model or network failure falls back to retrieval, said in the turn
            return None, f"model error: {type(exc).__name__}"
        text = _extract_line(str(reply.content))
        return self.check(text, situation)

    def check(self, text: str, situation: Situation) -> tuple[str | None, str | None]:
        """Refuse empty, overlong, repeated, agent-voiced or echoing lines, and objections not actually raised."""
        language = situation.scenario.language
        if not text:
            return None, "empty line"
        if len(text) > MAX_LLM_LINE:
            return None, f"line longer than {MAX_LLM_LINE} characters"
        if normalise(text) in situation.used:
            return None, "repeats an earlier customer line"
        voice = self.catalog.sounds_like_agent(text, language)
        if voice is not None:
            return None, f"out of character (agent's voice: {voice})"
        if situation.agent_reply and fuzz.ratio(text, situation.agent_reply) >= ECHO_SIMILARITY:
            return None, "out of character (echoes the agent's reply)"
        objection = situation.objection
        asked = situation.intent in (TurnIntent.OBJECTION, TurnIntent.PRESS)
        if asked and objection is not None and not situation.raises(text):
            return None, f"does not raise the objection {objection.id}"
        return text, None


def _extract_line(content: str) -> str:
    """The customer line from a JSON reply {"line": …}, or the plain text."""
    content = content.strip()
    if content.startswith("```"):
        content = content.strip("`").removeprefix("json").strip()
    if content.startswith("{"):
        try:
            parsed = json.loads(content)
        except json.JSONDecodeError:
            return ""
        line = parsed.get("line") if isinstance(parsed, dict) else None
        return line.strip() if isinstance(line, str) else ""
    return content.strip().strip('"“”')


class CustomerSimulator:
    """The LLM customer when one is configured, the retrieval customer otherwise or when the model's line fails."""

    def __init__(self, retrieval: RetrievalCustomer, llm: LlmCustomer | None = None) -> None:
        self.retrieval = retrieval
        self.llm = llm

    def line(self, situation: Situation) -> PracticeTurn:
        rejected: list[str] = []
        if self.llm is not None:
            text, reason = self.llm.line(situation)
            if text is not None:
                return PracticeTurn(
                    index=len(situation.transcript),
                    role="customer",
                    text=text,
                    intent=situation.intent,
                    objection=situation.objection.id if situation.objection else None,
                    source="llm",
                )
            rejected.append(reason or "refused")
        turn = self.retrieval.line(situation)
        return turn.model_copy(update={"rejected": rejected}) if rejected else turn
