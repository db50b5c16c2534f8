"""Builds a QM run's context and checkpointer from settings; used by the CLI, the API and benchmarks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver

from agents.qm.context import QMContext
from core.settings import Settings
from core.store import Store
from knowledge.rulepacks import load_scorecard
from tools.rules import RuleEngine
from tools.sentiment import DistressScorer
from tools.tickets import TicketPolicy


def build_qm_context(
    settings: Settings, *, store: Store | None, scorer: DistressScorer | None = None
) -> QMContext:
    """Load the configured rule pack and build the engine once; pass the result to every run."""
    scorecard = load_scorecard(settings.rule_pack)
    return QMContext(
        scorecard=scorecard,
        engine=RuleEngine(scorecard, scorer or DistressScorer()),
        ticket_policy=TicketPolicy(scorecard.thresholds, dict(settings.ticket_due_days)),
        store=store,
    )


def open_sqlite_checkpointer(path: Path) -> SqliteSaver:
    """LangGraph's SQLite saver on a file (created with its folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteSaver(sqlite3.connect(str(path), check_same_thread=False))
