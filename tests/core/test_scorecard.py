from __future__ import annotations

import pytest
import yaml

from core.errors import RulePackError
from core.settings import PACKAGED_RULE_PACK
from knowledge.rulepacks import parse_scorecard


def _pack() -> dict[str, object]:
    return yaml.safe_load(PACKAGED_RULE_PACK.read_text(encoding="utf-8"))


def _dump(document: dict[str, object]) -> str:
    return yaml.safe_dump(document, allow_unicode=True)


def test_version_carries_content_hash() -> None:
    document = _pack()
    first = parse_scorecard(_dump(document))
    document["rules"][0]["deduction"] = 21  # type: ignore[index]
    second = parse_scorecard(_dump(document))
    assert first.version.split("+")[0] == second.version.split("+")[0]
    assert first.version != second.version


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["rules"][0].update(code="Z99"),
            r"rules\.0\(ID-VERIFY-BEFORE-DISCLOSE\)\.code.*unknown category",
        ),
        (
            lambda d: d["rules"][0]["check"].update(type="telepathy"),
            r"rules\.0\(ID-VERIFY-BEFORE-DISCLOSE\)\.check",
        ),
        (lambda d: d["rules"][2]["check"].update(patterns=["(unclosed"]), r"invalid regular expression"),
        (
            lambda d: d["rules"][0].update(examples=d["rules"][0]["examples"][1:3]),
            r"needs at least one failing",
        ),
        (lambda d: d["dimensions"]["compliance"].update(weight=0.9), r"weights must add up to 1"),
        (lambda d: d["rules"].append(dict(d["rules"][0])), r"duplicate rule id"),
    ],
)
def test_bad_rule_pack_names_the_field(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    document = _pack()
    mutate(document)
    with pytest.raises(RulePackError, match=message):
        parse_scorecard(_dump(document))


def test_not_yaml_is_a_clear_error() -> None:
    with pytest.raises(RulePackError, match="not valid YAML"):
        parse_scorecard("rules: [unclosed")


@pytest.mark.parametrize("pattern", ["(?<![五5])十万", "保本(?!吗)", r"(保)\1"])
def test_pattern_the_linear_engine_cannot_run_is_rejected_naming_rule_and_pattern(pattern: str) -> None:
    document = _pack()
    number = [r["id"] for r in document["rules"]].index("WS-NO-GUARANTEE")  # type: ignore[attr-defined]
    document["rules"][number]["check"]["patterns"] = ["保本", pattern]  # type: ignore[index]
    with pytest.raises(RulePackError, match=rf"rules\.{number}\(WS-NO-GUARANTEE\).*RE2") as caught:
        parse_scorecard(_dump(document))
    assert repr(pattern) in str(caught.value)


def test_catastrophic_pattern_from_a_pack_runs_in_linear_time() -> None:
    from tools.rules.matching import compiled

    # '(哈+)+$' freezes a backtracking engine on '哈'*40 + '！'; RE2 answers at once (and is case-insensitive).
    assert compiled("(哈+)+$").search("哈" * 40 + "！") is None
    assert compiled("cvv").search("请提供CVV码") is not None


def test_check_defaults_are_data() -> None:
    from core.scorecard import ConsistencyCheck, DistressCheck, TimingCheck, check_defaults

    defaults = check_defaults()
    assert DistressCheck().acknowledge == defaults["distress"]["acknowledge"]
    assert TimingCheck(metric="silence", threshold=20).announce == defaults["timing"]["announce"]
    assert ConsistencyCheck().question == defaults["consistency"]["question"]
