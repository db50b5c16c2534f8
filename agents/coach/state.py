"""Typed state of a practice session."""

from __future__ import annotations

from operator import add
from typing import Annotated, Literal, NotRequired, TypedDict

from agents.coach.models import Debrief, PersonaState, PracticeTurn, ReplyFeedback, Scenario
from tools.coaching.models import AgentOrg, WeaknessProfile


class CoachInput(TypedDict):
    session_id: str
    agent: AgentOrg
    started_by: str
    profile: WeaknessProfile
    rules: list[str]  # a coach's choice (empty: the agent's weakest rules)
    codes: list[str]
    language: Literal["zh", "en"]


class AgentMove(TypedDict):
    """What resumes a session waiting for the agent: a reply, or the request to end."""

    reply: NotRequired[str]
    end: NotRequired[bool]


class CoachState(CoachInput, total=False):
    scenario: Scenario
    persona: PersonaState
    transcript: Annotated[list[PracticeTurn], add]
    feedback: Annotated[list[ReplyFeedback], add]
    failing: list[str]  # rules failing in the transcript so far
    end_requested: bool
    debrief: Debrief
    recorded: bool
