"""A remediation ticket's life as a small state machine, with who may make each move.

    open ──acknowledge──▶ acknowledged ──submit_remediation──▶ remediation_submitted ──resolve──▶ resolved
      │  ╲                     │                                   │                 ╲──dismiss──▶ dismissed
      │   ╲──start──▶ in_progress ──submit_remediation──▶ ┘        └──reopen──▶ open
      └──resolve / dismiss (from any open state)          resolved / dismissed ──reopen──▶ open

An agent acknowledges, comments on and submits a remediation note for their own tickets (the read scope already
limits an agent to their own); QA leads and reviewers take a ticket up, resolve, dismiss and reopen it; coaches
only read; admins may do everything.
"""

from __future__ import annotations

from enum import StrEnum

from core.access import AccessRole
from core.errors import ZhijianError
from core.models import TicketStatus


class TicketMove(StrEnum):
    """A named change to a ticket."""

    ACKNOWLEDGE = "acknowledge"
    START = "start"
    SUBMIT_REMEDIATION = "submit_remediation"
    RESOLVE = "resolve"
    DISMISS = "dismiss"
    REOPEN = "reopen"
    COMMENT = "comment"


_S = TicketStatus
_ACTIVE = (_S.OPEN, _S.ACKNOWLEDGED, _S.IN_PROGRESS, _S.REMEDIATION_SUBMITTED)

TRANSITIONS: dict[tuple[TicketStatus, TicketStatus], TicketMove] = {
    (_S.OPEN, _S.ACKNOWLEDGED): TicketMove.ACKNOWLEDGE,
    (_S.OPEN, _S.IN_PROGRESS): TicketMove.START,
    (_S.ACKNOWLEDGED, _S.IN_PROGRESS): TicketMove.START,
    (_S.ACKNOWLEDGED, _S.REMEDIATION_SUBMITTED): TicketMove.SUBMIT_REMEDIATION,
    (_S.IN_PROGRESS, _S.REMEDIATION_SUBMITTED): TicketMove.SUBMIT_REMEDIATION,
    **{(state, _S.RESOLVED): TicketMove.RESOLVE for state in _ACTIVE},
    **{(state, _S.DISMISSED): TicketMove.DISMISS for state in _ACTIVE},
    (_S.REMEDIATION_SUBMITTED, _S.OPEN): TicketMove.REOPEN,
    (_S.RESOLVED, _S.OPEN): TicketMove.REOPEN,
    (_S.DISMISSED, _S.OPEN): TicketMove.REOPEN,
}
"""(from, to) → the move it is; a pair not listed is not a move at all."""

_R = AccessRole
_SUPERVISORS = frozenset({_R.ADMIN, _R.QA_LEAD, _R.REVIEWER})

MAY: dict[TicketMove, frozenset[AccessRole]] = {
    TicketMove.ACKNOWLEDGE: _SUPERVISORS | {_R.AGENT},
    TicketMove.START: _SUPERVISORS,
    TicketMove.SUBMIT_REMEDIATION: frozenset({_R.ADMIN, _R.AGENT}),
    TicketMove.RESOLVE: _SUPERVISORS,
    TicketMove.DISMISS: _SUPERVISORS,
    TicketMove.REOPEN: _SUPERVISORS,
    TicketMove.COMMENT: _SUPERVISORS | {_R.AGENT},
}
"""Which roles may make each move."""


class TicketMoveError(ZhijianError):
    """A ticket change that cannot be made."""


class NotAMove(TicketMoveError):
    """No transition leads from the ticket's status to the requested one (a conflict with its state)."""


class MoveForbidden(TicketMoveError):
    """The transition exists but the caller's role may not make it."""


class NoteRequired(TicketMoveError):
    """Submitting a remediation without saying what was done."""


def plan_change(
    current: TicketStatus, target: TicketStatus | None, role: AccessRole, *, comment: str | None
) -> list[TicketMove]:
    """The moves a change amounts to (a status change and/or a comment), refused with a specific error when
    the state machine has no such transition or the role may not make it."""
    moves: list[TicketMove] = []
    if target is not None and target is not current:
        move = TRANSITIONS.get((current, target))
        if move is None:
            reachable = sorted(to.value for (start, to) in TRANSITIONS if start is current)
            raise NotAMove(
                f"a {current.value} ticket cannot become {target.value}; "
                f"it can become: {', '.join(reachable) or 'nothing'}"
            )
        if move is TicketMove.SUBMIT_REMEDIATION and not (comment and comment.strip()):
            raise NoteRequired("submitting a remediation needs a comment saying what was done")
        moves.append(move)
    if comment:
        moves.append(TicketMove.COMMENT)
    for move in moves:
        if role not in MAY[move]:
            detail = f" ({current.value} → {target.value})" if move is not TicketMove.COMMENT and target else ""
            raise MoveForbidden(f"role {role.value} may not {move.value.replace('_', ' ')} a ticket{detail}")
    return moves
