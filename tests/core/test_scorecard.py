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
