from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.models import Conversation, Role


def _record(**overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "id": "c1",
        "turns": [{"role": "agent", "text": "您好"}, {"role": "customer", "text": "你好"}],
    }
    record.update(overrides)
    return record


def test_turns_are_numbered_in_order_and_role_aliases_accepted() -> None:
    conv = Conversation.model_validate(
        _record(turns=[{"role": "坐席", "text": " 您好 "}, {"role": "客户", "text": "在"}])
    )
    assert [t.index for t in conv.turns] == [0, 1]
    assert [t.role for t in conv.turns] == [Role.AGENT, Role.CUSTOMER]
    assert conv.turns[0].text == "您好"


def test_unknown_keys_ignored_but_bad_values_rejected() -> None:
    assert Conversation.model_validate(_record(labels=[{"code": "C01"}])).id == "c1"
    with pytest.raises(ValidationError, match=r"turns\.0\.role"):
        Conversation.model_validate(_record(turns=[{"role": "robot", "text": "hi"}]))
    with pytest.raises(ValidationError, match="before start"):
        Conversation.model_validate(_record(turns=[{"role": "agent", "text": "hi", "start": 5, "end": 2}]))
    with pytest.raises(ValidationError, match="turns"):
        Conversation.model_validate(_record(turns=[]))


def test_content_hash_tracks_content_not_notes() -> None:
    a = Conversation.model_validate(_record())
    b = Conversation.model_validate(_record(notes=["roles inferred"]))
    c = Conversation.model_validate(_record(turns=[{"role": "agent", "text": "您好！"}]))
    assert a.content_hash() == b.content_hash()
    assert a.content_hash() != c.content_hash()


def test_timed_only_when_every_turn_has_times() -> None:
    timed = Conversation.model_validate(_record(turns=[{"role": "agent", "text": "a", "start": 0, "end": 1}]))
    untimed = Conversation.model_validate(
        _record(turns=[{"role": "agent", "text": "a", "start": 0, "end": 1}, {"role": "customer", "text": "b"}])
    )
    assert timed.timed and not untimed.timed
