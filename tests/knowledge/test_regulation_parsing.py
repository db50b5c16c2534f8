from __future__ import annotations

from pathlib import Path

import pytest

from core.scorecard import Scorecard
from knowledge.regulations.parse import (
    CorpusError,
    chunk_article,
    clause_ids,
    load_catalog,
    parse_articles,
)


def test_corpus_parses_into_numbered_articles_with_chapters() -> None:
    regulations = load_catalog()
    assert len(regulations) == 15
    bank = next(r for r in regulations if r.short == "商业银行法")
    articles = parse_articles(bank)
    assert [a.number for a in articles] == list(range(1, 96))
    art29 = articles[28]
    assert art29.clause_id == "商业银行法-第29条" and art29.label == "第二十九条"
    assert art29.chapter == "第三章 对存款人的保护"
    assert art29.text.startswith("商业银行办理个人储蓄存款业务") and "为存款人保密" in art29.text
    securities = next(r for r in regulations if r.short == "证券法")
    art135 = next(a for a in parse_articles(securities) if a.number == 135)
    assert art135.section == "第二节 证券公司的业务规则" or art135.chapter.startswith("第八章")


def test_long_articles_split_on_paragraphs_keeping_the_article_id() -> None:
    regulations = load_catalog()
    longest = max((a for r in regulations for a in parse_articles(r)), key=lambda a: len(a.text))
    chunks = chunk_article(longest, max_chars=200)
    assert len(chunks) > 1
    assert {c.article.clause_id for c in chunks} == {longest.clause_id}
    assert [c.chunk_id for c in chunks] == [f"{longest.clause_id}#{i}" for i in range(1, len(chunks) + 1)]
    assert "\n".join(c.text for c in chunks) == longest.text  # nothing lost, nothing repeated
    assert all(c.embed_text.startswith(longest.regulation.short) for c in chunks)
    short = parse_articles(regulations[0])[0]
    assert [c.chunk_id for c in chunk_article(short)] == [short.clause_id]


def test_every_clause_a_rule_cites_exists_in_the_corpus(scorecard: Scorecard) -> None:
    known = clause_ids(load_catalog())
    cited = {(r.id, ref) for r in scorecard.rules for ref in r.regulation_refs}
    assert cited, "the starter pack cites regulations"
    missing = sorted(f"{rule}: {ref}" for rule, ref in cited if ref not in known)
    assert missing == []


def test_a_file_missing_from_the_catalog_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "未登记的办法(2020-01-01).md").write_text("# 未登记的办法\n\n第一条 测试。\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no entry"):
        load_catalog(tmp_path)
    with pytest.raises(CorpusError, match="not found"):
        load_catalog(tmp_path / "nope")
