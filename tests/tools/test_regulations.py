from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tools.regulations import RegulationFilter, SearchMode, regulation_search_tool, search_regulations
from tools.sparse import SparseEncoder


@pytest.mark.parametrize("mode", list(SearchMode))
def test_each_mode_finds_the_deposit_insurance_limit(regulation_index: Any, mode: SearchMode) -> None:
    hits = regulation_index.search("存款保险最高偿付限额是多少", k=5, mode=mode)
    assert "存款保险条例-第5条" in [h.clause_id for h in hits]
    assert all(h.source == "retrieval" and h.score is not None for h in hits)


def test_filters_narrow_by_regulation_scenario_and_date(regulation_index: Any) -> None:
    only = search_regulations(regulation_index, "消费者个人信息", k=5, regulations=["侵害消费者权益行为处罚办法"])
    assert only and all(h.clause_id.startswith("侵害消费者权益行为处罚办法-") for h in only)
    # 存款保险条例 is catalogued for wealth_sales/telemarketing/service, not for collection calls.
    collection = regulation_index.search("存款保险", k=10, filters=RegulationFilter(scenario="collection"))
    assert collection and not any(h.clause_id.startswith("存款保险条例") for h in collection)
    before = regulation_index.search("存款保险", k=10, filters=RegulationFilter(effective_on=date(2015, 1, 31)))
    assert {h.clause_id.split("-")[0] for h in before} == {"侵害消费者权益行为处罚办法"}  # in force since 2015-01-05


def test_clause_lookup_returns_whole_articles_in_order_and_skips_unknown_ids(regulation_index: Any) -> None:
    found = regulation_index.clauses(["存款保险条例-第5条", "不存在-第1条", "存款保险条例-第4条"])
    assert [c.clause_id for c in found] == ["存款保险条例-第5条", "存款保险条例-第4条"]
    assert found[0].source == "rule" and "最高偿付限额为人民币50万元" in found[0].text
    assert found[0].title == "存款保险条例" and found[0].article == "第五条"


def test_langchain_tool_wraps_the_same_search(regulation_index: Any) -> None:
    tool = regulation_search_tool(regulation_index)
    assert tool.name == "search_regulations" and "k" in tool.args
    text = tool.invoke({"query": "存款保险最多赔多少", "k": 2})
    assert "存款保险条例-第5条" in text


def test_sparse_encoder_is_stable_and_drops_stopwords() -> None:
    encoder = SparseEncoder()
    assert "的" not in encoder.tokens("存款保险的限额")
    ids, values = encoder.encode_document("存款保险 存款保险 限额")
    assert ids == sorted(ids) and all(v > 0 for v in values)
    assert encoder.encode_query("存款保险限额") == encoder.encode_query("存款保险限额")
