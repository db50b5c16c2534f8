from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from core.errors import RulePackError
from core.models import Dimension
from core.scorecard import Scorecard
from core.settings import PACKAGED_RULE_PACK
from core.taxonomy import CATEGORIES
from knowledge import rulepacks
from knowledge.rulepacks import parse_scorecard, verify_examples
from tools.rules import RuleEngine
from tools.sentiment import DistressScorer


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


def test_version_changes_when_a_lexicon_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = PACKAGED_RULE_PACK.read_text(encoding="utf-8")
    before = parse_scorecard(text).version
    assert parse_scorecard(text).version == before  # deterministic
    copy = tmp_path / "lexicons"
    shutil.copytree(rulepacks.LEXICONS, copy)
    scope = copy / "scope_zh.yaml"
    scope.write_text(scope.read_text(encoding="utf-8").replace("negation_reach: 4", "negation_reach: 5"), "utf-8")
    monkeypatch.setattr(rulepacks, "LEXICONS", copy)
    rulepacks.logic_fingerprint.cache_clear()
    try:
        after = parse_scorecard(text).version
    finally:
        rulepacks.logic_fingerprint.cache_clear()
    assert after.split("+")[0] == before.split("+")[0]
    assert after != before


def _with_lying_example() -> str:
    document = yaml.safe_load(PACKAGED_RULE_PACK.read_text(encoding="utf-8"))
    rule = next(r for r in document["rules"] if r["id"] == "WS-NO-GUARANTEE")
    rule["examples"].append({"expect": "fail", "transcript": "坐席：这款产品不保本，有亏损的可能。"})
    return yaml.safe_dump(document, allow_unicode=True)


def test_verify_examples_names_each_example_whose_verdict_differs(scorer: DistressScorer) -> None:
    card = parse_scorecard(_with_lying_example())  # accepted without verification
    failures = verify_examples(card, RuleEngine(card, scorer))
    assert len(failures) == 1
    assert "WS-NO-GUARANTEE" in failures[0] and "expected fail" in failures[0] and "got pass" in failures[0]


def test_parse_with_verify_rejects_a_pack_whose_example_lies() -> None:
    with pytest.raises(RulePackError, match=r"1 rule example.*WS-NO-GUARANTEE example \d+ \(坐席：这款产品不保本"):
        parse_scorecard(_with_lying_example(), verify=True)
    assert parse_scorecard(PACKAGED_RULE_PACK.read_text(encoding="utf-8"), verify=True).rules


def test_semantic_rules_have_narrow_triggers(scorecard: Scorecard) -> None:
    for rule in scorecard.rules:
        if rule.check.type != "semantic":
            continue
        when = rule.check.when
        assert when is not None, f"{rule.id}: a semantic rule without a trigger sends every call to the LLM"
        for pattern in when.patterns:
            assert "？" not in pattern and "\\?" not in pattern, f"{rule.id}: a question mark is no trigger ({pattern})"


def test_a_pack_nested_hundreds_of_thousands_deep_is_a_clear_error_not_a_crash() -> None:
    # libyaml's loader (used for the packaged files, for speed) dies with a segmentation fault on this; a pack
    # that is not the packaged one is read with the pure-Python loader, whose RecursionError becomes the error.
    hostile = "[" * 200_000 + "]" * 200_000
    with pytest.raises(RulePackError, match="nested too deeply"):
        parse_scorecard(hostile, source="upload")
