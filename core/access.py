"""Who may do what: principals (people or pipeline keys), roles, and the org subtree they may see.

Tenant → head office → branch → sub-branch → team → agent. A principal's scope fixes a prefix of
that path; an agent sees only their own conversations. Every read and write is checked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AccessRole(StrEnum):
    ADMIN = "admin"
    QA_LEAD = "qa_lead"
    REVIEWER = "reviewer"
    COACH = "coach"
    AGENT = "agent"


class Action(StrEnum):
    EVALUATE = "evaluate"  # POST /evaluate, POST /jobs
    READ = "read"  # conversations, evaluations, tickets, jobs
    UPDATE_TICKET = "update_ticket"
    MANAGE_SCORECARDS = "manage_scorecards"
    READ_SCORECARDS = "read_scorecards"
    SEARCH_REGULATIONS = "search_regulations"


PERMISSIONS: dict[AccessRole, frozenset[Action]] = {
    AccessRole.ADMIN: frozenset(Action),
    AccessRole.QA_LEAD: frozenset(
        {Action.EVALUATE, Action.READ, Action.UPDATE_TICKET, Action.READ_SCORECARDS, Action.SEARCH_REGULATIONS}
    ),
    AccessRole.REVIEWER: frozenset(
        {Action.READ, Action.UPDATE_TICKET, Action.READ_SCORECARDS, Action.SEARCH_REGULATIONS}
    ),
    AccessRole.COACH: frozenset({Action.READ, Action.READ_SCORECARDS, Action.SEARCH_REGULATIONS}),
    AccessRole.AGENT: frozenset({Action.READ, Action.UPDATE_TICKET, Action.SEARCH_REGULATIONS}),
}

ORG_LEVELS = ("head_office", "branch", "sub_branch", "team")


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a person (token) or a pipeline (API key)."""

    subject: str
    tenant: str
    role: AccessRole
    head_office: str | None = None
    branch: str | None = None
    sub_branch: str | None = None
    team: str | None = None
    agent_id: str | None = None

    def can(self, action: Action) -> bool:
        return action in PERMISSIONS[self.role]

    def scope(self) -> dict[str, str]:
        """The org levels this principal is fixed to (empty: the whole tenant)."""
        return {level: value for level in ORG_LEVELS if (value := getattr(self, level)) is not None}

    def sees(self, *, tenant: str, agent_id: str | None, **org: str | None) -> bool:
        """Whether a record of this tenant, org path and agent is within reach."""
        if tenant != self.tenant:
            return False
        if self.role is AccessRole.AGENT and (self.agent_id is None or agent_id != self.agent_id):
            return False
        return all(org.get(level) == value for level, value in self.scope().items())
