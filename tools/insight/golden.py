"""Golden scripts: how agents answer a customer concern in converted calls, contrasted with unconverted ones."""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from pathlib import Path

from core.access import Principal
from core.models import Conversation, Role
from core.store import ConversationRow, Store
from tools.insight.models import GoldenScripts, ScriptExample, Slice
from tools.insight.scope import evaluated
from tools.insight.terms import distinctive_terms, tokens

_CONCERNS_FILE = Path(__file__).resolve().parent / "concerns_zh.txt"


@cache
def concern_words() -> dict[str, tuple[str, ...]]:
    """Known concerns and the words customers use for them."""
    table: dict[str, tuple[str, ...]] = {}
    for line in _CONCERNS_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, words = line.partition(":")
            table[name.strip()] = tuple(words.split())
    return table


def words_for(concern: str) -> tuple[str, ...]:
    """The words that raise a concern: its known synonyms, else the concern and its content tokens."""
    known = concern_words()
    for name, words in known.items():
        if concern == name or concern in words:
            return words
    return tuple(dict.fromkeys([concern, *tokens(concern)]))


def golden_scripts(
    store: Store, principal: Principal, concern: str, *, part: Slice | None = None, limit: int = 3
) -> GoldenScripts:
    """The agent's next reply after a customer turn raising `concern`, in calls with a known outcome: replies
    from converted calls (agents with the best conversion first) vs unconverted ones, with the terms that
    set them apart."""
    words = words_for(concern)
    query = evaluated(
        principal,
        part,
        ConversationRow.external_id,
        ConversationRow.agent_id,
        ConversationRow.converted,
        ConversationRow.payload,
    ).where(ConversationRow.converted.is_not(None))
    with store.session() as s:
        rows = list(s.execute(query.order_by(ConversationRow.external_id)))
    examples: list[ScriptExample] = []
    agent_calls: dict[str | None, list[bool]] = defaultdict(list)
    for conversation_id, agent_id, converted, payload in rows:
        agent_calls[agent_id].append(bool(converted))
        turns = Conversation.model_validate(payload).turns
        for i, t in enumerate(turns):
            if t.role is not Role.CUSTOMER or not any(w in t.text for w in words):
                continue
            reply = next((r for r in turns[i + 1 :] if r.role is Role.AGENT), None)
            if reply is not None:
                examples.append(
                    ScriptExample(
                        conversation_id=conversation_id,
                        agent_id=agent_id,
                        concern_turn=t.index,
                        concern=t.text,
                        reply_turn=reply.index,
                        reply=reply.text,
                        converted=bool(converted),
                    )
                )
                break  # the first time the concern comes up in a call
    rate = {a: sum(v) / len(v) for a, v in agent_calls.items()}
    won = sorted((e for e in examples if e.converted), key=lambda e: (-rate[e.agent_id], e.conversation_id))
    lost = sorted((e for e in examples if not e.converted), key=lambda e: (rate[e.agent_id], e.conversation_id))
    won_terms, lost_terms = (
        distinctive_terms([[e.reply for e in won], [e.reply for e in lost]], top=6) if won and lost else ([], [])
    )
    return GoldenScripts(
        concern=concern,
        n_converted=len(won),
        n_unconverted=len(lost),
        converted=won[:limit],
        unconverted=lost[:limit],
        converted_terms=won_terms,
        unconverted_terms=lost_terms,
    )
