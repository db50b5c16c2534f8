"""Errors of the insight analyses, with messages a QA lead can act on."""

from __future__ import annotations

from core.errors import ZhijianError


class SubjectNotFound(ZhijianError):
    """The agent, team or branch asked about has no evaluated calls within the caller's scope."""
