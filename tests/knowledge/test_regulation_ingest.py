from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from qdrant_client import QdrantClient

from core.settings import PACKAGED_CORPUS
from knowledge.regulations.ingest import ingest_corpus
from tools.regulations import RegulationIndex
from tools.sparse import SparseEncoder

DEPOSIT = "存款保险条例(2015-02-17).md"


def test_reingest_is_a_noop_and_changes_replace_old_chunks(tmp_path: Path, embed_model: Any) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(PACKAGED_CORPUS / DEPOSIT, corpus / DEPOSIT)
    index = RegulationIndex(QdrantClient(path=str(tmp_path / "qdrant")), embed_model, SparseEncoder())

    first = ingest_corpus(index, corpus)
    assert (first.chunks, first.embedded, first.removed) == (23, 23, 0)
    again = ingest_corpus(index, corpus)
    assert (again.embedded, again.unchanged, again.removed) == (0, 23, 0)

    text = (corpus / DEPOSIT).read_text(encoding="utf-8")
    text = text.replace("最高偿付限额为人民币50万元", "最高偿付限额为人民币80万元")
    last = text[text.index("第二十三条") :]
    (corpus / DEPOSIT).write_text(text.replace(last, ""), encoding="utf-8")
    changed = ingest_corpus(index, corpus)
    assert (changed.chunks, changed.embedded, changed.removed) == (22, 1, 1)
    assert index.count() == 22
    [art5] = index.clauses(["存款保险条例-第5条"])
    assert "80万元" in art5.text and index.clauses(["存款保险条例-第23条"]) == []
