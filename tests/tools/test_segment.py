"""Segmentation over the memory-mapped trie: jieba's tokens exactly, one small shared copy of the dictionary."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import jieba
import pytest

from knowledge.samples import SAMPLE_CONVERSATIONS
from tools.segment import CompactTokenizer, tokenizer

OWN_SETS = Path(__file__).resolve().parents[2] / "knowledge" / "conversations"


def _turn_texts() -> list[str]:
    texts: list[str] = []
    for path in [SAMPLE_CONVERSATIONS, *sorted(OWN_SETS.glob("*.jsonl"))]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts += [turn["text"] for turn in json.loads(line)["turns"]]
    return texts


@pytest.mark.slow
def test_the_tokens_are_jiebas_own_on_every_labelled_turn() -> None:
    texts = _turn_texts()
    assert len(texts) > 10_000
    reference = jieba.Tokenizer()
    jieba.setLogLevel(logging.WARNING)
    reference.initialize()
    compact = tokenizer()
    assert [compact.lcut(t) for t in texts] == [reference.lcut(t) for t in texts]
    assert [compact.lcut_for_search(t) for t in texts] == [reference.lcut_for_search(t) for t in texts]
    # words jieba does not know go through its HMM the same way
    assert compact.lcut("客户说那个理财嘎哈玩意儿贼拉坑") == reference.lcut("客户说那个理财嘎哈玩意儿贼拉坑")


def test_the_shared_dictionary_is_read_only() -> None:
    compact = tokenizer()
    assert isinstance(compact, CompactTokenizer)
    with pytest.raises(TypeError, match="read-only"):
        compact.add_word("智检")
    assert "理财" in compact.FREQ and compact.FREQ["理财"] > 0
    assert compact.FREQ.get("理") is not None  # a prefix of a word is in jieba's dictionary with count 0


def test_the_cache_is_built_once_and_a_damaged_one_built_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIJIAN_CACHE_DIR", str(tmp_path))
    sentence = "这个产品保本保息"
    assert tokenizer.__wrapped__().lcut(sentence) == tokenizer().lcut(sentence)
    counts, words = sorted(tmp_path.iterdir())
    assert (counts.suffix, words.suffix) == (".counts", ".marisa")
    built = words.stat().st_mtime_ns
    assert tokenizer.__wrapped__().lcut(sentence) == tokenizer().lcut(sentence)
    assert words.stat().st_mtime_ns == built  # mapped, not built again
    counts.write_bytes(counts.read_bytes()[:-4])  # cut short, e.g. by a full disk
    assert tokenizer.__wrapped__().lcut(sentence) == tokenizer().lcut(sentence)
    words.write_bytes(b"not a trie")
    assert tokenizer.__wrapped__().lcut(sentence) == tokenizer().lcut(sentence)
