from __future__ import annotations

from core.models import Dimension
from core.scorecard import Scorecard
from core.taxonomy import CATEGORIES


def test_starter_pack_covers_the_taxonomy(scorecard: Scorecard) -> None:
    assert len(scorecard.rules) >= 40
    assert {r.code for r in scorecard.rules} == set(CATEGORIES)
    assert {r.effective_dimension for r in scorecard.rules} == set(Dimension)
    scenarios = {s for r in scorecard.rules for s in r.scenarios}
    assert {
        "wealth_sales",
        "callback",
        "collection",
        "complaint",
        "loan",
        "service",
        "telemarketing",
    } <= scenarios


def test_semantic_rules_declared_for_codes_that_need_them(scorecard: Scorecard) -> None:
    semantic = {r.code for r in scorecard.rules if r.check.type == "semantic"}
    assert {"C03", "C04", "C05", "B02", "C10", "S01", "B01", "X02"} <= semantic
