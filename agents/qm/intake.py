"""Intake: how every conversation enters the QM agent, whichever door it came through.

The content hash is defined here once: of the conversation as received (before normalisation and
redaction), or — for a recording — of the audio bytes and the fields sent with them. The text is then
normalised (NFKC, invisible characters removed, spacing between CJK characters dropped) and PII is
redacted; the vault goes to the store at intake and never travels in graph state or checkpoints.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from core.models import Conversation
from core.store import Store, VaultEntry
from tools.normalize import normalize_text
from tools.redact import redact_conversation


@dataclass(frozen=True)
class Received:
    """A conversation ready for evaluation: normalised, redacted, fingerprinted."""

    conversation: Conversation
    content_hash: str


def recording_hash(audio: bytes, fields: dict[str, Any]) -> str:
    """The content hash of a recording: its bytes plus the metadata fields sent with it."""
    digest = hashlib.sha256(audio)
    digest.update(json.dumps(fields, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))
    return digest.hexdigest()


def normalize_conversation(conversation: Conversation) -> Conversation:
    """The same conversation with every turn's text normalised (a copy only when something changed)."""
    turns = [
        t if (text := normalize_text(t.text)) == t.text else t.model_copy(update={"text": text})
        for t in conversation.turns
    ]
    if all(a is b for a, b in zip(turns, conversation.turns, strict=True)):
        return conversation
    return conversation.model_copy(update={"turns": turns})


def receive(conversation: Conversation, *, store: Store | None, content_hash: str | None = None) -> Received:
    """Fingerprint, normalise and redact a conversation; a vault is stored (encrypted) with the redacted
    conversation right away when there is a store, and dropped otherwise (dry run)."""
    fingerprint = content_hash or conversation.content_hash()
    redacted, vault = redact_conversation(normalize_conversation(conversation))
    entries: list[VaultEntry] = [(token, kind.name, value) for token, (kind, value) in vault.entries.items()]
    if store is not None and entries:  # without PII the conversation is stored with its evaluation
        store.admit(redacted, fingerprint, entries)
    return Received(conversation=redacted, content_hash=fingerprint)
