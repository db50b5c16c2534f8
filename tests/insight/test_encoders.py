"""Embeddings are cached by text in the store, so the slow model embeds each customer turn once."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.store import create_db_engine
from tools.insight.encoders import CachedEncoder, TfidfEncoder
from tools.insight.needs import CustomerTurn, mine_turns


def test_cache_persists_between_encoders(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'cache.db'}")
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> list[list[float]]:
        calls.append(texts)
        return [[float(len(t)), 1.0, float(i)] for i, t in enumerate(texts)]

    first = CachedEncoder("counting", embed, engine).encode(["利率多少", "能提前还吗", "利率多少"])
    second = CachedEncoder("counting", embed, engine).encode(["能提前还吗", "利率多少"])
    assert calls == [["利率多少", "能提前还吗"]]  # each text once, the repeat and the second encoder from the cache
    assert np.allclose(first[1], second[0]) and np.allclose(first[0], second[1])
    engine.dispose()


def test_topics_are_labelled_and_counted_per_scenario() -> None:
    texts = [
        ("贷款利率是多少？年化利息怎么算？", "loan"),
        ("这个利率能不能再低一点，利息太贵了", "loan"),
        ("贷款的利率和利息有优惠吗", "loan"),
        ("理财会不会亏本？风险大吗？", "wealth_sales"),
        ("我怕亏，风险高的理财我不要", "wealth_sales"),
        ("这个理财的风险等级是多少，会亏吗", "wealth_sales"),
    ] * 3
    turns = [CustomerTurn(f"C{i}", scenario, 1, text) for i, (text, scenario) in enumerate(texts)]
    needs = mine_turns(turns, TfidfEncoder(), max_topics=2)
    assert len(needs.topics) == 2 and sum(t.turns for t in needs.topics) == len(turns)
    by_label = {t.label: t for t in needs.topics}
    loan = next(t for label, t in by_label.items() if "利率" in label or "利息" in label)
    assert set(loan.by_scenario) == {"loan"} and loan.examples
