"""Regression guard on the bundled labelled sample corpus (figures are reported by benchmarks/accuracy.py)."""

from __future__ import annotations

from agents.qm.context import QMContext
from core.models import Conversation
from graphs.qm import build_graph, evaluate_conversation
from knowledge.samples import SAMPLE_CONVERSATIONS, load_expected_codes
from tools.accuracy import CodeCounts
from tools.transcripts import read_path


def test_rule_tier_precision_and_recall_on_the_sample_corpus(qm_context: QMContext) -> None:
    conversations = list(read_path(SAMPLE_CONVERSATIONS, max_bytes=10**7))
    assert len(conversations) == 30 and all(isinstance(c, Conversation) for c in conversations)
    expected = load_expected_codes()
    dry = QMContext(**{**qm_context.__dict__, "store": None})
    graph = build_graph()
    counts = CodeCounts()
    for conversation in conversations:
        assert isinstance(conversation, Conversation)
        evaluation = evaluate_conversation(graph, dry, conversation)["evaluation"]
        counts.add(expected[conversation.id], {f.code for f in evaluation.failed})
    precision, recall = counts.precision(), counts.recall()
    assert precision is not None and recall is not None
    assert precision >= 0.85, counts.table("sample corpus")
    assert recall >= 0.85, counts.table("sample corpus")
    clean = [cid for cid, codes in expected.items() if not codes]
    assert len(clean) >= 8  # the corpus keeps its clean and near-miss calls
