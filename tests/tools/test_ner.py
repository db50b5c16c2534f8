from __future__ import annotations

from tools.ner import EntityTagger, default_tagger


def test_words_cover_the_text_with_offsets() -> None:
    text = "我叫王建国,住在上海市长宁区仙霞路318号。"
    words = default_tagger().words(text)
    assert "".join(w.text for w in words) == text
    assert all(text[w.start : w.end] == w.text for w in words)
    assert default_tagger().words("") == []


def test_person_and_place_entities() -> None:
    entities = default_tagger().entities("您好,我是安和银行的陈静,请问是周志强先生吗?我住在上海市长宁区。")
    assert {(e.label, e.text) for e in entities} >= {("PER", "陈静"), ("PER", "周志强"), ("LOC", "上海市")}
    assert any(e.label == "ORG" and "安和银行" in e.text for e in entities)


def test_default_tagger_is_loaded_once() -> None:
    assert default_tagger() is default_tagger()
    assert isinstance(default_tagger(), EntityTagger)
